// Held blocks on a real Node-RED with the main example against the simulators: nothing is dropped, a person (or the
// decide-by default) decides. A storm of 200 new sources is blocked up to the LoadMaster's cap and the rest held;
// held blocks survive kill -9 with their decide-by; approving them all (admin API) puts them on the appliance at the
// pace of its queue; discard never reaches it; the decide-by default applies or discards and is announced; a person
// picks one of two users; approval mode "below a priority" lets critical events through.
import assert = require('node:assert/strict');
import type { RegistryEntry } from '../../lib/registry/entry';
import { body, eventLine, sourceAddress } from '../faults/support/events';
import { Stack, nodeOfType, waitFor, type TapRecord } from '../faults/support/stack';

const SOURCES = 200;
const LM_CAP = 60;
const PACE_CALLS = 25;
const PACE_WINDOW_S = 3;

async function entriesOf(s: Stack, state: string, kind = 'loadmaster'): Promise<RegistryEntry[]> {
  return (await s.blocks()).filter((e) => e.state === state && e.kind === kind);
}

async function decide(s: Stack, path: string, request: unknown): Promise<{ status: number; body: any }> {
  const res = await s.nr.request('POST', `/flowmon-response/blocks/${path}`, request);
  return { status: res.status, body: await res.json() };
}

const lifecycle = (s: Stack, topic: string): TapRecord[] => [...s.taps('ttl0'), ...s.taps('ttl1')].filter((t) => t.topic === topic);

describe('held blocks: a storm of 200 new sources (main example as shipped)', function () {
  this.timeout(240000);
  let s: Stack;
  let heldBefore: Map<string, number>;

  before(async () => {
    s = await Stack.start({ blockTtl: '30m' });
  });
  after(async () => s?.close());

  it('blocks exactly as many as the cap allows (60 on the LoadMaster), holds the rest, drops none', async () => {
    const lines = Array.from({ length: SOURCES }, (_, i) => eventLine(`st-${i}`, sourceAddress(i)));
    const receipt = await s.post(body(lines));
    assert.equal(receipt.status, 202, JSON.stringify(receipt.body));
    assert.equal(receipt.body?.accepted, SOURCES);
    await waitFor(() => s.taps('lm-done').length + s.taps('lm-not-done').length >= SOURCES, 60000, 'every LoadMaster outcome');
    const active = await waitFor(async () => (await entriesOf(s, 'active')).length === LM_CAP, 30000, 'the 60 blocks recorded').then(() => entriesOf(s, 'active'));
    const held = await entriesOf(s, 'held');
    assert.equal(s.taps('lm-not-done').length, 0, 'nothing refused or failed');
    assert.equal(s.lm.calls.count('add'), LM_CAP);
    assert.equal(s.lmBlocked().length, LM_CAP);
    assert.equal(held.length, SOURCES - LM_CAP);
    assert.ok(held.every((e) => e.hold?.reason === 'storm'), 'held by the storm gate');
    const targets = [...active, ...held].map((e) => e.target.replace(/\/32$/, ''));
    assert.equal(new Set(targets).size, SOURCES, 'each source once');
    assert.deepEqual([...targets].sort(), Array.from({ length: SOURCES }, (_, i) => sourceAddress(i)).sort());
    assert.equal(lifecycle(s, 'held').length, SOURCES - LM_CAP, 'one held message each');
    heldBefore = new Map(held.map((e) => [e.id, e.hold!.decideBy]));
    console.log(`      storm: ${SOURCES} sources → ${active.length} blocked, ${held.length} held, 0 dropped`);
  });

  it('keeps them held, with the same decide-by, after kill -9 and a restart', async () => {
    await s.nr.kill9();
    await s.nr.restart();
    await s.waitUntilServing();
    const held = await entriesOf(s, 'held');
    assert.equal(held.length, SOURCES - LM_CAP);
    for (const e of held) assert.equal(e.hold!.decideBy, heldBefore.get(e.id), e.target);
    assert.equal(s.lm.calls.count('add'), LM_CAP, 'nothing applied by the restart');
  });

  it('approving all of them (admin API) puts every one on the LoadMaster within the pacing time', async () => {
    const ids = [...heldBefore.keys()];
    const started = Date.now();
    const answer = await decide(s, 'approve', { ids });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.results.filter((r: { status: string }) => r.status === 'approved').length, ids.length);
    await waitFor(() => s.lmBlocked().length === SOURCES, 60000, 'all 200 on the LoadMaster');
    const elapsed = (Date.now() - started) / 1000;
    const ceiling = Math.ceil(ids.length / PACE_CALLS) * PACE_WINDOW_S;
    console.log(`      approve ${ids.length} held: all on the LoadMaster in ${elapsed.toFixed(1)} s (pacing ${PACE_CALLS} calls / ${PACE_WINDOW_S} s: ≈ ${ceiling} s)`);
    assert.ok(elapsed <= ceiling + 5, `${elapsed} s`);
    assert.equal(s.lm.calls.count('add'), SOURCES, 'one add call per source');
    await waitFor(async () => (await entriesOf(s, 'active')).length === SOURCES, 15000, 'every entry active');
    assert.equal((await entriesOf(s, 'held')).length, 0);
  });
});

