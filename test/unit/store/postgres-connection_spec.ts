import assert from 'node:assert/strict';
import { once } from 'node:events';
import { PgConnection } from '../../../lib/store/postgres/connection';
import { isStoreUnavailable, StoreUnavailableError } from '../../../lib/store/types';
import { PgServer, startPostgres } from '../../support/postgres';
import { quietLog as quiet, waitFor } from './postgres-support';

describe('PostgreSQL connection (a real private server)', function () {
  this.timeout(60_000);
  let server: PgServer;
  let conn: PgConnection;

  before(async () => {
    server = await startPostgres({ fsync: false });
  });
  after(async () => {
    await server?.destroy();
  });
  beforeEach(async () => {
    await server.start();
    conn = new PgConnection(server.url, { log: quiet, connectTimeoutMs: 1_000 });
  });
  afterEach(async () => {
    await conn.close();
  });

  it('runs statements and passes errors of the statement through unchanged', async () => {
    const { rows } = await conn.query<{ sum: number }>('SELECT $1::int + $2::int AS sum', [2, 3]);
    assert.equal(rows[0].sum, 5);
    await assert.rejects(conn.query('SELECT * FROM no_such_table'), (err: Error & { code?: string }) => {
      assert.equal(err.code, '42P01');
      assert.ok(!isStoreUnavailable(err));
      return true;
    });
    assert.equal(conn.unavailable, undefined);
  });

  it('turns a server that is down into StoreUnavailableError naming no host, port, URL or password, and reports the transitions', async () => {
    const events: string[] = [];
    conn.on('unavailable', (reason: string) => events.push(`unavailable: ${reason}`));
    conn.on('available', () => events.push('available'));
    await conn.query('SELECT 1');
    await server.stop();
    const err = await conn.query('SELECT 1').then(
      () => assert.fail('a query on a stopped server succeeded'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof StoreUnavailableError, String(err));
    const url = new URL(server.url);
    for (const secret of [server.url, url.password, url.hostname, String(server.port)]) {
      assert.ok(!err.message.includes(secret), `the message names ${secret === url.password ? 'the password' : secret}`);
      assert.ok(!(conn.unavailable ?? '').includes(secret));
    }
    assert.ok(conn.unavailable, 'unavailable says why');
    await server.start();
    await conn.query('SELECT 1');
    assert.equal(conn.unavailable, undefined);
    assert.equal(events.length, 2, events.join(' | '));
    assert.match(events[0], /^unavailable: /);
    assert.equal(events[1], 'available');
  });

  it('fails fast with StoreUnavailableError when nothing listens on the port', async () => {
    const nowhere = new PgConnection(server.url.replace(`:${server.port}/`, ':1/'), { log: quiet, connectTimeoutMs: 1_000 });
    try {
      await assert.rejects(nowhere.query('SELECT 1'), (e: Error) => e instanceof StoreUnavailableError && /ECONNREFUSED/.test(e.message));
    } finally {
      await nowhere.close();
    }
  });

  it('retries a write across a restart of the server, and gives up after retryFor', async () => {
    await conn.query('CREATE TABLE IF NOT EXISTS restart_probe (n int)');
    await server.stop();
    const started = Date.now();
    const write = conn.queryRetrying('INSERT INTO restart_probe VALUES (1) RETURNING n', [], 20_000);
    setTimeout(() => void server.start(), 1_500);
    const { rows } = await write;
    assert.equal(rows[0].n, 1);
    assert.ok(Date.now() - started >= 1_500, 'the write waited for the server');

    await server.kill();
    const giveUp = Date.now();
    await assert.rejects(conn.queryRetrying('SELECT 1', [], 800), StoreUnavailableError);
    const waited = Date.now() - giveUp;
    assert.ok(waited >= 300 && waited < 4_500, `gave up after ${waited} ms`);
  });

  it('does not retry errors of the statement', async () => {
    const started = Date.now();
    await assert.rejects(conn.queryRetrying('SELECT * FROM no_such_table', [], 5_000), { code: '42P01' });
    assert.ok(Date.now() - started < 4_000, "rejected at once, not after the 5 s retry window");
  });

  it('delivers notifications, and after a restart listens again and emits resync', async () => {
    const payloads: string[] = [];
    assert.equal(await conn.listen('probe_channel', (p) => payloads.push(p)), true);
    await conn.query("SELECT pg_notify('probe_channel', 'one')");
    await waitFor(() => payloads.includes('one'), 5_000, 'the first notification');
    const resync = once(conn, 'resync');
    await server.stop();
    await server.start();
    await resync;
    await conn.query("SELECT pg_notify('probe_channel', 'two')");
    await waitFor(() => payloads.includes('two'), 5_000, 'the notification after the restart');
    assert.deepEqual(payloads, ['one', 'two']);
  });

  it('refuses channel names that are not fixed identifiers', async () => {
    await assert.rejects(conn.listen('x; DROP TABLE y', () => undefined), /not a channel name/);
  });

  it('survives the server terminating idle pooled connections', async () => {
    await Promise.all([conn.query('SELECT pg_sleep(0.05)'), conn.query('SELECT pg_sleep(0.05)')]);
    const admin = new PgConnection(server.url, { log: quiet });
    try {
      await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'flowmon-response' AND pid <> pg_backend_pid()");
    } finally {
      await admin.close();
    }
    await new Promise((r) => setTimeout(r, 200));
    const { rows } = await conn.queryRetrying<{ one: number }>('SELECT 1 AS one', [], 5_000);
    assert.equal(rows[0].one, 1);
  });

  it('hands out dedicated clients and ends them on close', async () => {
    const client = await conn.dedicatedClient();
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    assert.ok(rows[0].pid > 0);
    const ended = once(client, 'end');
    await conn.close();
    await ended;
    await assert.rejects(conn.query('SELECT 1'), StoreUnavailableError);
  });
});
