import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';
import sinon from 'sinon';
import configNode = require('../../../nodes/flowmon-loadmaster-config/flowmon-loadmaster-config');
import aclNode = require('../../../nodes/flowmon-loadmaster-acl/flowmon-loadmaster-acl');
import type { LoadMasterConfigNode } from '../../../nodes/flowmon-loadmaster-config/types';
import type { AdsEvent } from '../../../lib/ads/event';
import { LOADMASTER_COMMENT_TAG, LoadMasterMitigation, isMitigationAppliance } from '../../../lib/mitigation/types';
import { MitigationRegistry } from '../../../lib/registry';
import { LoadMasterSimulator, startLoadMasterSimulator } from '../../../simulators/loadmaster';
import { nodeRedPath } from '../../support/node-red-path';
import { AclOutputs, Output } from './support';

helper.init(nodeRedPath);

function on<T>(id: string, fn: (value: T) => void, event = 'input'): void {
  (helper.getNode(id) as any).on(event, fn);
}

type Out = Output<{ payload: Record<string, unknown> & { mitigation: LoadMasterMitigation }; ttl?: unknown }>;

function adsEvent(source: string, overrides: Partial<AdsEvent> = {}): AdsEvent {
  return {
    kind: 'ads',
    format: 'json-ads',
    id: '7',
    detectedAt: '2024-05-01T10:00:00Z',
    firstFlowAt: null,
    method: 'SCANS',
    subtype: null,
    mitre: null,
    description: 'port scan',
    perspective: null,
    priority: 'high',
    detail: '',
    ports: null,
    protocol: null,
    source,
    sourceName: null,
    targets: [],
    dataFeed: null,
    userIdentity: null,
    raw: '',
    ...overrides,
  };
}

