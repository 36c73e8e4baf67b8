import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { PgConnection } from '../../../lib/store/postgres/connection';
import { migrate } from '../../../lib/store/postgres/schema';
import { startPostgres, type PgServer } from '../../support/postgres';

export const quietLog = { warn: (): void => undefined };

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves once `done()` is true, or rejects after `timeoutMs`. */
export async function waitFor(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** One private server for a spec file; each test takes a database of its own and closes what it opened. */
export class PostgresFixture {
  private server_: PgServer | undefined;
  private readonly closers: (() => Promise<unknown>)[] = [];

  /** The server itself, to stop and start it. */
  get server(): PgServer {
    return this.server_!;
  }

  async start(): Promise<void> {
    this.server_ = await startPostgres({ fsync: false });
  }

  async database(): Promise<string> {
    return this.server.createDatabase(`t_${randomBytes(6).toString('hex')}`);
  }

  /** A connection on a migrated database; closed by closeAll(). */
  async connection(url: string): Promise<PgConnection> {
    const conn = new PgConnection(url, { log: quietLog });
    this.onClose(() => conn.close());
    await migrate(conn);
    return conn;
  }

  /** A plain client, as an operator's psql would be. */
  async client(url: string): Promise<Client> {
    const client = new Client({ connectionString: url });
    client.on('error', () => undefined);
    await client.connect();
    this.onClose(() => client.end());
    return client;
  }

  onClose(close: () => Promise<unknown>): void {
    this.closers.push(close);
  }

  async closeAll(): Promise<void> {
    const all = this.closers.splice(0).reverse();
    for (const close of all) await close().catch(() => undefined);
  }

  async stop(): Promise<void> {
    await this.closeAll();
    await this.server_?.destroy();
  }
}

/**
 * The hooks of a spec on a private server (call inside describe): a database of its own for every test (`url()`),
 * everything opened in a test closed after it.
 */
export function usePostgres(): { pg: PostgresFixture; url: () => string } {
  const pg = new PostgresFixture();
  let url = '';
  before(() => pg.start());
  beforeEach(async () => {
    url = await pg.database();
  });
  afterEach(() => pg.closeAll());
  after(() => pg.stop());
  return { pg, url: () => url };
}
