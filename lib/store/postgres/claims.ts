import type { AddClaim, AddClaims } from '../types';
import { COORDINATION_RETRY_MS, type PgConnection } from './connection';

/** How long a claim holds when its instance never ends it; the releasing instance frees a dead instance's claims sooner. */
export const CLAIM_MS = 30_000;

/** One appliance add per target across instances: a row in flowmon_add_claims, taken by flowmon_claim_add. */
export class PostgresAddClaims implements AddClaims {
  constructor(
    private readonly conn: PgConnection,
    private readonly options: { instanceId: string; ready: Promise<void> },
  ) {}

  async claim(entryId: string): Promise<AddClaim> {
    await this.options.ready;
    const result = await this.conn.queryRetrying('SELECT flowmon_claim_add($1, $2, $3) AS claim', [entryId, this.options.instanceId, CLAIM_MS], COORDINATION_RETRY_MS);
    const claim = result.rows[0].claim as string;
    if (claim === 'claimed' || claim === 'active' || claim === 'busy') return claim;
    throw new Error(`unexpected add claim answer: ${claim.slice(0, 40)}`);
  }

  /** Done: the claim stays 10 s more while the block is recorded; failed: it goes, another instance may add at once. */
  async end(entryId: string, added: boolean): Promise<void> {
    await this.options.ready;
    const text = added
      ? "UPDATE flowmon_add_claims SET until = now() + interval '10 seconds' WHERE id = $1 AND instance = $2"
      : 'DELETE FROM flowmon_add_claims WHERE id = $1 AND instance = $2';
    await this.conn.queryRetrying(text, [entryId, this.options.instanceId], COORDINATION_RETRY_MS);
  }
}