describe('flowmon-loadmaster-config and flowmon-loadmaster-acl', () => {
  let sim: LoadMasterSimulator;
  const outputs = new AclOutputs<Out['msg']>();
  let caught: Array<{ error: { message: string; source: { id: string } } }>;

  before(async () => {
    sim = await startLoadMasterSimulator();
  });
  after(async () => {
    await sim.close();
  });
  beforeEach((done) => {
    sim.reset();
    helper.startServer(done);
  });
  afterEach(async () => {
    sinon.restore();
    await helper.unload();
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
  });

  async function load(config: Record<string, unknown> = {}, acl: Record<string, unknown> = {}, creds?: object) {
    const flow = [
      { id: 'f1', type: 'tab' },
      { id: 'c1', type: 'flowmon-loadmaster-config', url: sim.url, tlsFingerprint: sim.fingerprint, ...config },
      {
        id: 'n1',
        z: 'f1',
        type: 'flowmon-loadmaster-acl',
        config: 'c1',
        action: 'add',
        list: 'block',
        scope: 'global',
        vs: '',
        comment: 'ADS ID {{id}} - {{method}}',
        wires: [['ok'], ['nok']],
        ...acl,
      },
      { id: 'ok', z: 'f1', type: 'helper' },
      { id: 'nok', z: 'f1', type: 'helper' },
      { id: 'catcher', z: 'f1', type: 'catch', scope: null, wires: [['caught']] },
      { id: 'caught', z: 'f1', type: 'helper' },
    ];
    await helper.load([configNode, aclNode], flow, { c1: creds ?? { apiKey: sim.apiKey } });
    outputs.listen();
    caught = [];
    on('caught', (msg: (typeof caught)[number]) => caught.push(msg));
  }

  const run = (...msgs: object[]): Promise<Out[]> => outputs.run(...msgs);

  const config = () => helper.getNode('c1') as unknown as LoadMasterConfigNode;

  it('blocks the source of an ADS event and describes the mitigation on output 1', async () => {
    await load();
    const [out] = await run({ payload: adsEvent('198.51.100.7'), ttl: '1h' });
    assert.equal(out.port, 1);
    const { mitigation, ...event } = out.msg.payload;
    assert.equal(event.source, '198.51.100.7', 'the event is kept');
    assert.equal(out.msg.ttl, '1h', 'msg.ttl passes through');
    assert.deepEqual({ ...mitigation, at: undefined }, {
      appliance: 'loadmaster',
      config: 'c1',
      action: 'add',
      list: 'block',
      scope: 'global',
      address: '198.51.100.7/32',
      result: 'added',
      at: undefined,
    });
    assert.ok(!Number.isNaN(Date.parse(mitigation.at)));
    assert.deepEqual(sim.state.lists.block, [{ addr: '198.51.100.7/32', comment: `ADS ID 7 - SCANS ${LOADMASTER_COMMENT_TAG}` }]);
  });

  it('takes the address from msg.payload as a string or msg.ip, and msg.action / msg.list / msg.vs', async () => {
    await load();
    const outs = await run(
      { payload: '198.51.100.8' },
      { ip: '198.51.100.9', vs: 2 },
      { payload: '198.51.100.10', list: 'allow', vs: '3' },
    );
    assert.deepEqual(outs.map((o) => [o.port, o.msg.payload.mitigation.result]), [[1, 'added'], [1, 'added'], [1, 'added']]);
    assert.deepEqual(outs[1].msg.payload.mitigation.scope, { vs: '2' });
    assert.equal(outs[0].msg.payload.source, '198.51.100.8');
    assert.deepEqual(sim.state.lists.block.map((e) => e.addr), ['198.51.100.8/32']);
    assert.deepEqual(sim.state.vs['2'].block.map((e) => e.addr), ['198.51.100.9/32']);
    assert.deepEqual(sim.state.vs['3'].allow.map((e) => e.addr), ['198.51.100.10/32']);
    assert.match(sim.state.lists.block[0].comment, /^manual request 198\.51\.100\.8 \[flowmon-nr\]$/);
    const [removed] = await run({ payload: '198.51.100.9', vs: '2', action: 'remove' });
    assert.equal(removed.msg.payload.mitigation.result, 'removed');
    assert.equal(removed.msg.payload.mitigation.action, 'remove');
    assert.deepEqual(sim.state.vs['2'].block, []);
  });

  it('blocks an IPv6 source as /128, or as the configured prefix (/64)', async () => {
    await load({ ipv6Prefix: '64' });
    const [out] = await run({ payload: adsEvent('2001:db8:1:2:aa::5') });
    assert.equal(out.msg.payload.mitigation.address, '2001:db8:1:2::/64');
    assert.deepEqual(sim.state.lists.block.map((e) => e.addr), ['2001:db8:1:2::/64']);
    await helper.unload();
    await load({}, { scope: 'vs', vs: '1' });
    const [full] = await run({ payload: adsEvent('2001:db8:1:2:aa::5') });
    assert.equal(full.msg.payload.mitigation.address, '2001:db8:1:2:aa::5/128');
    assert.deepEqual(full.msg.payload.mitigation.scope, { vs: '1' });
  });

  it('refuses protected addresses on every path (event, manual message, msg.ip, reapply) without calling the LoadMaster', async () => {
    await load({ neverBlock: '10.9.8.0/24\n2001:db8:dead::/48' });
    const outs = await run(
      { payload: adsEvent('127.0.0.1') },
      { payload: '10.9.0.0/16' },
      { ip: '224.0.0.5' },
      { payload: adsEvent('2001:db8:dead:1::9') },
      { payload: 'fe80::1' },
      { payload: '255.255.255.255' },
      { payload: '0.0.0.0' },
    );
    for (const out of outs) {
      assert.equal(out.port, 2);
      assert.equal(out.msg.payload.mitigation.result, 'refused');
      assert.match(String(out.msg.payload.mitigation.reason), /is protected/);
    }
    assert.match(String(outs[1].msg.payload.mitigation.reason), /never-block list 10\.9\.8\.0\/24/);
    await assert.rejects(
      config().reapplyMitigation!({ configId: 'c1', scope: 'global:block', target: '10.9.8.1/32' }, 'x'),
      /is protected/,
    );
    assert.equal(sim.calls.entries.length, 0);
    assert.equal(caught.length, 0, 'refusals are not errors');
  });

  it('holds new blocks over the per-minute cap (storm gate) for a decision, on output 1', async () => {
    await load({ stormCap: '2' });
    const outs = await run({ payload: '198.51.100.1' }, { payload: '198.51.100.2' }, { payload: '198.51.100.3' });
    assert.deepEqual(outs.map((o) => o.msg.payload.mitigation.result).sort(), ['added', 'added', 'held']);
    assert.ok(outs.every((o) => o.port === 1), 'held blocks go to output 1, wired to the TTL node');
    const held = outs.find((o) => o.msg.payload.mitigation.result === 'held')!.msg.payload.mitigation;
    assert.match(String(held.reason), /storm gate: at most 2 new blocks per 60 s/);
    assert.equal(held.hold?.reason, 'storm');
    assert.equal(held.hold?.reasonText, held.reason);
    assert.equal(held.hold?.event, null, 'a manual request carries no event');
    assert.equal(held.hold?.priority, 3, 'a manual request is queued as medium');
    assert.match(String(held.hold?.comment), /^manual request 198\.51\.100\.\d \[flowmon-nr\]$/);
    assert.equal(sim.state.lists.block.length, 2);
    const [removal] = await run({ payload: '198.51.100.1', action: 'remove' });
    assert.equal(removal.msg.payload.mitigation.result, 'removed', 'removals are not capped');
  });

  it('simulate mode runs every check but writes nothing', async () => {
    await load({ simulate: 'true', stormCap: '1' });
    const outs = await run({ payload: '198.51.100.1' }, { payload: '127.0.0.1' }, { payload: '198.51.100.2' });
    assert.deepEqual(outs.map((o) => o.msg.payload.mitigation.result), ['simulated', 'refused', 'held']);
    assert.equal(outs[2].msg.payload.mitigation.hold?.reason, 'storm', 'simulate mode holds as the real one would');
    assert.equal(await config().releaseMitigation({ configId: 'c1', scope: 'global:block', target: '198.51.100.1/32' }), 'simulated');
    assert.equal(config().simulate, true);
    assert.equal(sim.calls.writes, 0);
  });

  it('a second request for an address being added waits for the first instead of calling again', async () => {
    sim.switches.latencyMs = 50;
    await load();
    const outs = await run({ payload: adsEvent('198.51.100.5') }, { payload: '198.51.100.5' }, { ip: '198.51.100.5' });
    assert.deepEqual(outs.map((o) => o.msg.payload.mitigation.result).sort(), ['added', 'already-present', 'already-present']);
    assert.equal(sim.calls.count('add'), 1);
  });

  it('does not send an address the TTL registry holds as actively blocked', async () => {
    const isActive = sinon.stub(MitigationRegistry.prototype, 'isActive');
    isActive.callsFake((key) => key.configId === 'c1' && key.scope === 'global:block' && key.target === '198.51.100.5/32');
    await load();
    const outs = await run({ payload: adsEvent('198.51.100.5') }, { payload: adsEvent('198.51.100.6') });
    assert.deepEqual(outs.map((o) => o.msg.payload.mitigation.result), ['already-present', 'added']);
    assert.deepEqual(sim.calls.entries.map((c) => c.addr), ['198.51.100.6/32']);
  });

  it('refuses an invalid address, action or virtual service on output 2 with a reason', async () => {
    await load();
    const outs = await run(
      { payload: 'not-an-ip' },
      { payload: '10.0.0.1/24' },
      { payload: '198.51.100.1', action: 'drop' },
      { payload: '198.51.100.1', vs: 'web' },
      { payload: { nothing: true } },
    );
    assert.ok(outs.every((o) => o.port === 2 && o.msg.payload.mitigation.result === 'refused'));
    assert.match(String(outs[0].msg.payload.mitigation.reason), /not an IP address/);
    assert.match(String(outs[2].msg.payload.mitigation.reason), /msg.action must be "add" or "remove"/);
    assert.match(String(outs[3].msg.payload.mitigation.reason), /not a virtual service index/);
    assert.match(String(outs[4].msg.payload.mitigation.reason), /no address/);
    assert.equal(sim.calls.entries.length, 0);
  });

  it('sends appliance errors to output 2 and to Catch nodes', async () => {
    sim.switches.permissions = 'vs';
    await load();
    const [out] = await run({ payload: adsEvent('198.51.100.1') });
    assert.equal(out.port, 2);
    assert.equal(out.msg.payload.mitigation.result, 'failed');
    assert.match(String(out.msg.payload.mitigation.reason), /permission.*403/);
    while (caught.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(caught[0].error.source.id, 'n1');
    assert.match(caught[0].error.message, /permission/);
  });

  it('refuses requests beyond the queue limit', async () => {
    sim.switches.latencyMs = 100;
    await load({ maxQueued: '1', rateCalls: '1', rateWindow: '0.3' });
    const outs = await run({ payload: '198.51.100.1' }, { payload: '198.51.100.2' }, { payload: '198.51.100.3' });
    const refused = outs.filter((o) => o.port === 2);
    assert.equal(refused.length, 1);
    assert.match(String(refused[0].msg.payload.mitigation.reason), /queue full/);
    assert.equal(caught.length, 0);
  });

  it('reports a configuration error on every message', async () => {
    await load({}, {}, {});
    const [out] = await run({ payload: '198.51.100.1' });
    assert.equal(out.msg.payload.mitigation.result, 'failed');
    assert.match(String(out.msg.payload.mitigation.reason), /API key is missing/);
  });

  it('shows the last result and the queue depth in the status', async () => {
    await load();
    const statuses: Array<{ text?: string }> = [];
    on('n1', (call: { args: [{ text?: string }] }) => statuses.push(call.args[0]), 'call:status');
    await run({ payload: '198.51.100.1' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(statuses.some((s) => /^added 198\.51\.100\.1\/32 \(global\) · queue \d+$/.test(s.text ?? '')), JSON.stringify(statuses));
  });

  it('is a MitigationAppliance: release, tagged targets and reapply', async () => {
    await load();
    const cfg = config();
    assert.ok(isMitigationAppliance(cfg));
    assert.equal(cfg.applianceKind, 'loadmaster');
    sim.state.lists.block.push({ addr: '192.0.2.99/32', comment: 'added by hand' });
    await run({ payload: '198.51.100.1' });
    assert.deepEqual(await cfg.listTaggedTargets!('global:block'), ['198.51.100.1/32']);
    const key = { configId: 'c1', scope: 'global:block', target: '198.51.100.1/32' };
    assert.equal(await cfg.releaseMitigation(key), 'released');
    sim.switches.missingDelete = 'fail';
    assert.equal(await cfg.releaseMitigation(key), 'already-absent');
    await cfg.reapplyMitigation!({ configId: 'c1', scope: 'vs:3:block', target: '198.51.100.4/32' }, 'ADS ID 9 - DOS [flowmon-nr]');
    assert.deepEqual(sim.state.vs['3'].block, [{ addr: '198.51.100.4/32', comment: 'ADS ID 9 - DOS [flowmon-nr]' }]);
    sim.switches.permissions = 'vs';
    await assert.rejects(cfg.releaseMitigation({ configId: 'c1', scope: 'global:block', target: '192.0.2.99/32' }), /permission/);
  });

  it('reads its fields from environment variables', async () => {
    process.env.FLOWMON_TEST_LM_URL = sim.url;
    process.env.FLOWMON_TEST_LM_PIN = sim.fingerprint;
    process.env.FLOWMON_TEST_LM_SIM = 'true';
    try {
      await load(
        { url: '${FLOWMON_TEST_LM_URL}', tlsFingerprint: '${FLOWMON_TEST_LM_PIN}', simulate: 'FLOWMON_TEST_LM_SIM', simulateType: 'env' },
        {},
      );
      const [out] = await run({ payload: '198.51.100.1' });
      assert.equal(out.msg.payload.mitigation.result, 'simulated');
      assert.match((await config().listTaggedTargets!('global:block')).join(), /^$/);
      assert.equal(sim.calls.count('list'), 1, 'the pinned URL from the environment was reached');
    } finally {
      delete process.env.FLOWMON_TEST_LM_URL;
      delete process.env.FLOWMON_TEST_LM_PIN;
      delete process.env.FLOWMON_TEST_LM_SIM;
    }
  });

  describe('admin routes', () => {
    // The connection fields as deployed by load(): the deployed key is used only while they are unchanged.
    const body = (extra: object = {}) => ({ id: 'c1', url: sim.url, tlsMode: 'auto', tlsFingerprint: sim.fingerprint, ...extra });

    it('tests the connection with the deployed credentials when the dialog sends the placeholder', async () => {
      await load();
      const ok = await helper.request().post('/flowmon-response/loadmaster/test').send(body({ apiKey: '__PWRD__' })).expect(200);
      assert.equal(ok.body.ok, true);
      assert.match(ok.body.message, /connected/);
      const bad = await helper.request().post('/flowmon-response/loadmaster/test').send(body({ apiKey: 'typed-wrong-key' })).expect(200);
      assert.equal(bad.body.ok, false);
      assert.match(bad.body.message, /API key rejected/);
      assert.ok(!JSON.stringify(bad.body).includes('typed-wrong-key') && !JSON.stringify(ok.body).includes(sim.apiKey));
      const pin = await helper.request().post('/flowmon-response/loadmaster/test').send(body({ tlsFingerprint: 'cd'.repeat(32) })).expect(200);
      assert.match(pin.body.message, /^enter the API key: the URL or TLS settings differ/);
      const typedPin = await helper
        .request()
        .post('/flowmon-response/loadmaster/test')
        .send(body({ tlsFingerprint: 'cd'.repeat(32), apiKey: sim.apiKey }))
        .expect(200);
      assert.match(typedPin.body.message, /fingerprint mismatch/);
    });

    it('lists the virtual services for the picker', async () => {
      await load();
      const reply = await helper.request().post('/flowmon-response/loadmaster/virtual-services').send(body()).expect(200);
      assert.deepEqual(reply.body[0], { index: '1', address: '192.0.2.10', port: '443', protocol: 'tcp', name: 'web-https' });
      assert.equal(reply.body.length, 3);
      const noCreds = await helper
        .request()
        .post('/flowmon-response/loadmaster/virtual-services')
        .send({ ...body(), id: 'unknown' })
        .expect(404);
      assert.equal(noCreds.body.ok, false);
      assert.match(noCreds.body.message, /enter the API key/);
    });
  });
});
