import { EventEmitter } from 'node:events';
import { Client, Pool, type ClientConfig, type PoolClient, type QueryResult, type QueryResultRow } from 'pg';
import { StoreUnavailableError } from '../types';
import { toUnavailable, unavailableReason } from './connection-errors';
import { ListenConnection } from './listen-connection';

export interface PgConnectionOptions {
  log: { warn(msg: string): void };
  poolSize?: number;
  statementTimeoutMs?: number;
  connectTimeoutMs?: number;
}

/** What a statement runs on: the pool, or one client inside a transaction. */
export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
}

const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 1_000;

/**
 * The package's connections to one PostgreSQL database: a pool for statements, one client for every LISTEN, and
 * dedicated clients on request. A failure of the connection (not of a statement) becomes a StoreUnavailableError,
 * whose message names neither the host nor the URL. Emits `unavailable` (reason) and `available` on transitions,
 * and `resync` when the LISTEN connection came back (notifications may have been missed: owners reload).
 */
/** Durable writes (registry, history, settles) ride out a PostgreSQL restart for this long before they fail. */
export const WRITE_RETRY_MS = 60_000;
/**
 * Coordination (add claims, shared budgets) waits this long for PostgreSQL: an event accepted just before a restart
 * goes on once it is back, instead of failing or being held for want of an answer.
 */
export const COORDINATION_RETRY_MS = 30_000;

export class PgConnection extends EventEmitter implements Queryable {
  private readonly clientConfig: ClientConfig;
  private readonly pool: Pool;
  private readonly listener: ListenConnection;
  private readonly dedicated = new Set<Client>();
  private readonly waits = new Set<() => void>();
  private reason: string | undefined;
  private closed = false;

  constructor(
    url: string,
    private readonly options: PgConnectionOptions,
  ) {
    super();
    const statementTimeoutMs = options.statementTimeoutMs ?? 10_000;
    const connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
    const config: ClientConfig = {
      connectionString: url,
      connectionTimeoutMillis: connectTimeoutMs,
      statement_timeout: statementTimeoutMs,
      // A silent network: the server's statement timeout cannot answer, so the client gives up a little later.
      query_timeout: statementTimeoutMs + connectTimeoutMs,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      application_name: 'flowmon-response',
    };
    this.clientConfig = config;
    this.pool = new Pool({ ...config, max: options.poolSize ?? 10, idleTimeoutMillis: 30_000, allowExitOnIdle: true });
    this.pool.on('error', (err) => this.noteFailure(err));
    this.listener = new ListenConnection(() => this.connectedClient(), {
      log: options.log,
      onConnected: () => this.noteSuccess(),
      onResync: () => this.emit('resync'),
    });
  }

  /** Undefined while PostgreSQL answers; otherwise why it does not (no host, no URL). */
  get unavailable(): string | undefined {
    return this.reason;
  }

  async query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>> {
    this.assertOpen();
    try {
      const result = await this.pool.query<R>(text, values);
      this.noteSuccess();
      return result;
    } catch (err) {
      throw this.translate(err);
    }
  }

  /**
   * The statement, tried again while PostgreSQL is unavailable (backoff 100 ms doubling to 1 s) until `retryForMs`
   * passed: for writes that must survive a restart of the server. Errors of the statement are not retried.
   */
  async queryRetrying<R extends QueryResultRow = QueryResultRow>(
    text: string,
    values?: unknown[],
    retryForMs = WRITE_RETRY_MS,
  ): Promise<QueryResult<R>> {
    const giveUpAt = Date.now() + retryForMs;
    for (let wait = RETRY_FIRST_MS; ; wait = Math.min(wait * 2, RETRY_MAX_MS)) {
      try {
        return await this.query<R>(text, values);
      } catch (err) {
        if (this.closed || !(err instanceof StoreUnavailableError) || Date.now() + wait > giveUpAt) throw err;
      }
      await this.sleep(wait);
    }
  }

  /** Runs `work` in one transaction on one client; rolls back when it throws. */
  async transaction<T>(work: (client: Queryable) => Promise<T>): Promise<T> {
    this.assertOpen();
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw this.translate(err);
    }
    const inTransaction: Queryable = {
      query: async <R extends QueryResultRow>(text: string, values?: unknown[]) => {
        try {
          return await client.query<R>(text, values);
        } catch (err) {
          throw this.translate(err);
        }
      },
    };
    let failure: unknown;
    try {
      await inTransaction.query('BEGIN');
      const result = await work(inTransaction);
      await inTransaction.query('COMMIT');
      this.noteSuccess();
      return result;
    } catch (err) {
      failure = err;
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release(failure instanceof StoreUnavailableError ? failure : undefined);
    }
  }

  /**
   * Calls `onPayload` with every notification on `channel` (a fixed identifier of this package). Resolves true once
   * the LISTEN is in place, false when PostgreSQL cannot be reached now (it is then set up on reconnection, followed
   * by `resync`) or the connection is closed.
   */
  async listen(channel: string, onPayload: (payload: string) => void): Promise<boolean> {
    if (!/^[a-z_]+$/.test(channel)) throw new Error(`not a channel name of this package: ${channel}`);
    if (this.closed) return false;
    return this.listener.listen(channel, onPayload);
  }

  /** A new connected client that the caller owns and ends (closed with this connection at the latest). */
  async dedicatedClient(): Promise<Client> {
    this.assertOpen();
    const client = await this.connectedClient();
    this.dedicated.add(client);
    client.once('end', () => this.dedicated.delete(client));
    return client;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const wake of this.waits) wake();
    await Promise.all([
      this.listener.close(),
      ...[...this.dedicated].map((c) => c.end().catch(() => undefined)),
      this.pool.end().catch(() => undefined),
    ]);
  }

  private async connectedClient(): Promise<Client> {
    const client = new Client(this.clientConfig);
    // Errors of an idle client; its owner sees the failure at its next statement (or on 'end').
    client.on('error', (err) => this.noteFailure(err));
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => undefined);
      throw this.translate(err);
    }
    this.noteSuccess();
    return client;
  }

  private translate(err: unknown): unknown {
    if (this.closed) return new StoreUnavailableError('the connection to the shared store is closed');
    this.noteFailure(err);
    return toUnavailable(err);
  }

  private noteFailure(err: unknown): void {
    const reason = unavailableReason(err);
    if (reason === undefined || this.closed) return;
    const was = this.reason;
    this.reason = reason;
    if (was === undefined) {
      this.options.log.warn(`PostgreSQL store unavailable: ${reason}`);
      this.emit('unavailable', reason);
    }
  }

  private noteSuccess(): void {
    if (this.reason === undefined || this.closed) return;
    this.reason = undefined;
    this.options.log.warn('PostgreSQL store available again');
    this.emit('available');
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreUnavailableError('the connection to the shared store is closed');
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.waits.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.waits.add(wake);
    });
  }
}
