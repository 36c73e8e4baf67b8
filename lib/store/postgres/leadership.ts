/**
 * One releasing instance among all those sharing a PostgreSQL store: the holder of a session advisory lock on a
 * dedicated connection (a pooled one would hand the lock to whoever uses the connection next).
 *
 * The numbers (defaults; PostgresStore passes its own):
 * - renewMs = 2 s: a follower tries the lock, the leader renews its lease in flowmon_leader, this often.
 * - leaseMs = 10 s: a leader whose lease is older than this while PostgreSQL still sees its session (paused, or cut
 *   off without the server noticing) has its session ended by a follower, which then takes the lock.
 * - The leader steps down by itself once no renewal succeeded for leaseMs - 2 * renewMs (6 s), before anyone can
 *   take over, and confirm() answers false from then on.
 * So an instance that dies (its session ends) is replaced within renewMs; one that hangs or is cut off, within
 * leaseMs + renewMs. Every takeover bumps the fencing term: a former leader's renewal and confirm() name the old term
 * and find nothing, so it cannot act once another leads.
 */
import { EventEmitter } from 'node:events';
import type { Client } from 'pg';
import type { Leadership } from '../types';
import type { PgConnection } from './connection';
import { unavailableReason } from './connection-errors';
import { delay, within } from './deadline';

/** The releaser's advisory lock: "flowmonR" in ASCII (the schema's lock is "flowmon"). */
export const LEADER_LOCK_KEY = '7380396448081210962';
/** The same key as pg_locks shows it: its high and low 32 bits. */
const LOCK_CLASS_ID = 1718382455;
const LOCK_OBJ_ID = 1836019282;

export interface LeadershipOptions {
  instanceId: string;
  /** The schema is in place (and this instance registered). */
  ready: Promise<void>;
  log: { warn(msg: string): void };
  leaseMs?: number;
  renewMs?: number;
}

type State = 'waiting' | 'following' | 'leading';

const TRY_LOCK = 'SELECT pg_try_advisory_lock($1::bigint) AS locked';
const TAKE_TERM = `UPDATE flowmon_leader SET term = term + 1, holder = $1, pid = pg_backend_pid(), renewed_at = now()
  WHERE singleton = 1 RETURNING term`;
const RENEW = 'UPDATE flowmon_leader SET renewed_at = now() WHERE singleton = 1 AND term = $1 AND holder = $2';
const STILL_MINE = 'SELECT 1 FROM flowmon_leader WHERE singleton = 1 AND term = $1 AND holder = $2';
/** Ends the session of a holder whose lease ran out, if that session still holds the lock (pids are reused). */
const END_STALE_HOLDER = `SELECT pg_terminate_backend(l.pid) AS ended FROM flowmon_leader l
  JOIN pg_locks k ON k.pid = l.pid AND k.locktype = 'advisory' AND k.granted
    AND k.classid = ${LOCK_CLASS_ID} AND k.objid = ${LOCK_OBJ_ID} AND k.objsubid = 1
  WHERE l.singleton = 1 AND l.renewed_at < now() - $1 * interval '1 millisecond'`;

export class PostgresLeadership extends EventEmitter implements Leadership {
  readonly leaseMs: number;
  readonly renewMs: number;
  private state: State = 'waiting';
  private client: Client | undefined;
  private term = '0';
  private lastRenewal = 0;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private paused = false;
  private closed = false;
  private lastProblem = '';
  /** After stepping down, the others get the first chance (the cause may be this instance's own trouble). */
  private notBefore = 0;

  constructor(
    private readonly conn: PgConnection,
    private readonly options: LeadershipOptions,
  ) {
    super();
    this.renewMs = options.renewMs ?? 2_000;
    this.leaseMs = options.leaseMs ?? 10_000;
    if (this.leaseMs < 3 * this.renewMs) throw new RangeError('leaseMs must be at least 3 * renewMs');
    options.ready.then(
      () => this.start(),
      () => undefined,
    );
  }

  get isLeader(): boolean {
    return this.state === 'leading';
  }

  /** The fencing term of the current lead (for tests and logs). */
  get currentTerm(): string {
    return this.term;
  }

  describe(): string {
    if (this.state === 'leading') return 'this instance releases';
    if (this.state === 'following') return 'another instance releases';
    return 'waiting for the store';
  }

  async confirm(): Promise<boolean> {
    const client = this.client;
    if (this.state !== 'leading' || !client || !this.leaseFresh()) return false;
    const term = this.term;
    try {
      const found = await within(client.query(STILL_MINE, [term, this.options.instanceId]), this.renewMs, () => new Error('no answer'));
      if (found.rowCount === 1) return true;
      if (term === this.term) this.stepDown('another instance took over');
      return false;
    } catch {
      return false;
    }
  }

