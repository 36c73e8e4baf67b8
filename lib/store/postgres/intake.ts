/**
 * Accepted-but-unfinished ADS events in PostgreSQL, each owned by the instance that accepted it. An instance that stops
 * renewing its row in flowmon_instances is dead after the lease: the releasing instance takes its events over and
 * finishes them. Nothing is replayed at start (another instance may be finishing them already).
 */
import type { IntakeRecord } from '../../intake/ledger';
import type { IntakeBackend } from '../types';
import { StoreUnavailableError } from '../types';
import type { PgConnection } from './connection';
import { within } from './deadline';
import type { PostgresLeadership } from './leadership';

/** An accepted event must be stored quickly or refused (503): the forwarder spools it and sends it again. */
const PUT_RETRY_MS = 2_000;

const PUT = `INSERT INTO flowmon_intake (id, node, at, owner, event)
  SELECT r.id, r.node, r.at, $2, r.event FROM jsonb_to_recordset($1::jsonb) AS r(id text, node text, at bigint, event jsonb)
  ON CONFLICT (id) DO NOTHING`;
// A dead instance's add claims go first, so that the events taken over do not wait for them to lapse.
const TAKE_OVER = `WITH live AS (SELECT id FROM flowmon_instances WHERE renewed_at > now() - $3 * interval '1 millisecond'),
    freed AS (DELETE FROM flowmon_add_claims WHERE instance NOT IN (SELECT id FROM live))
  UPDATE flowmon_intake SET owner = $1
  WHERE node = ANY($2::text[]) AND owner <> $1
    AND owner NOT IN (SELECT id FROM live)
  RETURNING id, node, at, event`;

interface IntakeRow {
  id: string;
  node: string;
  at: string | number;
  event: IntakeRecord['event'];
}

export interface PostgresIntakeOptions {
  instanceId: string;
  ready: Promise<void>;
  leadership: PostgresLeadership;
  log: { warn(msg: string): void };
}

export class PostgresIntakeBackend implements IntakeBackend {
  readonly shared = true;
  private readonly unsettled = new Set<string>();
  private readonly timers: NodeJS.Timeout[] = [];
  private closed = false;

  constructor(
    private readonly conn: PgConnection,
    private readonly options: PostgresIntakeOptions,
  ) {
    conn.on('available', () => void this.settleLeftovers());
  }

  load(): IntakeRecord[] {
    return [];
  }

  async put(records: IntakeRecord[]): Promise<void> {
    if (records.length === 0) return;
    await within(this.options.ready, PUT_RETRY_MS, () => new StoreUnavailableError());
    const rows = records.map(({ id, node, at, event }) => ({ id, node, at, event }));
    await this.conn.queryRetrying(PUT, [JSON.stringify(rows), this.options.instanceId], PUT_RETRY_MS);
  }

  async settle(id: string): Promise<void> {
    try {
      await this.options.ready;
      await this.conn.queryRetrying('DELETE FROM flowmon_intake WHERE id = $1', [id]);
      this.unsettled.delete(id);
    } catch {
      if (this.closed) return;
      if (this.unsettled.size === 0) this.options.log.warn('intake: settled events cannot be stored yet; kept until the store answers');
      this.unsettled.add(id);
    }
  }

  onTakeover(nodes: () => string[], listener: (records: IntakeRecord[]) => void): void {
    const { leadership } = this.options;
    let busy = false;
    const takeOver = async () => {
      const mine = nodes();
      if (busy || this.closed || !leadership.isLeader || mine.length === 0) return;
      busy = true;
      try {
        const taken = await this.conn.query(TAKE_OVER, [this.options.instanceId, mine, leadership.leaseMs]);
        const records = (taken.rows as IntakeRow[]).map((r) => ({ id: r.id, node: r.node, at: Number(r.at), event: r.event }));
        if (records.length === 0) return;
        this.options.log.warn(`intake: ${records.length} unfinished event(s) of a stopped instance taken over`);
        listener(records.sort((a, b) => a.at - b.at));
      } catch {
        // The store does not answer: the next round tries again.
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(() => void takeOver(), leadership.renewMs);
    timer.unref();
    this.timers.push(timer);
    leadership.on('change', (leading: boolean) => {
      if (leading) void takeOver();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
  }

  private async settleLeftovers(): Promise<void> {
    for (const id of [...this.unsettled]) {
      if (this.closed) return;
      this.unsettled.delete(id);
      await this.settle(id);
    }
  }
}
