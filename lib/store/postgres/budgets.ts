import { createHash } from 'node:crypto';
import type { CallSlot, SharedBudget, SharedBudgets } from '../types';
import { COORDINATION_RETRY_MS, type PgConnection } from './connection';

const LONGEST_NAME = 100;

/** The name as stored: long names become a readable prefix and a hash, so no caller can grow a row without bound. */
export function boundedName(name: string): string {
  if (name.length <= LONGEST_NAME) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 32);
  return `${name.slice(0, LONGEST_NAME - 33)}#${hash}`;
}

function wholeInRange(value: number, min: number, max: number): number {
  return Number.isFinite(value) ? Math.min(max, Math.max(min, Math.floor(value))) : min;
}

/** Sliding-window budgets counted in PostgreSQL, so every instance draws from the same one (flowmon_take_slot). */
export class PostgresBudgets implements SharedBudgets {
  constructor(
    private readonly conn: PgConnection,
    private readonly ready: Promise<void>,
  ) {}

  budget(name: string, max: number, windowMs: number): SharedBudget {
    const values = [boundedName(name), wholeInRange(max, 1, 1_000_000), wholeInRange(windowMs, 1, 86_400_000)];
    return {
      take: async () => {
        await this.ready;
        const result = await this.conn.queryRetrying('SELECT flowmon_take_slot($1, $2, $3) AS wait_ms', values, COORDINATION_RETRY_MS);
        return Number(result.rows[0].wait_ms);
      },
      takeForCall: async (maxCallMs: number): Promise<CallSlot | number> => {
        await this.ready;
        const callMs = wholeInRange(maxCallMs, 1, 3_600_000);
        const result = await this.conn.queryRetrying('SELECT flowmon_take_call_slot($1, $2, $3, $4) AS slot', [...values, callMs], COORDINATION_RETRY_MS);
        const slot = Number(result.rows[0].slot);
        return slot > 0 ? { done: () => this.endCall(slot) } : -slot;
      },
    };
  }

  /** The call ended: its slot counts for one window from now. Should this fail, it counts until its latest end anyway. */
  private endCall(slot: number): void {
    this.conn
      .queryRetrying('UPDATE flowmon_budget_starts SET at = clock_timestamp() WHERE id = $1', [slot], COORDINATION_RETRY_MS)
      .catch(() => undefined);
  }
}
