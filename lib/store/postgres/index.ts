/**
 * The shared store: every instance pointed at one PostgreSQL database sees the same registry, decisions, history and
 * intake; one of them releases (leadership.ts); budgets and add claims are counted there for all of them. Each
 * instance registers itself in flowmon_instances and renews that row every renewMs: an instance whose row is older
 * than the lease is dead, and the releasing instance takes over its unfinished events.
 */
import { randomUUID } from 'node:crypto';
import { describePostgres } from '../settings';
import type { LiveRecords, Store } from '../types';
import { StoreUnavailableError } from '../types';
import type { RegistryEntry } from '../../registry/entry';
import type { HistoryRecord } from '../../history/record';
import type { IntakeRecord } from '../../intake/ledger';
import { PostgresBudgets } from './budgets';
import { PostgresAddClaims } from './claims';
import { PgConnection } from './connection';
import { unavailableReason } from './connection-errors';
import { delay } from './deadline';
import { PostgresEntryBackend } from './entries';
import { PostgresHistoryBackend } from './history';
import { PostgresIntakeBackend } from './intake';
import { PostgresLeadership } from './leadership';
import { migrate } from './schema';

export interface PostgresStoreOptions {
  log: { warn(msg: string): void };
  /** Runs once the schema is in place, before the store is ready (moving a user directory's journals in). */
  seed?: (conn: PgConnection) => Promise<void>;
  leaseMs?: number;
  renewMs?: number;
}

const FIRST_RETRY_MS = 500;
const LONGEST_RETRY_MS = 30_000;

const REGISTER = `INSERT INTO flowmon_instances (id, renewed_at) VALUES ($1, now())
  ON CONFLICT (id) DO UPDATE SET renewed_at = now()`;
/** Rows of instances gone for a day are of no use to anyone (their events were taken over long ago). */
const FORGET_LONG_GONE = "DELETE FROM flowmon_instances WHERE renewed_at < now() - interval '1 day'";

export class PostgresStore implements Store {
  readonly kind = 'postgres';
  readonly description: string;
  readonly instanceId = randomUUID();
  readonly leadership: PostgresLeadership;
  readonly budgets: PostgresBudgets;
  readonly claims: PostgresAddClaims;
  /** The schema is migrated and this instance registered; rejects only when the store was closed before. */
  readonly ready: Promise<void>;
  private readonly conn: PgConnection;
  private readonly renewMs: number;
  private entries: PostgresEntryBackend | undefined;
  private history: PostgresHistoryBackend | undefined;
  private intake: PostgresIntakeBackend | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(url: string, private readonly options: PostgresStoreOptions) {
    this.description = describePostgres(url);
    this.renewMs = options.renewMs ?? 2_000;
    this.conn = new PgConnection(url, { log: options.log });
    this.ready = this.prepare();
    this.ready.catch(() => undefined);
    const shared = { instanceId: this.instanceId, ready: this.ready, log: options.log };
    this.leadership = new PostgresLeadership(this.conn, { ...shared, leaseMs: options.leaseMs, renewMs: this.renewMs });
    this.budgets = new PostgresBudgets(this.conn, this.ready);
    this.claims = new PostgresAddClaims(this.conn, shared);
  }

  get unavailable(): string | undefined {
    return this.conn.unavailable;
  }

  openEntries(_live: LiveRecords<RegistryEntry>): PostgresEntryBackend {
    this.entries ??= new PostgresEntryBackend(this.conn, this.shared());
    return this.entries;
  }

  openHistory(_live: LiveRecords<HistoryRecord>): PostgresHistoryBackend {
    this.history ??= new PostgresHistoryBackend(this.conn, this.shared());
    return this.history;
  }

  openIntake(_live: LiveRecords<IntakeRecord>): PostgresIntakeBackend {
    this.intake ??= new PostgresIntakeBackend(this.conn, { ...this.shared(), leadership: this.leadership });
    return this.intake;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.renewTimer);
    await this.leadership.close();
    await Promise.allSettled([this.intake?.close(), this.history?.close(), this.entries?.close()]);
    await this.conn.query('DELETE FROM flowmon_instances WHERE id = $1', [this.instanceId]).catch(() => undefined);
    await this.conn.close();
  }

  private shared(): { instanceId: string; ready: Promise<void>; log: PostgresStoreOptions['log'] } {
    return { instanceId: this.instanceId, ready: this.ready, log: this.options.log };
  }

  /** Migrates (again and again, with a growing pause, while the server cannot be reached), then registers. */
  private async prepare(): Promise<void> {
    let wait = FIRST_RETRY_MS;
    for (;;) {
      if (this.closed) throw new StoreUnavailableError('the store is closed');
      try {
        await migrate(this.conn);
        await this.options.seed?.(this.conn);
        await this.conn.query(REGISTER, [this.instanceId]);
        break;
      } catch (err) {
        if (this.closed) throw new StoreUnavailableError('the store is closed');
        this.options.log.warn(`store: ${this.description} is not ready (${errorText(err)}); trying again in ${wait / 1000} s`);
        await delay(wait);
        wait = Math.min(wait * 2, LONGEST_RETRY_MS);
      }
    }
    this.renewTimer = setInterval(() => void this.renewRegistration(), this.renewMs);
    this.renewTimer.unref();
  }

  private async renewRegistration(): Promise<void> {
    try {
      await this.conn.query(REGISTER, [this.instanceId]);
      if (this.leadership.isLeader) await this.conn.query(FORGET_LONG_GONE, []);
    } catch {
      // Unreachable: the connection reports it (unavailable); the next round tries again.
    }
  }
}

function errorText(err: unknown): string {
  return unavailableReason(err) ?? (err instanceof Error ? err.message : String(err));
}
