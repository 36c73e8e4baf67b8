import { createHash } from 'node:crypto';
import type { SharedBudget, SharedBudgets } from '../types';
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
    };
  }
}
