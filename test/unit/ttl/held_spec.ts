import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import helper from 'node-red-node-test-helper';
import sinon from 'sinon';
import ttlNode = require('../../../nodes/flowmon-mitigation-ttl/flowmon-mitigation-ttl');
import { closeRegistries, getRegistry } from '../../../lib/registry';
import { nodeRedPath } from '../../support/node-red-path';
import { ambiguousCandidates, holdRequest } from '../decisions/support';
import { control, fakeAppliance, loadMasterMitigation, resetControls, until } from './fake-appliance';

helper.init(nodeRedPath);

type Msg = { topic: string; ttl?: number; payload: any };

const heldLoadMaster = (address: string, over: Parameters<typeof holdRequest>[0] = {}) => ({
  ...loadMasterMitigation(address, 'held'),
  hold: holdRequest(over),
});

const heldAmbiguous = () => ({
  appliance: 'cryptospike', config: 'lm', action: 'block', user: null, userIdType: 'WINDOWS', result: 'held',
  hold: holdRequest({ reason: 'ambiguous', reasonText: 'several users at 10.0.0.5', candidates: ambiguousCandidates }),
  at: new Date().toISOString(),
});

describe('flowmon-mitigation-ttl: held blocks', function () {
  let userDir: string;
  let out: Msg[];
  const registry = () => getRegistry({ settings: { userDir } });
  const topics = () => out.map((m) => m.topic);

  async function load() {
    const flow = [
      { id: 'f1', type: 'tab' },
      { id: 'lm', type: 'fake-appliance' },
      { id: 'out', z: 'f1', type: 'helper' },
      { id: 'ttl', z: 'f1', type: 'flowmon-mitigation-ttl', ttl: 2, ttlUnit: 'h', reconcile: 0, wires: [['out']] },
    ];
    await helper.load([fakeAppliance, ttlNode], flow as never);
    out = [];
    helper.getNode('out').on('input', (m: unknown) => out.push(m as Msg));
  }

  const send = (msg: Record<string, unknown>) => helper.getNode('ttl').receive(msg as never);

  beforeEach(() => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowmon-ttl-held-'));
    helper.settings({ userDir });
    resetControls();
  });

  afterEach(async () => {
    await helper.unload();
    await closeRegistries();
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('records a held mitigation and sends everything needed to ask a person; a repeat is only counted', async () => {
    await load();
    send({ payload: { kind: 'ads', id: '5101', source: '10.0.0.5', mitigation: heldLoadMaster('10.0.0.5/32') } });
    await until(() => out.length === 1, 'held');
    const m = out[0];
    assert.equal(m.topic, 'held');
    assert.equal(m.ttl, 7200, 'the TTL it gets when applied');
    const e = m.payload.entry;
    assert.equal(e.state, 'held');
    assert.equal(e.target, '10.0.0.5/32');
    assert.equal(e.owner, 'ttl');
    assert.deepEqual(e.eventIds, ['5101']);
    assert.equal(e.hold.reasonText, 'storm gate: at most 60 new blocks per 60 s');
    assert.equal(e.hold.event.description, 'port scan');
    assert.ok(Math.abs(e.hold.decideBy - (Date.now() + 3_600_000)) < 2000);
    assert.equal(registry().isActive({ configId: 'lm', scope: 'global:block', target: '10.0.0.5/32' }), false);
    const status = helper.getNode('ttl').status as unknown as sinon.SinonSpy;
    await until(() => status.called && /^0 active, 1 held/.test(status.lastCall.args[0].text), 'status shows 1 held');
    send({ payload: { kind: 'ads', id: '5102', source: '10.0.0.5', mitigation: heldLoadMaster('10.0.0.5/32') } });
    await until(() => registry().get(e.id)!.hits === 2, 'repeat counted');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(topics(), ['held']);
  });

  it('an ambiguous user is held under the source address, labelled with the candidates', async () => {
    await load();
    send({ payload: { kind: 'ads', id: '77', source: '10.0.0.5', mitigation: heldAmbiguous() } });
    await until(() => out.length === 1, 'held');
    const e = out[0].payload.entry;
    assert.equal(e.scope, 'ambiguous:WINDOWS');
    assert.equal(e.target, '10.0.0.5');
    assert.equal(e.label, 'ambiguous: jdoe (12), asmith (3)');
    assert.equal(e.hold.candidates.length, 2);
  });

  it('announces approved, then applied with the TTL and expiry, to the node that held it', async () => {
    await load();
    send({ payload: { mitigation: heldLoadMaster('10.0.0.6/32'), event: { id: 'e6' } } });
    await until(() => out.length === 1, 'held');
    const id = out[0].payload.entry.id;
    const res = await registry().decisions.decide(id, { action: 'approve', by: { kind: 'user', name: 'alice' } });
    assert.equal(res.status, 'approved');
    await until(() => topics().includes('applied'), 'applied');
    assert.deepEqual(topics(), ['held', 'approved', 'applied']);
    assert.equal(out[1].payload.entry.state, 'approving');
    assert.deepEqual(out[1].payload.decision.by, { kind: 'user', name: 'alice' });
    const applied = out[2];
    assert.equal(applied.ttl, 7200);
    assert.equal(applied.payload.entry.state, 'active');
    assert.ok(Math.abs(applied.payload.entry.expiresAt - (Date.now() + 7_200_000)) < 2000);
    assert.equal(control('lm').applied.length, 1);
    const status = helper.getNode('ttl').status as unknown as sinon.SinonSpy;
    await until(() => /^1 active, next in/.test(status.lastCall.args[0].text), 'status shows the block');
  });

  it('announces a discard with the decision and who made it; the appliance is never asked', async () => {
    await load();
    send({ payload: { mitigation: heldAmbiguous(), event: { id: 'e7', source: '10.0.0.5' } } });
    await until(() => out.length === 1, 'held');
    const id = out[0].payload.entry.id;
    await registry().decisions.decide(id, { action: 'discard', by: { kind: 'flow', node: 'decide1' } });
    await until(() => topics().includes('discarded'), 'discarded');
    const d = out.find((m) => m.topic === 'discarded')!;
    assert.equal(d.payload.entry.state, 'discarded');
    assert.deepEqual(d.payload.decision, { action: 'discard', by: { kind: 'flow', node: 'decide1' }, at: d.payload.decision.at });
    assert.equal(control('lm').applied.length, 0);
  });

  it('a held mitigation without its hold is an error, not a silent drop', async () => {
    await load();
    const errors: string[] = [];
    (helper.getNode('ttl') as unknown as { on(e: string, f: (m: unknown) => void): void }).on('call:error', (call: any) =>
      errors.push(String(call.args[0]?.message ?? call.args[0])),
    );
    send({ payload: { mitigation: loadMasterMitigation('10.0.0.8/32', 'held') } });
    await until(() => errors.length === 1, 'error');
    assert.match(errors[0], /says nothing about the hold/);
    assert.equal(registry().size, 0);
  });
});
