import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sinon from 'sinon';
import type { MitigationAppliance } from '../../../lib/mitigation/types';
import { ambiguousHoldKey } from '../../../lib/mitigation/types';
import type { RuntimeRegistry } from '../../../lib/registry';
import { ambiguousCandidates, FakeHeldAppliance, holdRequest, lmKey, Runtime, runtime, settle } from './support';

const HOUR = 3_600_000;
const user = { kind: 'user', name: 'alice' } as const;

/** The journal's last record of an entry, as a restart would read it. */
function onDisk(file: string, id: string): Record<string, any> | undefined {
  let last: Record<string, any> | undefined;
  for (const line of fs.readFileSync(file, 'utf8').trim().split('\n')) {
    const rec = JSON.parse(line);
    if (rec.p?.id === id) last = rec.p;
  }
  return last;
}

describe('decisions: DecisionService', function () {
  let dir: string;
  let file: string;
  let clock: sinon.SinonFakeTimers;
  let lm: FakeHeldAppliance;
  let rt: Runtime;
  const open: Runtime[] = [];

  function start(started = true): Runtime {
    const r = runtime(file, new Map<string, MitigationAppliance>([['lm', lm]]), started);
    open.push(r);
    return r;
  }

  async function reopen(): Promise<RuntimeRegistry> {
    await rt.registry.shutdown();
    rt = start();
    return rt.registry;
  }

  async function held(target: string, over: Parameters<typeof holdRequest>[0] = {}, key = lmKey(target)) {
    const res = await rt.registry.hold({ key, kind: 'loadmaster', hold: holdRequest(over), ttlSeconds: 600, eventId: 'e-' + target, owner: 'ttl1' });
    return res.entry.id;
  }

  /** Waits (real time) until `cond` holds, letting due timers of the fake clock fire meanwhile. */
  async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
    const end = performance.now() + ms;
    while (!cond()) {
      if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
      await clock.tickAsync(0);
      await new Promise((r) => setImmediate(r));
    }
  }

  /** Waits for the announcement of `type` on entry `id` (it comes once the change is durable). */
  const announced = (type: string, id: string) =>
    until(() => rt.decided.some((d) => d.type === type && (d.entry.id === id || d.held?.id === id)), `${type} of ${id}`);

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowmon-decide-'));
    file = path.join(dir, 'registry.jsonl');
    clock = sinon.useFakeTimers({ now: Date.UTC(2026, 0, 1), toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    lm = new FakeHeldAppliance();
    rt = start();
  });

  afterEach(async () => {
    for (const r of open.splice(0)) await r.registry.shutdown().catch(() => undefined);
    clock.restore();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('approve: journaled as approving before it resolves, then applied once and active with its TTL from then', async () => {
    const id = await held('10.0.0.5/32');
    lm.gate = new Promise(() => undefined); // the appliance does not answer yet
    const res = await rt.registry.decisions.decide(id, { action: 'approve', by: user });
    assert.deepEqual(res, { id, status: 'approved' });
    const rec = onDisk(file, id)!;
    assert.equal(rec.state, 'approving');
    assert.deepEqual(rec.decision, { action: 'approve', by: user, at: Date.now() });
    assert.deepEqual(rt.decided.map((d) => d.type), ['approved']);
    lm.gate = undefined;
    await rt.registry.shutdown(); // the apply above never ends: start again and let the restart apply it
    clock.tick(60_000);
    rt = start();
    await announced('applied', id);
    assert.equal(lm.calls.length, 1);
    assert.deepEqual(lm.calls[0].key, lmKey('10.0.0.5/32'));
    assert.equal(lm.calls[0].hold.reason, 'storm');
    const e = rt.registry.get(id)!;
    assert.equal(e.expiresAt, Date.now() + 600_000, 'the TTL starts when the block is applied');
    assert.equal(e.decision!.by.kind, 'user');
    assert.equal(e.hold!.reasonText, 'storm gate: at most 60 new blocks per 60 s');
    assert.ok(rt.registry.isActive(lmKey('10.0.0.5/32')));
    assert.equal(rt.decided.at(-1)!.type, 'applied');
    assert.equal(onDisk(file, id)!.state, 'active');
  });

  it('discard: journaled, announced with who decided, and nothing reaches the appliance', async () => {
    const id = await held('10.0.0.6/32');
    const res = await rt.registry.decisions.decide(id, { action: 'discard', by: { kind: 'flow', node: 'decide1' } });
    assert.equal(res.status, 'discarded');
    assert.equal(onDisk(file, id)!.state, 'discarded');
    const reg = await reopen();
    assert.equal(reg.get(id)!.state, 'discarded');
    assert.deepEqual(reg.get(id)!.decision!.by, { kind: 'flow', node: 'decide1' });
    await settle();
    assert.equal(lm.calls.length, 0);
  });

  it('answers unknown, not-held (first decision wins) and invalid requests', async () => {
    const id = await held('10.0.0.7/32');
    const d = rt.registry.decisions;
    assert.equal((await d.decide('nope', { action: 'approve', by: user })).status, 'unknown');
    assert.equal((await d.decide(id, { action: 'block' as never, by: user })).status, 'invalid');
    assert.equal((await d.decide(id, { action: 'approve', by: { kind: 'user', name: '' } })).status, 'invalid');
    assert.equal((await d.decide(id, { action: 'approve', by: user, userId: 'S-1' })).status, 'invalid', 'a user only for ambiguous');
    const [a, b] = await Promise.all([
      d.decide(id, { action: 'discard', by: user }),
      d.decide(id, { action: 'approve', by: { kind: 'user', name: 'bob' } }),
    ]);
    assert.equal(a.status, 'discarded');
    assert.equal(b.status, 'not-held');
    assert.equal(rt.registry.get(id)!.decision!.by.kind === 'user' && (rt.registry.get(id)!.decision!.by as { name: string }).name, 'alice');
  });

  it('ambiguous: a missing or unknown user is invalid; the chosen user is blocked under their key, the held entry approved', async () => {
    const key = ambiguousHoldKey('lm', 'WINDOWS', '10.0.0.8');
    const id = await held('x', { reason: 'ambiguous', candidates: ambiguousCandidates }, key);
    const d = rt.registry.decisions;
    assert.equal((await d.decide(id, { action: 'approve', by: user })).status, 'invalid');
    const wrong = await d.decide(id, { action: 'approve', by: user, userId: 'S-1-5-21-1-9999' });
    assert.equal(wrong.status, 'invalid');
    assert.match(wrong.error!, /not one of the users seen at 10\.0\.0\.8/);
    assert.equal(rt.registry.get(id)!.state, 'held');
    assert.equal((await d.decide(id, { action: 'approve', by: user, userId: 'S-1-5-21-1-1105' })).status, 'approved');
    const userKey = { configId: 'lm', scope: 'user:WINDOWS', target: 'S-1-5-21-1-1105' };
    await until(() => rt.registry.isActive(userKey), 'the chosen user blocked');
    assert.equal(lm.calls[0].userId, 'S-1-5-21-1-1105');
    const blocked = rt.registry.getByKey(userKey)!;
    assert.equal(blocked.label, 'asmith');
    assert.equal(blocked.decision!.userId, 'S-1-5-21-1-1105');
    assert.equal(blocked.expiresAt, Date.now() + 600_000);
    await announced('applied', id);
    assert.equal(rt.registry.get(id)!.state, 'approved');
    const applied = rt.decided.find((x) => x.type === 'applied')!;
    assert.equal(applied.entry.target, 'S-1-5-21-1-1105');
    assert.equal(applied.held!.id, id);
    const reg = await reopen();
    assert.equal(reg.get(id)!.state, 'approved');
    assert.ok(reg.isActive(userKey));
  });

  it('simulate: a simulated block, released later without calling the appliance', async () => {
    lm.result = 'simulated';
    const id = await held('10.0.0.9/32');
    await rt.registry.decisions.decide(id, { action: 'approve', by: user });
    await announced('applied', id);
    assert.equal(rt.registry.get(id)!.simulated, true);
    await clock.tickAsync(600_000);
    await until(() => rt.registry.get(id)!.state === 'released', 'released');
    assert.equal(lm.releases.length, 0);
  });

  it('refused by the appliance: discarded with the reason', async () => {
    lm.result = 'refused';
    lm.reason = '10.0.0.10/32 is protected (admin subnet)';
    const id = await held('10.0.0.10/32');
    await rt.registry.decisions.decide(id, { action: 'approve', by: user });
    await announced('discarded', id);
    assert.equal(rt.registry.get(id)!.state, 'discarded');
    assert.match(rt.registry.get(id)!.lastError!, /protected/);
    const ev = rt.decided.at(-1)!;
    assert.equal(ev.type, 'discarded');
    assert.match(ev.error!, /protected/);
    assert.equal(ev.decision.action, 'approve');
  });

  it('a failing appliance: stays approving, retried with backoff (5 s, 10 s) until applied, once', async () => {
    lm.failures = 2;
    const id = await held('10.0.0.11/32');
    await rt.registry.decisions.decide(id, { action: 'approve', by: user });
    await announced('apply-failed', id);
    const e = rt.registry.get(id)!;
    assert.equal(e.state, 'approving');
    assert.match(e.lastError!, /503/);
    assert.equal(e.nextAttemptAt, Date.now() + 5_000);
    await clock.tickAsync(5_000);
    await until(() => rt.decided.filter((d) => d.type === 'apply-failed').length === 2, 'second failure');
    await clock.tickAsync(9_000);
    assert.equal(lm.calls.length, 2, 'the delay doubles');
    await clock.tickAsync(1_000);
    await announced('applied', id);
    await clock.tickAsync(60_000);
    assert.equal(lm.calls.length, 3);
  });

  it('config node gone: orphaned while flows run, applied when it is back; deferred while flows start', async () => {
    const id = await held('10.0.0.12/32', {}, lmKey('10.0.0.12/32', 'gone'));
    await rt.registry.decisions.decide(id, { action: 'approve', by: user });
    await until(() => rt.registry.get(id)!.state === 'orphaned', 'orphaned');
    assert.match(rt.registry.get(id)!.lastError!, /gone no longer exists/);
    rt.appliances.set('gone', lm);
    rt.events.emit('flows:started');
    await announced('applied', id);
    assert.equal(lm.calls.length, 1);

    const later = await held('10.0.0.13/32', {}, lmKey('10.0.0.13/32', 'late'));
    rt.events.emit('flows:starting');
    await rt.registry.decisions.decide(later, { action: 'approve', by: user });
    await until(() => rt.registry.get(later)!.nextAttemptAt === Date.now() + 5_000, 'deferred');
    assert.equal(rt.registry.get(later)!.state, 'approving');
    rt.appliances.set('late', lm);
    rt.events.emit('flows:started');
    await clock.tickAsync(5_000);
    await announced('applied', later);
  });

  it('decide-by: the default discard is taken at decide-by, announced, and survives a restart', async () => {
    const id = await held('10.0.1.1/32', { decideWithinMs: HOUR });
    await clock.tickAsync(HOUR - 1000);
    assert.equal(rt.registry.get(id)!.state, 'held');
    await clock.tickAsync(1000);
    await announced('discarded', id);
    const ev = rt.decided.find((d) => d.type === 'discarded')!;
    assert.deepEqual(ev.decision.by, { kind: 'timeout' });
    const reg = await reopen();
    assert.deepEqual(reg.get(id)!.decision!.by, { kind: 'timeout' });
    assert.equal(lm.calls.length, 0);
  });

  it('decide-by: the default apply approves and applies; an ambiguous entry is still discarded', async () => {
    const id = await held('10.0.1.2/32', { onTimeout: 'apply', decideWithinMs: 60_000 });
    const amb = await held('x', { onTimeout: 'apply', decideWithinMs: 60_000, reason: 'ambiguous', candidates: ambiguousCandidates }, ambiguousHoldKey('lm', 'WINDOWS', '10.0.1.3'));
    await clock.tickAsync(60_000);
    await announced('applied', id);
    await announced('discarded', amb);
    assert.deepEqual(rt.decided.filter((d) => d.entry.id === id).map((d) => d.type), ['approved', 'applied']);
    assert.deepEqual(rt.registry.get(id)!.decision!.by, { kind: 'timeout' });
    assert.equal(lm.calls.length, 1);
  });

  it('decide-by: waits while flows are not running, as releases do', async () => {
    const id = await held('10.0.1.4/32', { decideWithinMs: 60_000 });
    rt.events.emit('flows:stopping');
    await clock.tickAsync(120_000);
    assert.equal(rt.registry.get(id)!.state, 'held');
    rt.events.emit('flows:started');
    await announced('discarded', id);
  });

  it('a held entry survives a restart with the same decide-by, and its default is taken after it', async () => {
    const id = await held('10.0.1.5/32', { decideWithinMs: HOUR });
    const decideBy = rt.registry.get(id)!.hold!.decideBy;
    const reg = await reopen();
    assert.equal(reg.get(id)!.state, 'held');
    assert.equal(reg.get(id)!.hold!.decideBy, decideBy);
    await clock.tickAsync(HOUR);
    await announced('discarded', id);
  });

  it('approving 1,000 at once applies each exactly once, highest priority first when the appliance serialises', async function () {
    this.timeout(60_000);
    lm.serialise = true;
    const ids: string[] = [];
    for (let i = 0; i < 1000; i++) ids.push(await held(`10.2.${i >> 8}.${i & 255}/32`, { priority: i % 5 }));
    const results = await rt.registry.decisions.decideMany(ids, { action: 'approve', by: user });
    assert.ok(results.every((r, i) => r.id === ids[i] && r.status === 'approved'));
    // Triggers that may come meanwhile must join, not repeat: a second request, a sweep, the scheduler's timer.
    assert.ok((await rt.registry.decisions.decideMany(ids.slice(0, 10), { action: 'approve', by: user })).every((r) => r.status === 'not-held'));
    rt.registry.scheduler.sweep();
    await clock.tickAsync(1000);
    await until(() => rt.registry.summary().active === 1000, 'all active', 30_000);
    assert.equal(lm.calls.length, 1000);
    assert.equal(new Set(lm.calls.map((c) => c.key.target)).size, 1000);
    const priorities = lm.calls.map((c) => c.hold.priority);
    assert.deepEqual(priorities, [...priorities].sort((a, b) => b - a), 'applied in priority order');
  });

  it('kill -9 after the decision: the approved block is applied exactly once after the restart', async function () {
    this.timeout(30_000);
    clock.restore();
    await rt.registry.shutdown();
    const { spawn } = await import('node:child_process');
    const registryModule = path.join(__dirname, '..', '..', '..', 'lib', 'registry', 'index.ts');
    // The child holds two blocks, approves them, and its appliance never answers: it is killed while applying.
    const code = `
      const { RuntimeRegistry } = require(${JSON.stringify(registryModule)});
      const lm = { applianceKind: 'loadmaster', simulate: false, releaseMitigation: async () => 'released',
        applyHeld: () => { process.stdout.write('applying\\n'); return new Promise(() => {}); } };
      const reg = new RuntimeRegistry({ settings: {}, nodes: { getNode: () => lm } }, ${JSON.stringify(file)});
      const hold = { reason: 'storm', reasonText: 'storm', event: null, decideWithinMs: 3600000, onTimeout: 'discard', priority: 1 };
      (async () => {
        const ids = [];
        for (const t of ['10.9.0.1/32', '10.9.0.2/32']) {
          ids.push((await reg.hold({ key: { configId: 'lm', scope: 'global:block', target: t }, kind: 'loadmaster', hold, ttlSeconds: 60 })).entry.id);
        }
        const res = await reg.decisions.decideMany(ids, { action: 'approve', by: { kind: 'user', name: 'alice' } });
        process.stdout.write(res.map((r) => r.status).join(',') + '\\n');
      })();
    `;
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 20_000;
    while (!/approved,approved/.test(output) || (output.match(/applying/g) ?? []).length < 2) {
      if (Date.now() > deadline) throw new Error(`the child did not decide: ${output}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    clock = sinon.useFakeTimers({ now: Date.now(), toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    rt = start();
    const ids = rt.registry.list().map((e) => e.id);
    assert.deepEqual(rt.registry.list().map((e) => e.state), ['approving', 'approving']);
    for (const id of ids) await announced('applied', id);
    await clock.tickAsync(30_000);
    assert.equal(lm.calls.length, 2, 'each applied once');
    assert.deepEqual(lm.calls.map((c) => c.key.target).sort(), ['10.9.0.1/32', '10.9.0.2/32']);
  });
});
