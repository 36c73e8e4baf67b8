import assert from 'node:assert/strict';
import { PostgresLeadership } from '../../../lib/store/postgres/leadership';
import { quietLog, sleep, usePostgres, waitFor } from './postgres-support';

const RENEW_MS = 300;
const LEASE_MS = 1_500;

describe('PostgreSQL leadership (real PostgreSQL)', function () {
  this.timeout(30_000);
  const { pg, url } = usePostgres();

  async function candidate(name: string): Promise<PostgresLeadership> {
    const conn = await pg.connection(url());
    const leadership = new PostgresLeadership(conn, {
      instanceId: name,
      ready: Promise.resolve(),
      log: quietLog,
      leaseMs: LEASE_MS,
      renewMs: RENEW_MS,
    });
    pg.onClose(() => leadership.close());
    return leadership;
  }

  async function two(): Promise<[leader: PostgresLeadership, follower: PostgresLeadership]> {
    const a = await candidate('a');
    const b = await candidate('b');
    await waitFor(() => a.isLeader || b.isLeader, 5_000, 'a leader');
    return a.isLeader ? [a, b] : [b, a];
  }

  it('lets exactly one of two instances lead, and only the leader confirms', async () => {
    const [leader, follower] = await two();
    await sleep(4 * RENEW_MS);
    assert.deepEqual([leader.isLeader, follower.isLeader], [true, false]);
    assert.equal(await leader.confirm(), true);
    assert.equal(await follower.confirm(), false);
    assert.equal(leader.describe(), 'this instance releases');
    assert.equal(follower.describe(), 'another instance releases');
  });

  it("hands the lead over within renewMs + 1 s when the leader closes", async () => {
    const [leader, follower] = await two();
    const started = Date.now();
    await leader.close();
    await waitFor(() => follower.isLeader, RENEW_MS + 4_000, 'the follower to lead');
    console.log(`      failover after a clean close: ${Date.now() - started} ms`);
  });

  it("steps down when its session is ended, and the other instance leads", async () => {
    const [leader, follower] = await two();
    const changes: boolean[] = [];
    leader.on('change', (leading: boolean) => changes.push(leading));
    const operator = await pg.client(url());
    const started = Date.now();
    await operator.query('SELECT pg_terminate_backend(pid) FROM flowmon_leader WHERE singleton = 1');
    await waitFor(() => !leader.isLeader, 2_000, 'the leader to step down');
    await waitFor(() => follower.isLeader, RENEW_MS + 4_000, 'the follower to lead');
    console.log(`      failover after the leader's session was ended: ${Date.now() - started} ms`);
    assert.equal(changes[0], false);
    assert.equal(await leader.confirm(), false);
  });

  it('takes the lead from a frozen leader after the lease, and fences the old term', async () => {
    const [leader, follower] = await two();
    const oldTerm = leader.currentTerm;
    const started = Date.now();
    leader.pause();
    await waitFor(() => follower.isLeader, LEASE_MS + 3 * RENEW_MS + 4_000, 'the follower to lead');
    const failover = Date.now() - started;
    console.log(`      failover from a frozen leader: ${failover} ms (lease ${LEASE_MS} ms, renew ${RENEW_MS} ms)`);
    assert.ok(failover >= LEASE_MS - RENEW_MS, `failover ${failover} ms`);
    assert.ok(BigInt(follower.currentTerm) > BigInt(oldTerm));
    leader.resume();
    assert.equal(await leader.confirm(), false);
    await sleep(3 * RENEW_MS);
    assert.equal(leader.isLeader, false);
    assert.equal(follower.isLeader, true);
  });

  it('steps down by itself when no renewal succeeds for leaseMs - 2 * renewMs', async () => {
    const [leader] = await two();
    const operator = await pg.client(url());
    // The lease row is locked by an open transaction: the leader's renewals hang.
    await operator.query('BEGIN');
    await operator.query('SELECT * FROM flowmon_leader FOR UPDATE');
    const started = Date.now();
    await waitFor(() => !leader.isLeader, LEASE_MS, 'the leader to step down');
    const after = Date.now() - started;
    await operator.query('ROLLBACK');
    console.log(`      stepped down after ${after} ms without a renewal`);
    assert.ok(after <= LEASE_MS - RENEW_MS, `stepped down after ${after} ms`);
    assert.equal(await leader.confirm(), false);
  });
});
