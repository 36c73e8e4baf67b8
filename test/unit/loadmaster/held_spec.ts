// flowmon-loadmaster-acl: blocks held for a person (storm gate, approval mode) and the config node's applyHeld.
import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';
import sinon from 'sinon';
import configNode = require('../../../nodes/flowmon-loadmaster-config/flowmon-loadmaster-config');
import aclNode = require('../../../nodes/flowmon-loadmaster-acl/flowmon-loadmaster-acl');
import type { LoadMasterConfigNode } from '../../../nodes/flowmon-loadmaster-config/types';
import type { AdsEvent, Priority } from '../../../lib/ads/event';
import { readLoadMasterSettings } from '../../../lib/loadmaster/settings';
import type { LoadMasterMitigation } from '../../../lib/mitigation/types';
import { MitigationRegistry } from '../../../lib/registry';
import { nodeRedPath } from '../../support/node-red-path';
import { AclOutputs, Output, simulatorPerSuite } from './support';

helper.init(nodeRedPath);

type Out = Output<{ payload: { mitigation: LoadMasterMitigation } }>;

function adsEvent(source: string, priority: Priority | null = 'high', id = '7'): Partial<AdsEvent> {
  return { kind: 'ads', id, method: 'SCANS', description: 'port scan', perspective: 'Security issues', priority, source, targets: [] };
}

