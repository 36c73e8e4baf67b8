// The decision node: held blocks recorded by a TTL node (fake appliance) decided from a flow, every input bounded
// and checked before the registry is asked, results instead of errors, and done(err) only for an internal failure.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import helper from 'node-red-node-test-helper';
import sinon from 'sinon';
import decisionNode = require('../../../nodes/flowmon-decision/flowmon-decision');
import ttlNode = require('../../../nodes/flowmon-mitigation-ttl/flowmon-mitigation-ttl');
import { MAX_IDS } from '../../../nodes/flowmon-decision/request';
import { closeRegistries, getRegistry } from '../../../lib/registry';
import { nodeRedPath } from '../../support/node-red-path';
import { ambiguousCandidates, holdRequest } from '../decisions/support';
import { control, fakeAppliance, loadMasterMitigation, resetControls, until } from '../ttl/fake-appliance';

helper.init(nodeRedPath);

type Msg = { topic?: string; payload: any; counts?: Record<string, number>; keep?: string };

describe('flowmon-decision', function () {
  let userDir: string;
  let results: Msg[];
  let lifecycle: Msg[];
  const registry = () => getRegistry({ settings: { userDir } });

  async function load(name = 'chat answers') {
    const flow = [
      { id: 'f1', type: 'tab' },
      { id: 'lm', type: 'fake-appliance' },
      { id: 'ttl', z: 'f1', type: 'flowmon-mitigation-ttl', ttl: 2, ttlUnit: 'h', reconcile: 0, wires: [['life']] },
      { id: 'life', z: 'f1', type: 'helper' },
      { id: 'd', z: 'f1', type: 'flowmon-decision', name, wires: [['out']] },
      { id: 'out', z: 'f1', type: 'helper' },
    ];
    await helper.load([fakeAppliance, ttlNode, decisionNode], flow as never);
    results = [];
    lifecycle = [];
    helper.getNode('out').on('input', (m: unknown) => results.push(m as Msg));
    helper.getNode('life').on('input', (m: unknown) => lifecycle.push(m as Msg));
  }

  /** Holds `address` through the TTL node; resolves with the held entry's id. */
  async function hold(address: string, over: Parameters<typeof holdRequest>[0] = {}): Promise<string> {
    const before = lifecycle.length;
    const mitigation = { ...loadMasterMitigation(address, 'held'), hold: holdRequest(over) };
    helper.getNode('ttl').receive({ payload: { kind: 'ads', id: '5101', source: address, mitigation } } as never);
    await until(() => lifecycle.slice(before).some((m) => m.topic === 'held'), `${address} held`);
    return lifecycle.slice(before).find((m) => m.topic === 'held')!.payload.entry.id;
  }

  async function decide(msg: Record<string, unknown>): Promise<Msg> {
    const before = results.length;
    helper.getNode('d').receive(msg as never);
    await until(() => results.length > before, 'a result');
    return results[before];
  }

  beforeEach(() => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowmon-decision-'));
    helper.settings({ userDir });
    resetControls();
  });

  afterEach(async () => {
    await helper.unload();
    await closeRegistries();
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('approves a held block: recorded as decided by the flow node, applied, announced, the message passed on', async () => {
    await load();
    const id = await hold('10.0.0.5/32');
    const out = await decide({ payload: { id, action: 'approve' }, keep: 'the http request' });
    assert.deepEqual(out.payload, { id, status: 'approved' });
    assert.equal(out.keep, 'the http request', 'the rest of the message passes on');
    await until(() => lifecycle.some((m) => m.topic === 'applied'), 'applied');
    assert.equal(control('lm').applied.length, 1);
    assert.equal(control('lm').applied[0].key.target, '10.0.0.5/32');
    const approved = lifecycle.find((m) => m.topic === 'approved')!;
    assert.deepEqual(approved.payload.decision.by, { kind: 'flow', node: 'chat answers' });
    assert.equal(registry().get(id)!.state, 'active');
    const status = helper.getNode('d').status as unknown as sinon.SinonSpy;
    assert.equal(status.lastCall.args[0].text, 'approved 10.0.0.5/32 · 0 waiting');
    assert.equal(status.lastCall.args[0].fill, 'green');
  });

  it('takes the action from msg.topic; a second decision is not-held, an unknown id unknown; nothing is applied', async () => {
    await load('');
    const id = await hold('10.0.0.6/32');
    await hold('10.0.0.7/32');
    const out = await decide({ topic: 'discard', payload: { id } });
    assert.deepEqual(out.payload, { id, status: 'discarded' });
    assert.equal(registry().get(id)!.state, 'discarded');
    const discarded = await until(() => lifecycle.some((m) => m.topic === 'discarded'), 'discarded').then(() =>
      lifecycle.find((m) => m.topic === 'discarded')!,
    );
    assert.deepEqual(discarded.payload.decision.by, { kind: 'flow', node: 'd' }, 'no name: the node id');
    const again = await decide({ payload: { id, action: 'approve' } });
    assert.equal(again.payload.status, 'not-held');
    const unknown = await decide({ payload: { id: 'AAAAAAAAAAAAAAAA', action: 'approve' } });
    assert.deepEqual(unknown.payload, { id: 'AAAAAAAAAAAAAAAA', status: 'unknown' });
    assert.equal(control('lm').applied.length, 0);
    const status = helper.getNode('d').status as unknown as sinon.SinonSpy;
    assert.equal(status.lastCall.args[0].text, 'unknown · 1 waiting');
    assert.equal(status.lastCall.args[0].fill, 'yellow');
  });

  it('decides many ids at once: one result per id in the order given, with counts', async () => {
    await load();
    const a = await hold('10.0.1.1/32', { priority: 1 });
    const b = await hold('10.0.1.2/32', { priority: 5 });
    const out = await decide({ topic: 'approve', payload: { ids: [a, 'BBBBBBBBBBBBBBBB', b] } });
    assert.deepEqual(out.payload, [
      { id: a, status: 'approved' },
      { id: 'BBBBBBBBBBBBBBBB', status: 'unknown' },
      { id: b, status: 'approved' },
    ]);
    assert.deepEqual(out.counts, { approved: 2, discarded: 0, 'not-held': 0, unknown: 1, invalid: 0 });
    await until(() => control('lm').applied.length === 2, 'both applied');
    assert.deepEqual(control('lm').applied.map((c) => c.key.target), ['10.0.1.2/32', '10.0.1.1/32'], 'higher priority first');
    const status = helper.getNode('d').status as unknown as sinon.SinonSpy;
    assert.equal(status.lastCall.args[0].text, '2 approved, 1 unknown · 0 waiting');
  });

  it('an ambiguous CryptoSpike entry is approved only with one of its users', async () => {
    await load();
    const id = await hold('10.0.0.9/32', { reason: 'ambiguous', reasonText: 'several users', candidates: ambiguousCandidates });
    const without = await decide({ payload: { id, action: 'approve' } });
    assert.equal(without.payload.status, 'invalid');
    assert.match(without.payload.error, /choose one of the/);
    const stranger = await decide({ payload: { id, action: 'approve', userId: 'S-1-5-21-9-9' } });
    assert.equal(stranger.payload.status, 'invalid');
    const chosen = ambiguousCandidates[1].userId;
    const ok = await decide({ payload: { id, action: 'approve', userId: chosen } });
    assert.deepEqual(ok.payload, { id, status: 'approved' });
    await until(() => control('lm').applied.length === 1, 'applied');
    assert.equal(control('lm').applied[0].userId, chosen);
  });

  it('answers a bad message with an invalid result before the registry is asked', async () => {
    await load();
    const id = await hold('10.0.0.8/32');
    const decideSpy = sinon.spy(registry().decisions, 'decide');
    const manySpy = sinon.spy(registry().decisions, 'decideMany');
    const long = 'x'.repeat(65);
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ payload: 'approve' }, /must be an object/],
      [{ payload: [id] }, /must be an object/],
      [{ payload: { action: 'approve' } }, /either msg.payload.id or msg.payload.ids/],
      [{ payload: { id, ids: [id], action: 'approve' } }, /either/],
      [{ payload: { id } }, /approve" or "discard/],
      [{ topic: 'held', payload: { id } }, /approve" or "discard/],
      [{ payload: { id, action: 'block' } }, /approve" or "discard/],
      [{ topic: 'discard', payload: { id, action: 'approve' } }, /disagree/],
      [{ payload: { id: 42, action: 'approve' } }, /non-empty string/],
      [{ payload: { id: '', action: 'approve' } }, /non-empty string/],
      [{ payload: { id: long, action: 'approve' } }, /at most 64/],
      [{ payload: { id, action: 'discard', userId: 'S-1' } }, /only when approving/],
      [{ payload: { id, action: 'approve', userId: 'u'.repeat(257) } }, /1 to 256/],
      [{ payload: { id, action: 'approve', userId: 7 } }, /1 to 256/],
      [{ payload: { ids: [id], action: 'approve', userId: 'S-1' } }, /one entry at a time/],
      [{ payload: { ids: id, action: 'approve' } }, /must be an array/],
      [{ payload: { ids: [], action: 'approve' } }, /is empty/],
      [{ payload: { ids: [id, long], action: 'approve' } }, /ids\[1\]: .*at most 64/],
      [{ payload: { ids: [id, null], action: 'approve' } }, /ids\[1\]/],
    ];
    for (const [msg, error] of cases) {
      const out = await decide(msg);
      assert.equal(out.payload.status, 'invalid', JSON.stringify(msg));
      assert.match(out.payload.error, error, JSON.stringify(msg));
      assert.ok(out.payload.id.length <= 64, 'an id that is not one is not sent back');
    }
    // More than MAX_IDS: refused by the count, before any element is read.
    const huge = new Proxy(new Array(MAX_IDS + 1).fill(id), {
      get(target, prop, receiver) {
        if (typeof prop === 'string' && /^\d+$/.test(prop)) throw new Error('an element was read');
        return Reflect.get(target, prop, receiver);
      },
    });
    const tooMany = await decide({ payload: { ids: huge, action: 'approve' } });
    assert.equal(tooMany.payload.status, 'invalid');
    assert.match(tooMany.payload.error, /at most 10000 ids/);
    assert.equal(decideSpy.callCount, 0);
    assert.equal(manySpy.callCount, 0);
    assert.equal(registry().get(id)!.state, 'held', 'nothing decided');
    const error = helper.getNode('d').error as unknown as sinon.SinonSpy;
    assert.equal(error.callCount, 0, 'results, not errors');
    const status = helper.getNode('d').status as unknown as sinon.SinonSpy;
    assert.equal(status.lastCall.args[0].fill, 'red');
    assert.equal(status.lastCall.args[0].text, 'invalid · 1 waiting');
  });

  it('a failure inside the decision goes to done(err) once, with no output', async () => {
    await load();
    const id = await hold('10.0.0.10/32');
    sinon.stub(registry().decisions, 'decide').rejects(new Error('journal write failed'));
    const error = helper.getNode('d').error as unknown as sinon.SinonSpy;
    helper.getNode('d').receive({ payload: { id, action: 'approve' } } as never);
    await until(() => error.callCount > 0, 'the error');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(error.callCount, 1);
    assert.match(String(error.firstCall.args[0]), /journal write failed/);
    assert.equal(results.length, 0);
  });

  it('shows how many blocks wait, also when they are held or decided elsewhere', async () => {
    await load();
    const status = helper.getNode('d').status as unknown as sinon.SinonSpy;
    assert.equal(status.lastCall.args[0].text, '0 waiting');
    const id = await hold('10.0.0.11/32');
    await until(() => status.lastCall.args[0].text === '1 waiting', 'status shows 1 waiting', 3000);
    await registry().decisions.decide(id, { action: 'discard', by: { kind: 'user', name: 'alice' } });
    await until(() => status.lastCall.args[0].text === '0 waiting', 'status shows 0 waiting', 3000);
  });
});