describe('held blocks: discard, and the decide-by default (approval "always", decide within 1 min)', function () {
  this.timeout(240000);
  let s: Stack;

  before(async () => {
    s = await Stack.start({
      blockTtl: '30m',
      patch: (flow) => {
        Object.assign(nodeOfType(flow, 'flowmon-loadmaster-config'), { approval: 'always', decideWithin: 1, onTimeout: 'apply' });
        Object.assign(nodeOfType(flow, 'flowmon-cryptospike-config'), { approval: 'always', decideWithin: 1, onTimeout: 'discard' });
      },
    });
    s.cs.seedActivity('192.0.2.70', 'S-1-5-21-7000-1', 'tdefault', 5);
  });
  after(async () => s?.close());

  it('discard: recorded and announced, nothing reaches the appliance', async () => {
    assert.equal((await s.post(body([eventLine('d-1', '192.0.2.71')]))).status, 202);
    const held = await waitFor(async () => (await entriesOf(s, 'held')).length === 1, 20000, 'one held').then(() => entriesOf(s, 'held'));
    const answer = await decide(s, `${held[0].id}/discard`, {});
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.status, 'discarded');
    await waitFor(() => lifecycle(s, 'discarded').some((t) => (t.payload.entry as any).id === held[0].id), 10000, 'discarded announced');
    const again = await decide(s, `${held[0].id}/approve`, {});
    assert.equal(again.status, 409);
    assert.equal(s.lm.calls.count('add'), 0);
    assert.equal(s.lmBlocked().length, 0);
  });

  it('decide-by passed: "apply" applies, "discard" discards; both recorded as the timeout and announced', async () => {
    const started = Date.now();
    assert.equal((await s.post(body([eventLine('t-1', '192.0.2.70')]))).status, 202);
    const lm = await waitFor(async () => (await entriesOf(s, 'held')).some((e) => e.target === '192.0.2.70/32'), 20000, 'LoadMaster held')
      .then(async () => (await entriesOf(s, 'held')).find((e) => e.target === '192.0.2.70/32')!);
    const cs = await waitFor(async () => (await entriesOf(s, 'held', 'cryptospike')).length === 1, 20000, 'CryptoSpike held')
      .then(async () => (await entriesOf(s, 'held', 'cryptospike'))[0]);
    assert.ok(Math.abs(lm.hold!.decideBy - (lm.hold!.heldAt + 60_000)) < 1000);
    assert.equal(s.lmBlocked().length, 0, 'waits for its decide-by');
    await waitFor(() => s.lmBlocked().includes('192.0.2.70'), 100000, 'the LoadMaster default (apply) taken');
    const waited = (Date.now() - started) / 1000;
    await waitFor(() => lifecycle(s, 'applied').some((t) => (t.payload.entry as any).id === lm.id), 15000, 'applied announced');
    await waitFor(() => lifecycle(s, 'discarded').some((t) => (t.payload.entry as any).id === cs.id), 30000, 'CryptoSpike default announced');
    const applied = lifecycle(s, 'applied').find((t) => (t.payload.entry as any).id === lm.id)!;
    assert.deepEqual((applied.payload as any).decision.by, { kind: 'timeout' });
    assert.equal((applied.payload as any).decision.action, 'approve');
    assert.ok(lifecycle(s, 'approved').some((t) => (t.payload.entry as any).id === lm.id), 'approved announced first');
    const discarded = lifecycle(s, 'discarded').find((t) => (t.payload.entry as any).id === cs.id)!;
    assert.deepEqual((discarded.payload as any).decision.by, { kind: 'timeout' });
    const all = await s.blocks();
    assert.equal(all.find((e) => e.id === lm.id)?.state, 'active');
    assert.equal(all.find((e) => e.id === cs.id)?.state, 'discarded');
    assert.deepEqual(all.find((e) => e.id === cs.id)?.decision?.by, { kind: 'timeout' });
    assert.deepEqual(s.csBlocked(), [], 'the discarded user was never blocked');
    console.log(`      decide-by default: LoadMaster applied after ${waited.toFixed(1)} s (decide within 1 min), CryptoSpike discarded`);
  });
});