describe('flowmon-loadmaster-acl: held blocks', () => {
  const simulator = simulatorPerSuite((s) => (s.switches.rateLimit = false));
  const outputs = new AclOutputs<Out['msg']>();
  let statuses: string[];

  beforeEach((done) => {
    helper.startServer(done);
  });
  afterEach(async () => {
    sinon.restore();
    await helper.unload();
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
  });

  async function load(config: Record<string, unknown> = {}) {
    const sim = simulator();
    const flow = [
      { id: 'f1', type: 'tab' },
      { id: 'c1', type: 'flowmon-loadmaster-config', url: sim.url, tlsFingerprint: sim.fingerprint, rateCalls: 500, rateWindow: 1, ...config },
      {
        id: 'n1',
        z: 'f1',
        type: 'flowmon-loadmaster-acl',
        config: 'c1',
        action: 'add',
        list: 'block',
        scope: 'global',
        vs: '',
        comment: 'ADS ID {{id}} - {{method}} ({{priority}})',
        wires: [['ok'], ['nok']],
      },
      { id: 'ok', z: 'f1', type: 'helper' },
      { id: 'nok', z: 'f1', type: 'helper' },
    ];
    await helper.load([configNode, aclNode], flow, { c1: { apiKey: sim.apiKey } });
    outputs.listen();
    statuses = [];
    (helper.getNode('n1') as any).on('call:status', (call: { args: [{ text?: string }] }) => statuses.push(call.args[0].text ?? ''));
  }

  const run = (...msgs: object[]): Promise<Out[]> => outputs.run(...msgs);

  const results = (outs: Out[]) => outs.map((o) => o.msg.payload.mitigation.result);
  const config = () => helper.getNode('c1') as unknown as LoadMasterConfigNode;

  it('holds the 61st new address of a minute (storm gate, default 60) with the whole HoldRequest; a protected one is refused, never held', async () => {
    await load({ neverBlock: '192.0.2.0/24' });
    const first = await run(...Array.from({ length: 60 }, (_, n) => ({ payload: adsEvent(`198.51.100.${n + 1}`) })));
    assert.deepEqual(new Set(results(first)), new Set(['added']));
    const [held, protectedOne] = await run({ payload: adsEvent('203.0.113.61', 'critical', '61') }, { payload: adsEvent('192.0.2.9') });
    assert.equal(held.port, 1, 'held blocks go out on output 1, to the TTL node');
    const m = held.msg.payload.mitigation;
    assert.equal(m.result, 'held');
    assert.equal(m.address, '203.0.113.61/32');
    assert.deepEqual(m.hold, {
      reason: 'storm',
      reasonText: 'storm gate: at most 60 new blocks per 60 s without a decision',
      event: { id: '61', method: 'SCANS', priority: 'critical', perspective: 'Security issues', description: 'port scan', source: '203.0.113.61' },
      decideWithinMs: 3_600_000,
      onTimeout: 'discard',
      comment: 'ADS ID 61 - SCANS (critical) [flowmon-nr]',
      priority: 5,
    });
    assert.equal(m.reason, m.hold?.reasonText);
    assert.equal(protectedOne.port, 2);
    assert.equal(protectedOne.msg.payload.mitigation.result, 'refused');
    assert.equal(protectedOne.msg.payload.mitigation.hold, undefined);
    assert.match(String(protectedOne.msg.payload.mitigation.reason), /is protected/);
    assert.equal(simulator().calls.count('add'), 60);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(statuses.includes('held 1 · queue 0'), statuses.slice(-4).join(' | '));
  });

  it('an address the registry holds as active is already-present, not held', async () => {
    sinon.stub(MitigationRegistry.prototype, 'isActive').callsFake((k) => k.target === '198.51.100.2/32');
    await load({ stormCap: '1' });
    assert.deepEqual(results(await run({ payload: '198.51.100.1' }, { payload: '198.51.100.2' }, { payload: '198.51.100.3' })), [
      'added',
      'already-present',
      'held',
    ]);
  });

  it('approval "below a priority": events of that priority or higher go through, the rest wait (no event counts as medium)', async () => {
    await load({ approval: 'below', decideWithin: '15', onTimeout: 'apply' });
    const outs = await run(
      { payload: adsEvent('198.51.100.1', 'critical') },
      { payload: adsEvent('198.51.100.2', 'high') },
      { payload: '198.51.100.3' },
      { payload: '198.51.100.4', list: 'allow' },
    );
    assert.deepEqual(results(outs), ['added', 'held', 'held', 'added']);
    const high = outs[1].msg.payload.mitigation.hold!;
    assert.equal(high.reason, 'approval');
    assert.equal(high.reasonText, 'approval required for events below critical');
    assert.equal(high.decideWithinMs, 15 * 60_000);
    assert.equal(high.onTimeout, 'apply');
    assert.equal(high.priority, 4);
    assert.equal(outs[2].msg.payload.mitigation.hold?.event, null);
    assert.equal(outs[2].msg.payload.mitigation.hold?.priority, 3);
    assert.deepEqual(simulator().calls.entries.filter((c) => c.verb === 'add').map((c) => c.addr).sort(), ['198.51.100.1/32', '198.51.100.4/32']);
    await helper.unload();
    await load({ approval: 'below', approvalPriority: 'medium' });
    assert.deepEqual(results(await run({ payload: '198.51.100.5' }, { payload: adsEvent('198.51.100.6', 'low') }, { payload: adsEvent('198.51.100.7', null) })), [
      'added',
      'held',
      'added',
    ]);
  });

  it('approval "always" holds every new block and "never" (the default) none; waiting blocks do not use up the storm cap', async () => {
    await load({ approval: 'always', stormCap: '1' });
    const outs = await run({ payload: adsEvent('198.51.100.1', 'critical') }, { payload: '198.51.100.2' });
    assert.deepEqual(results(outs), ['held', 'held']);
    assert.equal(outs[0].msg.payload.mitigation.hold?.reasonText, 'approval required for every new block');
    const [removal] = await run({ payload: '198.51.100.1', action: 'remove' });
    assert.equal(removal.msg.payload.mitigation.result, 'removed', 'removals never wait');
    await helper.unload();
    await load({ approval: 'below', stormCap: '1' });
    assert.deepEqual(results(await run({ payload: adsEvent('198.51.100.3', 'low') }, { payload: adsEvent('198.51.100.4', 'low') })), ['held', 'held']);
    const [critical] = await run({ payload: adsEvent('198.51.100.5', 'critical') });
    assert.equal(critical.msg.payload.mitigation.result, 'added', 'the blocks waiting for approval took nothing from the cap');
    await helper.unload();
    await load({ stormCap: '2' });
    assert.deepEqual(results(await run({ payload: adsEvent('198.51.100.6', 'low') }, { payload: '198.51.100.7' })), ['added', 'added']);
  });

  it('simulate mode holds the same way', async () => {
    await load({ simulate: 'true', approval: 'below' });
    const outs = await run({ payload: adsEvent('198.51.100.1', 'critical') }, { payload: adsEvent('198.51.100.2', 'low') });
    assert.deepEqual(results(outs), ['simulated', 'held']);
    assert.equal(simulator().calls.writes, 0);
  });

  it('the config node applies a held block with the comment it would have written; a non-configuration rejects', async () => {
    await load({ stormCap: '1' });
    const [, held] = await run({ payload: '198.51.100.1' }, { payload: adsEvent('198.51.100.2', 'high', '42') });
    const hold = { ...held.msg.payload.mitigation.hold!, heldAt: Date.now(), decideBy: Date.now() + 1000 };
    const key = { configId: 'c1', scope: 'global:block', target: '198.51.100.2/32' };
    assert.deepEqual(await config().applyHeld(key, hold), { result: 'applied', key });
    assert.deepEqual(simulator().state.lists.block.find((e) => e.addr === '198.51.100.2/32'), {
      addr: '198.51.100.2/32',
      comment: 'ADS ID 42 - SCANS (high) [flowmon-nr]',
    });
    await helper.unload();
    await load({ url: 'http://not-https' });
    await assert.rejects(config().applyHeld(key, hold), /LoadMaster configuration: the URL field must start with https/);
  });

  it('reads the approval fields: defaults, choices and the decide-by limits', () => {
    const base = { url: 'https://lm.example', tlsMode: 'system' };
    const creds = { apiKey: 'k' };
    assert.deepEqual(readLoadMasterSettings(base, creds).approval, {
      mode: 'never',
      priority: 'critical',
      decideWithinMs: 3_600_000,
      onTimeout: 'discard',
    });
    assert.deepEqual(readLoadMasterSettings({ ...base, approval: 'below', approvalPriority: 'High', decideWithin: '5', onTimeout: 'apply' }, creds).approval, {
      mode: 'below',
      priority: 'high',
      decideWithinMs: 300_000,
      onTimeout: 'apply',
    });
    assert.equal(readLoadMasterSettings({ ...base, approval: '${UNSET_APPROVAL}' }, creds).approval.mode, 'never');
    assert.throws(() => readLoadMasterSettings({ ...base, approval: 'sometimes' }, creds), /approval must be one of never, below, always/);
    assert.throws(() => readLoadMasterSettings({ ...base, approvalPriority: 'urgent' }, creds), /approval priority must be one of/);
    assert.throws(() => readLoadMasterSettings({ ...base, decideWithin: '0' }, creds), /decide within \(minutes\) must be a whole number ≥ 1/);
    assert.throws(() => readLoadMasterSettings({ ...base, onTimeout: 'ignore' }, creds), /when no one decides must be one of discard, apply/);
  });
});
