import assert from 'node:assert/strict';
import { PostgresStore } from '../../../lib/store/postgres';
import { quietLog, sleep, usePostgres, waitFor } from './postgres-support';

const RENEW_MS = 300;
const LEASE_MS = 1_500;
const none = { values: () => [], count: () => 0 };

describe('PostgresStore (real PostgreSQL)', function () {
  this.timeout(30_000);
  const { pg, url } = usePostgres();

  function store(at = url()): PostgresStore {
    const opened = new PostgresStore(at, { log: quietLog, leaseMs: LEASE_MS, renewMs: RENEW_MS });
    pg.onClose(() => opened.close());
    return opened;
  }

  async function renewedAt(id: string): Promise<Date | undefined> {
    const operator = await pg.client(url());
    const { rows } = await operator.query<{ renewed_at: Date }>('SELECT renewed_at FROM flowmon_instances WHERE id = $1', [id]);
    await operator.end();
    return rows[0]?.renewed_at;
  }

  it('describes itself without the password and opens each backend once', async () => {
    const one = store();
    assert.equal(one.kind, 'postgres');
    assert.match(one.instanceId, /^[0-9a-f-]{36}$/);
    assert.ok(!one.description.includes(new URL(url()).password));
    assert.match(one.description, /^postgres:\/\/flowmon@127\.0\.0\.1:\d+\/t_[0-9a-f]+$/);
    assert.equal(one.openEntries(none), one.openEntries(none));
    assert.equal(one.openHistory(none), one.openHistory(none));
    assert.equal(one.openIntake(none), one.openIntake(none));
    assert.ok(one.budgets && one.claims);
    await one.ready;
    assert.equal(one.unavailable, undefined);
  });

  it('registers the instance, renews it every renewMs, and removes it on close', async () => {
    const one = store();
    await one.ready;
    const first = await renewedAt(one.instanceId);
    assert.ok(first);
    await sleep(3 * RENEW_MS);
    const later = await renewedAt(one.instanceId);
    assert.ok(later && later > first, 'renewed');
    await one.close();
    assert.equal(await renewedAt(one.instanceId), undefined);
  });

  it('hands the lead to another instance at once when the leader closes', async () => {
    const a = store();
    const b = store();
    await waitFor(() => a.leadership.isLeader || b.leadership.isLeader, 5_000, 'a leader');
    const [leader, other] = a.leadership.isLeader ? [a, b] : [b, a];
    const started = Date.now();
    await leader.close();
    await waitFor(() => other.leadership.isLeader, RENEW_MS + 4_000, 'the other to lead');
    console.log(`      lead handed over ${Date.now() - started} ms after close()`);
  });

  it('waits for a server that is not up yet, reports why, and is ready once it is', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const at = url();
    await pg.server.stop();
    try {
      const late = store(at);
      await sleep(1_200);
      assert.match(late.unavailable ?? '', /PostgreSQL/);
      assert.equal(late.leadership.describe(), 'waiting for the store');
      await pg.server.start();
      await late.ready;
      await waitFor(() => late.leadership.isLeader, 2_000, 'the only instance to lead');
      assert.equal(late.unavailable, undefined);
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await pg.server.start();
    }
  });

  it('closes while the server is unreachable without an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const nowhere = new URL(url());
      nowhere.port = '1';
      const lost = store(nowhere.toString());
      await sleep(300);
      await lost.close();
      await sleep(800);
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