describe('held blocks: a person picks the user; approval "below a priority"', function () {
  this.timeout(120000);
  let s: Stack;
  const users = [
    { userId: 'S-1-5-21-8000-1', username: 'pick-a' },
    { userId: 'S-1-5-21-8000-2', username: 'pick-b' },
  ];

  before(async () => {
    s = await Stack.start({
      blockTtl: '30m',
      patch: (flow) => Object.assign(nodeOfType(flow, 'flowmon-loadmaster-config'), { approval: 'below', approvalPriority: 'critical' }),
    });
    for (const u of users) s.cs.seedActivity('192.0.2.80', u.userId, u.username, 7);
  });
  after(async () => s?.close());

  it('two users at one source: held with both; approving one user id blocks that user only', async () => {
    assert.equal((await s.post(body([eventLine('a-1', '192.0.2.80', { priority: 'Critical' })]))).status, 202);
    const held = await waitFor(async () => (await entriesOf(s, 'held', 'cryptospike')).length === 1, 20000, 'ambiguous held')
      .then(async () => (await entriesOf(s, 'held', 'cryptospike'))[0]);
    assert.equal(held.hold?.reason, 'ambiguous');
    assert.deepEqual(held.hold?.candidates?.map((c) => c.userId).sort(), users.map((u) => u.userId).sort());
    const without = await decide(s, `${held.id}/approve`, {});
    assert.equal(without.status, 400, 'a user must be picked');
    const answer = await decide(s, `${held.id}/approve`, { userId: users[1].userId });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    await waitFor(() => s.csBlocked().includes(users[1].userId), 20000, 'the picked user blocked');
    assert.deepEqual(s.csBlocked(), [users[1].userId]);
    const applied = await waitFor(() => lifecycle(s, 'applied').length > 0, 10000, 'applied announced').then(() => lifecycle(s, 'applied')[0]);
    assert.equal((applied.payload as any).entry.target, users[1].userId);
    assert.equal((applied.payload as any).decision.userId, users[1].userId);
  });

  it('"below critical": a critical event is blocked at once, a medium one is held for approval', async () => {
    // 192.0.2.80 (critical, above) went through already.
    await waitFor(() => s.lmBlocked().includes('192.0.2.80'), 20000, 'the critical source blocked');
    assert.equal((await s.post(body([eventLine('m-1', '192.0.2.81', { priority: 'Medium' })]))).status, 202);
    const held = await waitFor(async () => (await entriesOf(s, 'held')).length === 1, 20000, 'the medium one held')
      .then(async () => (await entriesOf(s, 'held'))[0]);
    assert.equal(held.target, '192.0.2.81/32');
    assert.equal(held.hold?.reason, 'approval');
    assert.match(held.hold?.reasonText ?? '', /below critical/);
    assert.ok(!s.lmBlocked().includes('192.0.2.81'));
    assert.equal(s.lm.calls.count('add'), 1);
  });
});
