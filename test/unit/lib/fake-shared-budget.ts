import type { CallSlot, SharedBudget, SharedBudgets } from '../../../lib/store/types';

/**
 * A sliding-window budget as the shared store keeps it, in memory: every SharedBudget it hands out under one name
 * counts against the same window (two instances asking the same store). `failing` makes every take reject, as when
 * the store is unreachable.
 */
export class FakeSharedBudgets implements SharedBudgets {
  readonly takes = new Map<string, { at: number }[]>();
  readonly asked: Array<{ name: string; max: number; windowMs: number }> = [];
  failing = false;

  constructor(private readonly now: () => number = Date.now) {}

  budget(name: string, max: number, windowMs: number): SharedBudget {
    this.asked.push({ name, max, windowMs });
    // A stamp counts until one window after it; a call's slot is stamped at its latest end, then at its real end.
    const slot = async (until: (now: number) => number): Promise<number | { stamp: { at: number } }> => {
      if (this.failing) throw new Error('the shared store (PostgreSQL) cannot be reached');
      const now = this.now();
      const stamps = (this.takes.get(name) ?? []).filter((s) => s.at > now - windowMs);
      this.takes.set(name, stamps);
      if (stamps.length >= max) return Math.min(...stamps.map((s) => s.at)) + windowMs - now;
      const stamp = { at: until(now) };
      stamps.push(stamp);
      return { stamp };
    };
    return {
      take: async () => {
        const got = await slot((now) => now);
        return typeof got === 'number' ? got : 0;
      },
      takeForCall: async (maxCallMs: number): Promise<CallSlot | number> => {
        const got = await slot((now) => now + maxCallMs);
        return typeof got === 'number' ? got : { done: () => void (got.stamp.at = this.now()) };
      },
    };
  }
}
