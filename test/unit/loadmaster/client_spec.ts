import assert from 'node:assert/strict';
import { LoadMasterConnection } from '../../../lib/loadmaster/create';
import { LoadMasterError } from '../../../lib/loadmaster/errors';
import { ApplianceConnectionError, ApplianceTlsError } from '../../../lib/http/errors';
import type { LoadMasterScope } from '../../../lib/mitigation/types';
import type { LoadMasterSimulator } from '../../../simulators/loadmaster';
import { connectTo, simulatorPerSuite } from './support';

describe('LoadMaster client against the simulator', () => {
  const simulator = simulatorPerSuite();
  let sim: LoadMasterSimulator;
  let conn: LoadMasterConnection;
  const extra: LoadMasterConnection[] = [];

  beforeEach(() => {
    sim = simulator();
    conn = connectTo(sim);
  });
  afterEach(async () => {
    await conn.close();
    for (const c of extra.splice(0)) await c.close();
  });

  const scopes: Array<[string, LoadMasterScope]> = [
    ['global', 'global'],
    ['VS 2', { vs: '2' }],
  ];
  for (const [name, scope] of scopes) {
    for (const list of ['block', 'allow'] as const) {
      it(`adds, lists and removes IPv4 and IPv6 on the ${name} ${list} list`, async () => {
        const lists = scope === 'global' ? sim.state.lists : sim.state.vs['2'];
        assert.equal(await conn.client.add(list, scope, '198.51.100.7/32', 'ADS ID 1 - SCANS'), 'added');
        assert.equal(await conn.client.add(list, scope, '2001:db8:1::/64', 'v6'), 'added');
        assert.deepEqual(lists[list], [
          { addr: '198.51.100.7/32', comment: 'ADS ID 1 - SCANS' },
          { addr: '2001:db8:1::/64', comment: 'v6' },
        ]);
        assert.deepEqual(
          (await conn.client.list(list, scope)).map((e) => e.cidr),
          ['198.51.100.7/32', '2001:db8:1::/64'],
        );
        assert.equal(await conn.client.remove(list, scope, '198.51.100.7/32'), 'removed');
        assert.equal(await conn.client.remove(list, scope, '2001:db8:1::/64'), 'removed');
        assert.deepEqual(lists[list], []);
        const verbs = sim.calls.entries.map((c) => c.verb);
        const prefix = scope === 'global' ? '' : 'vs';
        assert.deepEqual(verbs, [`add${prefix}`, `add${prefix}`, `list${prefix}`, `del${prefix}`, `del${prefix}`]);
        assert.ok(sim.calls.entries.every((c) => c.list === list && (scope === 'global' || c.vs === '2')));
      });
    }
  }

  for (const shape of ['k7', 'k8', 'flattened'] as const) {
    it(`lists with the ${shape} reply shape`, async () => {
      sim.switches.listShape = shape;
      await conn.client.add('block', 'global', '198.51.100.1/32', 'one');
      assert.deepEqual((await conn.client.list('block', 'global')).map((e) => e.cidr), ['198.51.100.1/32']);
      await conn.client.add('block', 'global', '198.51.100.2/32', 'two');
      assert.deepEqual((await conn.client.list('block', 'global')).map((e) => e.cidr), ['198.51.100.1/32', '198.51.100.2/32']);
    });
  }

  for (const duplicateAdd of ['succeed', 'fail'] as const) {
    for (const shape of ['k7', 'k8', 'flattened'] as const) {
      it(`is idempotent when a duplicate add ${duplicateAdd === 'fail' ? 'fails (422)' : 'succeeds'} (${shape} lists)`, async () => {
        sim.switches.duplicateAdd = duplicateAdd;
        sim.switches.listShape = shape;
        assert.equal(await conn.client.add('block', { vs: '1' }, '198.51.100.9/32', 'c'), 'added');
        const again = await conn.client.add('block', { vs: '1' }, '198.51.100.9/32', 'c');
        assert.equal(again, duplicateAdd === 'fail' ? 'already-present' : 'added');
        assert.equal(sim.state.vs['1'].block.length, 1);
        assert.equal(sim.calls.count('listvs'), duplicateAdd === 'fail' ? 1 : 0, 'listed only when refused');
      });
    }
  }

  for (const missingDelete of ['succeed', 'fail'] as const) {
    it(`is idempotent when deleting a missing entry ${missingDelete === 'fail' ? 'fails (422)' : 'succeeds'}`, async () => {
      sim.switches.missingDelete = missingDelete;
      const result = await conn.client.remove('block', 'global', '198.51.100.9/32');
      assert.equal(result, missingDelete === 'fail' ? 'already-absent' : 'removed');
      assert.equal(sim.calls.count('list'), missingDelete === 'fail' ? 1 : 0);
    });
  }

  it('does not take a refusal for success when the list disagrees (packet filter off)', async () => {
    sim.switches.packetFilter = false;
    await assert.rejects(conn.client.add('block', 'global', '198.51.100.9/32', 'c'), (err: Error) => {
      assert.ok(err instanceof LoadMasterError);
      assert.match(err.message, /refused.*packet filter is not enabled/);
      return true;
    });
    assert.equal(sim.calls.count('list'), 1);
  });

  it('reads HTTP 200 with status "fail" as a failure', async () => {
    sim.switches.httpOkOnFail = true;
    sim.switches.permissions = 'vs';
    await assert.rejects(conn.client.list('block', 'global'), /permission.*HTTP 403.*Incorrect permissions/);
    sim.switches.nextReplies.push({ httpStatus: 200, body: { code: 200, status: 'fail', message: 'odd' } });
    await assert.rejects(conn.client.list('block', { vs: '1' }), /reported a failure.*odd/);
  });

  it('maps 401 (key and password), 403, 404, 405 and 422 to clear errors without retrying them', async () => {
    const badKey = connectTo(sim, {}, { apiKey: 'wrong-key-123' });
    const badUser = connectTo(sim, { authType: 'user' }, { user: 'bal', password: 'wrong-password' });
    extra.push(badKey, badUser);
    await assert.rejects(badKey.client.list('block', 'global'), (err: Error) => {
      assert.match(err.message, /API key rejected \(HTTP 401\)/);
      assert.ok(!err.message.includes('wrong-key-123'));
      return true;
    });
    await assert.rejects(badUser.client.list('block', 'global'), /user name or password rejected/);
    sim.switches.permissions = 'vs';
    await assert.rejects(conn.client.add('block', 'global', '198.51.100.1/32', ''), /permission.*403/);
    sim.switches.permissions = 'all';
    sim.switches.apiEnabled = false;
    await assert.rejects(conn.client.list('block', 'global'), /API interface disabled on the LoadMaster.*HTTP 404/);
    sim.switches.apiEnabled = true;
    sim.switches.nextReplies.push({ httpStatus: 405, body: { code: 405, message: 'Unknown command', status: 'fail' } });
    await assert.rejects(conn.client.listVirtualServices(), /unknown command.*405/);
    await assert.rejects(conn.client.add('block', { vs: '99' }, '198.51.100.1/32', ''), /refused.*Invalid address/);
    assert.equal(sim.calls.entries.filter((c) => c.status === 401).length, 2, 'each 401 tried once');
  });

  it('logs in with user and password', async () => {
    const byUser = connectTo(sim, { authType: 'user' }, { user: 'bal', password: sim.users.bal });
    extra.push(byUser);
    assert.equal(await byUser.client.add('allow', 'global', '192.0.2.1/32', ''), 'added');
  });

  it('retries 5xx and dropped connections, then gives up after the configured attempts', async () => {
    sim.switches.nextReplies.push({ httpStatus: 503, body: { code: 503, status: 'fail', message: 'busy' } }, 'drop');
    assert.equal(await conn.client.add('block', 'global', '198.51.100.3/32', ''), 'added');
    assert.equal(sim.calls.count('add'), 2, 'the 503 and the success (the drop is not answered)');
    const once = connectTo(sim, { retries: 1 });
    extra.push(once);
    sim.switches.nextReplies.push('drop', 'drop');
    await assert.rejects(once.client.list('block', 'global'), ApplianceConnectionError);
  });

  it('fails over an outage with a connection error', async () => {
    const quick = connectTo(sim, { retries: 0 });
    extra.push(quick);
    sim.switches.outage = true;
    await assert.rejects(quick.client.list('block', 'global'), ApplianceConnectionError);
  });

  it('waits out an outage shorter than the outage retry window, and gives up after it', async () => {
    const patient = connectTo(sim, { retries: 0, outageRetry: 2 });
    extra.push(patient);
    sim.switches.outage = true;
    setTimeout(() => (sim.switches.outage = false), 1500);
    assert.equal(await patient.client.add('block', 'global', '198.51.100.4/32', ''), 'added');
    assert.equal(sim.calls.count('add'), 1, 'one add reached the LoadMaster, after the outage');
    sim.switches.outage = true;
    await assert.rejects(patient.client.list('block', 'global'), ApplianceConnectionError);
  });

  it('accepts the pinned certificate and refuses a wrong fingerprint or an unknown CA', async () => {
    assert.match((await conn.client.testConnection()).message, /connected/);
    const wrong = connectTo(sim, { tlsFingerprint: 'ab'.repeat(32) });
    const system = connectTo(sim, { tlsMode: 'system', tlsFingerprint: '' });
    extra.push(wrong, system);
    await assert.rejects(wrong.client.list('block', 'global'), (err: Error) => {
      assert.ok(err instanceof ApplianceTlsError);
      assert.match(err.message, /fingerprint mismatch/);
      return true;
    });
    await assert.rejects(system.client.list('block', 'global'), ApplianceTlsError);
    assert.equal(sim.calls.entries.length, 1, 'no API call over a refused certificate');
  });

  it('lists virtual services', async () => {
    const services = await conn.client.listVirtualServices();
    assert.deepEqual(
      services.map((vs) => [vs.index, vs.address, vs.port, vs.protocol, vs.name]),
      [
        ['1', '192.0.2.10', '443', 'tcp', 'web-https'],
        ['2', '192.0.2.10', '80', 'tcp', 'web-http'],
        ['3', '192.0.2.53', '53', 'udp', 'dns'],
      ],
    );
  });

  it('stays under the appliance rate limit with a burst (paced queue)', async () => {
    // As with the defaults (25 calls per 3 s against the appliance's 30), the client keeps a margin below the limit.
    // Here it is kept in time as well as in count, because the simulator shares this process's event loop: a stall
    // of the test process stamps arrivals late and would otherwise squeeze two windows together.
    sim.switches.rateLimitCalls = 6;
    sim.switches.rateLimitWindowMs = 400;
    const paced = connectTo(sim, { rateCalls: 5, rateWindow: 0.5 });
    extra.push(paced);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => paced.client.add('block', 'global', `198.51.100.${i + 1}/32`, '')),
    );
    assert.ok(results.every((r) => r === 'added'));
    assert.equal(sim.state.lists.block.length, 20);
    assert.equal(sim.droppedConnections, 0);
  });

  it('the simulator drops the connection beyond its rate limit (unpaced client)', async () => {
    sim.switches.rateLimitCalls = 3;
    sim.switches.rateLimitWindowMs = 60_000;
    const unpaced = connectTo(sim, { rateCalls: 10_000, rateWindow: 1, retries: 0 });
    extra.push(unpaced);
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) => unpaced.client.add('block', 'global', `198.51.100.${i + 1}/32`, '')),
    );
    assert.equal(results.filter((r) => r.status === 'rejected').length, 2);
    assert.equal(sim.droppedConnections, 2);
  });
});
