import assert from 'node:assert/strict';
import { PgConnection } from '../../../lib/store/postgres/connection';
import { migrate, SCHEMA_VERSION } from '../../../lib/store/postgres/schema';
import { quietLog, sleep, usePostgres } from './postgres-support';

const TABLES = [
  'flowmon_add_claims', 'flowmon_budget_starts', 'flowmon_entries', 'flowmon_history', 'flowmon_instances', 'flowmon_intake',
  'flowmon_leader', 'flowmon_schema_version',
];

describe('PostgreSQL schema (real PostgreSQL)', function () {
  this.timeout(30_000);
  const { pg, url } = usePostgres();

  /** A connection on the test's database, not migrated. */
  function connection(): PgConnection {
    const conn = new PgConnection(url(), { log: quietLog });
    pg.onClose(() => conn.close());
    return conn;
  }

  async function tables(conn: PgConnection): Promise<string[]> {
    const { rows } = await conn.query<{ name: string }>(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    );
    return rows.map((r) => r.name);
  }

  it('two instances migrating an empty database at once both succeed, and the version is recorded once', async () => {
    const [a, b] = [connection(), connection()];
    await Promise.all([migrate(a), migrate(b)]);
    const { rows } = await a.query<{ version: number }>('SELECT version FROM flowmon_schema_version');
    assert.deepEqual(rows, [{ version: SCHEMA_VERSION }]);
    assert.deepEqual(await tables(a), TABLES);
    const leader = await a.query('SELECT singleton, term, holder, pid, renewed_at FROM flowmon_leader');
    assert.deepEqual(leader.rows, [{ singleton: 1, term: '0', holder: null, pid: null, renewed_at: null }]);
  });

  it('migrating a migrated database changes nothing', async () => {
    const conn = connection();
    await migrate(conn);
    await conn.query("INSERT INTO flowmon_add_claims VALUES ('kept', 'i', now())");
    await migrate(conn);
    const { rows } = await conn.query('SELECT version FROM flowmon_schema_version');
    assert.deepEqual(rows, [{ version: SCHEMA_VERSION }]);
    assert.equal((await conn.query('SELECT id FROM flowmon_add_claims')).rowCount, 1);
    assert.deepEqual(await tables(conn), TABLES);
  });

  describe('flowmon_take_slot: a sliding-window budget', () => {
    const take = async (conn: PgConnection, budget: string, windowMs = 1000): Promise<number> =>
      (await conn.query<{ wait: number }>('SELECT flowmon_take_slot($1, 3, $2) AS wait', [budget, windowMs])).rows[0].wait;
    const takeThree = async (conn: PgConnection, budget: string): Promise<number[]> => [
      await take(conn, budget), await take(conn, budget), await take(conn, budget),
    ];

    it('3 per 1000 ms: three slots, then the wait until the oldest leaves the window, then a slot again', async () => {
      const conn = await pg.connection(url());
      assert.deepEqual(await takeThree(conn, 'lm'), [0, 0, 0]);
      const wait = await take(conn, 'lm');
      assert.ok(wait >= 1 && wait <= 1000, `wait ${wait} ms`);
      assert.equal(await take(conn, 'other'), 0, 'budgets are counted by name');
      await sleep(wait - 150);
      assert.ok((await take(conn, 'lm')) > 0, 'still full just before the oldest leaves');
      await sleep(400);
      assert.deepEqual(await takeThree(conn, 'lm'), [0, 0, 0]);
      assert.ok((await take(conn, 'lm')) > 0);
    });

    it('takes exactly max slots when many instances take at once', async () => {
      const conns = await Promise.all([pg.connection(url()), pg.connection(url()), pg.connection(url())]);
      const waits = await Promise.all(Array.from({ length: 30 }, (_, i) => take(conns[i % 3], 'burst', 60_000)));
      assert.equal(waits.filter((w) => w === 0).length, 3);
    });
  });

  describe('flowmon_claim_add: one appliance add per target', () => {
    const claim = async (conn: PgConnection, id: string, instance: string, ms = 60_000): Promise<string> =>
      (await conn.query<{ r: string }>('SELECT flowmon_claim_add($1, $2, $3) AS r', [id, instance, ms])).rows[0].r;

    async function storeEntry(conn: PgConnection, id: string, state: string, simulated: boolean, expiresIn: number): Promise<void> {
      await conn.query(
        `INSERT INTO flowmon_entries (id, version, state, expires_at, simulated, entry) VALUES ($1, 1, $2, $3, $4, '{}')
         ON CONFLICT (id) DO UPDATE SET state = $2, expires_at = $3, simulated = $4`,
        [id, state, Date.now() + expiresIn, simulated],
      );
    }

    it('claims for the first instance, is busy for another, and renews for the claimant', async () => {
      const conn = await pg.connection(url());
      assert.equal(await claim(conn, 'e1', 'a'), 'claimed');
      assert.equal(await claim(conn, 'e1', 'b'), 'busy');
      assert.equal(await claim(conn, 'e1', 'a'), 'claimed');
    });

    it('lets another instance take over a claim whose time passed', async () => {
      const conn = await pg.connection(url());
      assert.equal(await claim(conn, 'e2', 'a', 100), 'claimed');
      await sleep(150);
      assert.equal(await claim(conn, 'e2', 'b'), 'claimed');
      assert.equal(await claim(conn, 'e2', 'a'), 'busy');
    });

    it('answers active for an unexpired, not simulated active entry only', async () => {
      const conn = await pg.connection(url());
      await storeEntry(conn, 'e3', 'active', false, 60_000);
      assert.equal(await claim(conn, 'e3', 'a'), 'active');
      await storeEntry(conn, 'e3', 'active', true, 60_000);
      assert.equal(await claim(conn, 'e3', 'a'), 'claimed', 'simulated: nothing on the appliance');
      await storeEntry(conn, 'e4', 'active', false, -1);
      assert.equal(await claim(conn, 'e4', 'a'), 'claimed', 'expired');
      await storeEntry(conn, 'e5', 'released', false, 60_000);
      assert.equal(await claim(conn, 'e5', 'a'), 'claimed', 'released');
    });

    it('gives one claim to one of many instances claiming at once', async () => {
      const conns = await Promise.all([pg.connection(url()), pg.connection(url()), pg.connection(url())]);
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => claim(conns[i % 3], 'same', `i${i}`)));
      assert.equal(results.filter((r) => r === 'claimed').length, 1);
      assert.equal(results.filter((r) => r === 'busy').length, 11);
    });
  });
});
