import assert from 'node:assert/strict';
import type { AdsEvent } from '../../../lib/ads/event';
import type { IntakeRecord } from '../../../lib/intake/ledger';
import { PostgresStore } from '../../../lib/store/postgres';
import { PostgresIntakeBackend } from '../../../lib/store/postgres/intake';
import { PostgresLeadership } from '../../../lib/store/postgres/leadership';
import { isStoreUnavailable } from '../../../lib/store/types';
import { quietLog, sleep, usePostgres, waitFor } from './postgres-support';

const RENEW_MS = 300;
const LEASE_MS = 1_500;
const none = { values: () => [], count: () => 0 };

function event(source: string): AdsEvent {
  return {
    kind: 'ads', format: 'tsv-standard', id: source, detectedAt: null, firstFlowAt: null, method: 'SCANS', subtype: null, mitre: null,
    description: 'Scan', perspective: null, priority: 'high', detail: '', ports: null, protocol: null, source, sourceName: null,
    targets: [], dataFeed: null, userIdentity: null, raw: `raw ${source}`,
  };
}

function records(node: string, ...sources: string[]): IntakeRecord[] {
  return sources.map((source, i) => ({ id: `${node}-${source}`, node, at: Date.now() + i, event: event(source) }));
}

describe('PostgreSQL intake (real PostgreSQL)', function () {
  this.timeout(30_000);
  const { pg, url } = usePostgres();

  function store(): PostgresStore {
    const opened = new PostgresStore(url(), { log: quietLog, leaseMs: LEASE_MS, renewMs: RENEW_MS });
    pg.onClose(() => opened.close());
    return opened;
  }

  /** An instance that registered once and then stopped (a kill -9, a frozen process): it never renews. */
  async function deadInstance(id: string): Promise<PostgresIntakeBackend> {
    const conn = await pg.connection(url());
    await conn.query('INSERT INTO flowmon_instances (id, renewed_at) VALUES ($1, now())', [id]);
    const never = new Promise<void>(() => undefined);
    const leadership = new PostgresLeadership(conn, { instanceId: id, ready: never, log: quietLog, leaseMs: LEASE_MS, renewMs: RENEW_MS });
    return new PostgresIntakeBackend(conn, { instanceId: id, ready: Promise.resolve(), leadership, log: quietLog });
  }

  async function owners(): Promise<Map<string, string>> {
    const operator = await pg.client(url());
    const { rows } = await operator.query<{ id: string; owner: string }>('SELECT id, owner FROM flowmon_intake');
    await operator.end();
    return new Map(rows.map((r) => [r.id, r.owner]));
  }

  it("lets the releasing instance finish a dead instance's events within the lease, each once, never a live one's", async () => {
    const releaser = store();
    const live = store();
    const dead = await deadInstance('dead');
    const diedAt = Date.now();
    await dead.put(records('n1', '10.0.0.1', '10.0.0.2', '10.0.0.3'));
    await dead.put(records('n2', '10.0.0.9'));
    await live.openIntake(none).put(records('n1', '10.0.1.1', '10.0.1.2'));
    // The dead instance was adding a block; the live one is adding another.
    const operator = await pg.client(url());
    await operator.query("INSERT INTO flowmon_add_claims (id, instance, until) VALUES ('dead-claim', 'dead', now() + interval '30 seconds')");
    assert.equal(await live.claims.claim('live-claim'), 'claimed');
    await waitFor(() => releaser.leadership.isLeader || live.leadership.isLeader, 5_000, 'a leader');
    const leader = releaser.leadership.isLeader ? releaser : live;
    const taken: IntakeRecord[] = [];
    let tookAt = 0;
    leader.openIntake(none).onTakeover(
      () => ['n1'],
      (batch) => {
        taken.push(...batch);
        tookAt = Date.now();
      },
    );
    await waitFor(() => taken.length >= 3, LEASE_MS + RENEW_MS + 4_000, 'the takeover');
    console.log(`      taken over ${tookAt - diedAt} ms after the instance stopped (lease ${LEASE_MS} ms, renew ${RENEW_MS} ms)`);
    assert.ok(tookAt - diedAt >= LEASE_MS, 'not before the lease ran out');
    await sleep(2 * LEASE_MS);
    assert.deepEqual(
      taken.map((r) => r.event.source),
      ['10.0.0.1', '10.0.0.2', '10.0.0.3'],
      'oldest first, each once, only the nodes this instance runs, none of the live instance',
    );
    assert.equal(typeof taken[0].at, 'number');
    const owned = await owners();
    assert.equal(owned.get('n1-10.0.0.1'), leader.instanceId);
    assert.equal(owned.get('n2-10.0.0.9'), 'dead');
    assert.equal(owned.get('n1-10.0.1.1'), live.instanceId);
    const claims = await operator.query<{ id: string }>('SELECT id FROM flowmon_add_claims ORDER BY id');
    await operator.end();
    assert.deepEqual(claims.rows.map((r) => r.id), ['live-claim'], "the dead instance's claim is freed at once, the live one's kept");
    await leader.openIntake(none).settle('n1-10.0.0.1');
    assert.equal((await owners()).has('n1-10.0.0.1'), false);
  });

  it('refuses a put quickly while PostgreSQL is down, and stores a settle made during a restart', async () => {
    const instance = store();
    const intake = instance.openIntake(none);
    await intake.put(records('n1', '10.0.2.1', '10.0.2.2'));
    await pg.server.stop();
    try {
      const started = Date.now();
      await assert.rejects(intake.put(records('n1', '10.0.2.3')), (err) => isStoreUnavailable(err));
      const refusedAfter = Date.now() - started;
      console.log(`      put refused ${refusedAfter} ms after PostgreSQL stopped`);
      assert.ok(refusedAfter < 4_000, `refused after ${refusedAfter} ms`);
      const settling = intake.settle('n1-10.0.2.1');
      await sleep(500);
      await pg.server.start();
      await settling;
    } finally {
      await pg.server.start();
    }
    assert.deepEqual([...(await owners()).keys()], ['n1-10.0.2.2']);
  });

  it('loads nothing to replay', async () => {
    assert.deepEqual(store().openIntake(none).load(), []);
  });
});
