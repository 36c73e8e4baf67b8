import type { SharedBudget, SharedBudgets } from '../../../lib/store/types';

/**
 * A sliding-window budget as the shared store keeps it, in memory: every SharedBudget it hands out under one name
 * counts against the same window (two instances asking the same store). `failing` makes every take reject, as when
 * the store is unreachable.
 */
export class FakeSharedBudgets implements SharedBudgets {
  readonly takes = new Map<string, number[]>();
  readonly asked: Array<{ name: string; max: number; windowMs: number }> = [];
  failing = false;

  constructor(private readonly now: () => number = Date.now) {}

  budget(name: string, max: number, windowMs: number): SharedBudget {
    this.asked.push({ name, max, windowMs });
    return {
      take: async () => {
        if (this.failing) throw new Error('the shared store (PostgreSQL) cannot be reached');
        const now = this.now();
        const stamps = (this.takes.get(name) ?? []).filter((at) => at > now - windowMs);
        this.takes.set(name, stamps);
        if (stamps.length >= max) return stamps[0] + windowMs - now;
        stamps.push(now);
        return 0;
      },
    };
  }
}