  /** Test hook: behaves as a frozen process (no renewal, no lock attempt, no self-check) until resume(). */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    const client = this.client;
    if (client && this.state === 'leading') {
      await within(client.query('SELECT pg_advisory_unlock($1::bigint)', [LEADER_LOCK_KEY]), this.renewMs, () => new Error('no answer')).catch(
        () => undefined,
      );
    }
    this.stepDown('closed');
    this.state = 'waiting';
  }

  private start(): void {
    if (this.closed) return;
    this.timer = setInterval(() => void this.tick(), this.renewMs);
    this.timer.unref();
    void this.tick();
  }

  private async tick(): Promise<void> {
    if (this.closed || this.paused) return;
    if (this.state === 'leading' && !this.leaseFresh()) this.stepDown(`no lease renewal for ${this.leaseMs - 2 * this.renewMs} ms`);
    if (this.busy) return;
    this.busy = true;
    try {
      if (this.state === 'leading') await this.renew();
      else if (Date.now() >= this.notBefore) await this.tryToLead();
    } catch (err) {
      this.problem(err);
      if (this.state === 'leading') this.stepDown('the store does not answer');
      else this.dropClient();
      this.state = 'waiting';
    } finally {
      this.busy = false;
    }
  }

  private leaseFresh(): boolean {
    return Date.now() - this.lastRenewal < this.leaseMs - 2 * this.renewMs;
  }

  private async renew(): Promise<void> {
    const term = this.term;
    const client = this.client!;
    const renewed = await within(client.query(RENEW, [term, this.options.instanceId]), this.renewMs, () => new Error('lease renewal timed out'));
    if (this.state !== 'leading' || term !== this.term) return;
    if (renewed.rowCount === 1) this.lastRenewal = Date.now();
    else this.stepDown('another instance took over');
  }

  private async tryToLead(): Promise<void> {
    const client = await this.dedicatedClient();
    if (await this.tryLock(client)) return this.lead(client);
    const stale = await client.query(END_STALE_HOLDER, [this.leaseMs]);
    if (stale.rows.some((r: { ended: boolean }) => r.ended)) {
      this.options.log.warn('store: the releasing instance stopped renewing its lease; its session was ended to take over');
      for (let attempt = 0; attempt < 10 && !this.closed; attempt++) {
        await delay(Math.min(100, this.renewMs / 10));
        if (await this.tryLock(client)) return this.lead(client);
      }
    }
    if (!this.closed && this.client === client) this.state = 'following';
  }

  private async tryLock(client: Client): Promise<boolean> {
    const result = await client.query(TRY_LOCK, [LEADER_LOCK_KEY]);
    return result.rows[0]?.locked === true;
  }

  private async lead(client: Client): Promise<void> {
    const taken = await client.query(TAKE_TERM, [this.options.instanceId]);
    if (this.closed || this.client !== client) return;
    this.term = String(taken.rows[0].term);
    this.lastRenewal = Date.now();
    this.state = 'leading';
    this.lastProblem = '';
    this.emit('change', true);
  }

  private async dedicatedClient(): Promise<Client> {
    if (this.client) return this.client;
    const client = await this.conn.dedicatedClient();
    if (this.closed) {
      void client.end().catch(() => undefined);
      throw new Error('closed');
    }
    client.on('error', (err) => {
      if (this.client !== client) return;
      this.problem(err);
      if (this.state === 'leading') this.stepDown('its connection to the store failed');
      else this.dropClient();
      this.state = 'waiting';
    });
    this.client = client;
    return client;
  }

  /** Stops leading at once; closing the lock's session makes sure the lock is gone for the others. */
  private stepDown(why: string): void {
    const wasLeading = this.state === 'leading';
    this.dropClient();
    this.state = 'waiting';
    if (!wasLeading) return;
    this.notBefore = Date.now() + 2 * this.renewMs;
    if (!this.closed) this.options.log.warn(`store: this instance stops releasing (${why})`);
    this.emit('change', false);
  }

  private dropClient(): void {
    const client = this.client;
    this.client = undefined;
    if (client) void client.end().catch(() => undefined);
  }

  private problem(err: unknown): void {
    const text = unavailableReason(err) ?? (err instanceof Error ? err.message : String(err));
    if (text === this.lastProblem || this.closed) return;
    this.lastProblem = text;
    this.options.log.warn(`store: leadership: ${text}`);
  }
}
