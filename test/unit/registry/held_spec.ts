import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MitigationRegistry } from '../../../lib/registry/registry';
import { dueAt, entryId, MAX_RECORD_BYTES, MAX_KEY_FIELD_LENGTH } from '../../../lib/registry/entry';
import { MAX_CANDIDATES, MAX_REASON_TEXT_LENGTH } from '../../../lib/registry/hold-bounds';
import { ReleaseScheduler } from '../../../lib/lifecycle/scheduler';
import { ambiguousHoldKey, Mitigation, mitigationKey } from '../../../lib/mitigation/types';
import type { DecisionRecord } from '../../../lib/decisions/types';
import { holdRequest, lmKey } from '../decisions/support';

const MIN = 60_000;
const alice: DecisionRecord = { action: 'approve', by: { kind: 'user', name: 'alice' }, at: 0 };

describe('registry: held blocks', function () {
  let dir: string;
  let file: string;
  let now: number;
  const open = (retentionMs?: number) => new MitigationRegistry({ file, now: () => now, retentionMs });
  const holdOn = (reg: MitigationRegistry, target: string, over: Parameters<typeof holdRequest>[0] = {}, eventId = 'e1') =>
    reg.hold({ key: lmKey(target), kind: 'loadmaster', hold: holdRequest(over), ttlSeconds: 900, eventId, owner: 'ttl1', label: 'L' });

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowmon-held-'));
    file = path.join(dir, 'registry.jsonl');
    now = Date.UTC(2026, 0, 1);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('holds a new entry with its decide-by, TTL and owner, durable and counted, never active', async () => {
    const reg = open();
    const res = await holdOn(reg, '10.0.0.1/32', { decideWithinMs: 30 * MIN });
    assert.equal(res.type, 'held');
    const e = res.entry;
    assert.equal(e.state, 'held');
    assert.equal(e.hold!.heldAt, now);
    assert.equal(e.hold!.decideBy, now + 30 * MIN);
    assert.equal((e.hold as unknown as Record<string, unknown>).decideWithinMs, undefined);
    assert.equal(e.ttlSeconds, 900);
    assert.equal(e.expiresAt, 0);
    assert.equal(e.owner, 'ttl1');
    assert.deepEqual(e.eventIds, ['e1']);
    assert.equal(dueAt(e), now + 30 * MIN, 'decide-by is when the scheduler acts');
    assert.equal(reg.isActive(lmKey('10.0.0.1/32')), false);
    assert.deepEqual(reg.summary(), { active: 0, pending: 0, orphaned: 0, held: 1, approving: 0 });
    await reg.close();
    const again = open();
    assert.deepEqual(again.get(e.id), e, 'the same entry, decide-by included, after a reopen');
    await again.close();
  });

  it('the same key held again counts the hit and the event and keeps the earliest decide-by', async () => {
    const reg = open();
    await holdOn(reg, '10.0.0.2/32', { decideWithinMs: 60 * MIN }, 'e1');
    now += MIN;
    const second = await holdOn(reg, '10.0.0.2/32', { decideWithinMs: 10 * MIN }, 'e2');
    assert.equal(second.type, 'held-again');
    assert.equal(second.entry.hold!.decideBy, now + 10 * MIN);
    const third = await holdOn(reg, '10.0.0.2/32', { decideWithinMs: 120 * MIN }, 'e3');
    assert.equal(third.entry.hold!.decideBy, now + 10 * MIN, 'a later decide-by does not postpone');
    assert.equal(third.entry.hits, 3);
    assert.deepEqual(third.entry.eventIds, ['e1', 'e2', 'e3']);
    assert.equal(third.entry.hold!.heldAt, now - MIN, 'still the first hold');
    await reg.close();
  });

  it('an active key is answered already-active: nothing held, nothing written', async () => {
    const reg = open();
    await reg.arm({ key: lmKey('10.0.0.3/32'), kind: 'loadmaster', ttlSeconds: 60 });
    await reg.flush();
    const lines = reg.journalLines;
    const res = await holdOn(reg, '10.0.0.3/32');
    assert.equal(res.type, 'already-active');
    assert.equal(res.entry.state, 'active');
    assert.equal(reg.journalLines, lines);
    await reg.close();
  });

  it('a released key is held again with its history; a held key that an event blocks becomes an ordinary block', async () => {
    const reg = open();
    const { entry } = await reg.arm({ key: lmKey('10.0.0.4/32'), kind: 'loadmaster', ttlSeconds: 60, eventId: 'old' });
    await reg.markReleased(entry.id, 'expiry');
    const res = await holdOn(reg, '10.0.0.4/32');
    assert.equal(res.type, 'held');
    assert.deepEqual(res.entry.eventIds, ['old', 'e1']);
    assert.equal(res.entry.blocks.length, 1, 'escalation history kept');
    await reg.markReleased(entry.id, 'flow');
    assert.equal(reg.get(entry.id)!.state, 'held', 'a removal by the flow does not end a question');
    const armed = await reg.arm({ key: lmKey('10.0.0.4/32'), kind: 'loadmaster', ttlSeconds: 60 });
    assert.equal(armed.type, 'armed');
    assert.equal(armed.entry.hold, undefined);
    await reg.close();
  });

  it('approving → applied: active from then with its TTL; the hold and the decision stay', async () => {
    const reg = open();
    const { entry } = await holdOn(reg, '10.0.0.5/32');
    await reg.markApproving(entry.id, { ...alice, at: now });
    let e = reg.get(entry.id)!;
    assert.equal(e.state, 'approving');
    assert.equal(dueAt(e), now, 'due at once (a restart applies it)');
    await reg.markApproveFailed(entry.id, 'appliance answered 503', now + 5000);
    e = reg.get(entry.id)!;
    assert.equal(e.attempts, 1);
    assert.equal(dueAt(e), now + 5000);
    now += 7000;
    const applied = await reg.markApplied(entry.id, false);
    assert.equal(applied!.state, 'active');
    assert.equal(applied!.expiresAt, now + 900_000);
    assert.equal(applied!.attempts, 0);
    assert.equal(applied!.lastError, undefined);
    assert.equal(applied!.decision!.by.kind, 'user');
    assert.equal(applied!.hold!.reason, 'storm');
    assert.ok(reg.isActive(lmKey('10.0.0.5/32')));
    assert.equal(await reg.markApplied(entry.id, false), undefined, 'only from approving');
    await reg.close();
    const again = open();
    assert.equal(again.get(entry.id)!.decision!.at, now - 7000);
    await again.close();
  });

  it('transitions only from the states they belong to', async () => {
    const reg = open();
    const { entry } = await holdOn(reg, '10.0.0.6/32');
    await reg.markApproveFailed(entry.id, 'x', now);
    await reg.markApproved(entry.id);
    await reg.deferApproval(entry.id, now);
    await reg.markReleasing(entry.id);
    await reg.markOrphaned(entry.id);
    assert.equal(reg.get(entry.id)!.state, 'held');
    await reg.markDiscarded(entry.id, { action: 'discard', by: { kind: 'timeout' }, at: now });
    assert.equal(reg.get(entry.id)!.state, 'discarded');
    await reg.markApproving(entry.id, alice);
    assert.equal(reg.get(entry.id)!.state, 'discarded', 'a decided entry is not decided again');
    assert.equal(dueAt(reg.get(entry.id)!), undefined);
    await reg.close();
  });

  it('an approval whose config node was gone is applied, not released, when the node is back', async () => {
    const reg = open();
    const { entry } = await holdOn(reg, '10.0.0.7/32');
    await reg.markApproving(entry.id, alice);
    await reg.markOrphaned(entry.id);
    assert.equal(reg.get(entry.id)!.state, 'orphaned');
    await reg.adopt(entry.id);
    assert.equal(reg.get(entry.id)!.state, 'approving');
    await reg.close();
  });

  it('a release asked of a held entry is refused (not-a-block); a hold while a release is in flight stands', async () => {
    const reg = open();
    const { entry } = await holdOn(reg, '10.0.0.8/32');
    let hold: () => void = () => undefined;
    const appliance = {
      applianceKind: 'loadmaster' as const,
      simulate: false,
      releaseMitigation: () => new Promise<'released'>((r) => (hold = () => r('released'))),
      applyHeld: () => Promise.reject(new Error('unused')),
    };
    const scheduler = new ReleaseScheduler(reg, { resolve: () => appliance, flowsRunning: () => true }, { log: { warn: () => undefined } });
    assert.equal((await scheduler.releaseNow(entry.id)).status, 'not-a-block');
    const { entry: active } = await reg.arm({ key: lmKey('10.0.0.9/32'), kind: 'loadmaster', ttlSeconds: 60 });
    const releasing = scheduler.releaseNow(active.id);
    await new Promise((r) => setImmediate(r));
    await holdOn(reg, '10.0.0.9/32');
    hold();
    await releasing;
    assert.equal(reg.get(active.id)!.state, 'held', 'the release did not overwrite the new question');
    await reg.close();
  });

  it('prunes discarded and approved entries after the retention, never held ones', async () => {
    const reg = open(MIN);
    const a = (await holdOn(reg, '10.0.1.1/32')).entry.id;
    const b = (await holdOn(reg, '10.0.1.2/32')).entry.id;
    const c = (await holdOn(reg, '10.0.1.3/32', { decideWithinMs: 0 })).entry.id;
    await reg.markDiscarded(a, { action: 'discard', by: { kind: 'timeout' }, at: now });
    await reg.markApproving(b, { ...alice, at: now });
    await reg.markApproved(b);
    now += 2 * MIN;
    assert.equal(await reg.prune(), 2);
    assert.deepEqual(reg.list().map((e) => e.id), [c]);
    await reg.close();
  });

  it('bounds the hold and the decision: 20 candidates, cut text, unusable user ids dropped', async () => {
    const reg = open();
    const candidates = Array.from({ length: 50 }, (_, i) => ({ userId: `S-1-5-21-${i}`, username: `<b>u${i}</b>\u0007`.repeat(100), activityCount: i }));
    candidates.unshift({ userId: 'S'.repeat(MAX_KEY_FIELD_LENGTH), username: 'long', activityCount: 1 });
    candidates.unshift({ userId: 'S-1\u0000-evil', username: 'ctl', activityCount: 1 });
    const { entry } = await holdOn(reg, '10.0.2.1/32', { reasonText: 'r'.repeat(10_000), candidates, comment: '<script>x</script>' });
    const h = entry.hold!;
    assert.equal(h.candidates!.length, MAX_CANDIDATES);
    assert.equal(h.candidates![0].userId, 'S-1-5-21-0');
    assert.ok(h.candidates!.every((c) => c.username!.length <= 128 && !/\p{Cc}/u.test(c.username!)));
    assert.equal(h.reasonText.length, MAX_REASON_TEXT_LENGTH);
    assert.equal(h.comment, 'scriptx/script');
    await reg.markApproving(entry.id, { action: 'approve', by: { kind: 'user', name: 'n'.repeat(5000) }, at: now, userId: 'S-1-5-21-3' });
    const d = reg.get(entry.id)!.decision!;
    assert.equal((d.by as { name: string }).name.length, 128);
    assert.equal(d.userId, 'S-1-5-21-3');
    await reg.close();
  });

  it(`a held entry with every field at its bound still writes at most ${MAX_RECORD_BYTES} bytes`, async () => {
    const reg = new MitigationRegistry({ file });
    const wide = (n: number) => '\u20ac\\'.repeat(n);
    const controls = (n: number) => '\u0001'.repeat(n);
    const k = { configId: controls(MAX_KEY_FIELD_LENGTH), scope: controls(MAX_KEY_FIELD_LENGTH), target: controls(MAX_KEY_FIELD_LENGTH) };
    const candidates = Array.from({ length: 40 }, (_, i) => ({ userId: `${i}${'\u20ac'.repeat(255)}`.slice(0, 256), username: wide(500), activityCount: i }));
    const event = { id: wide(500), method: wide(500), priority: 'high' as const, perspective: wide(500), description: wide(5000), source: wide(500) };
    for (let i = 0; i < 40; i++) {
      await reg.hold({ key: k, kind: 'cryptospike', ttlSeconds: 60, eventId: `${i}${wide(5000)}`, label: wide(5000), owner: controls(128),
        hold: holdRequest({ reasonText: wide(5000), candidates, event, comment: wide(5000) }) });
    }
    const id = reg.getByKey(k)!.id;
    await reg.markApproving(id, { action: 'approve', by: { kind: 'user', name: wide(5000) }, at: 1, userId: candidates[3].userId });
    await reg.markApproveFailed(id, wide(5000), 0);
    await reg.close();
    const longest = Math.max(...fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => Buffer.byteLength(l) + 1));
    console.log(`      longest journal line of a held entry with every field at its bound: ${longest} bytes`);
    assert.ok(longest <= MAX_RECORD_BYTES, `${longest} bytes`);
  });

  it('loads entries of an older journal, and drops a held record without its hold', async () => {
    const old = {
      id: entryId(lmKey('10.0.3.1/32')), kind: 'loadmaster', configId: 'lm', scope: 'global:block', target: '10.0.3.1/32',
      state: 'active', simulated: false, firstSeen: 1, lastSeen: 2, hits: 1, expiresAt: now + MIN, armedAt: 1,
      ttlSeconds: 60, blocks: [1], attempts: 0, eventIds: ['1'],
    };
    const broken = { ...old, id: entryId(lmKey('10.0.3.2/32')), target: '10.0.3.2/32', state: 'held' };
    fs.writeFileSync(file, JSON.stringify({ p: old }) + '\n' + JSON.stringify({ p: broken }) + '\n');
    const reg = new MitigationRegistry({ file, now: () => now, log: { warn: () => undefined } });
    assert.equal(reg.get(old.id)!.state, 'active');
    assert.equal(reg.get(broken.id), undefined);
    assert.deepEqual(reg.summary().held, 0);
    await reg.close();
  });

  it('keys a held ambiguous CryptoSpike block by the source address', () => {
    const m = {
      appliance: 'cryptospike', config: 'cs', action: 'block', user: null, userIdType: 'WINDOWS', result: 'held',
      hold: holdRequest({ reason: 'ambiguous' }), at: '',
    } as Mitigation;
    assert.deepEqual(mitigationKey(m), ambiguousHoldKey('cs', 'WINDOWS', '10.0.0.5'));
    assert.deepEqual(mitigationKey(m), { configId: 'cs', scope: 'ambiguous:WINDOWS', target: '10.0.0.5' });
    assert.equal(mitigationKey({ ...m, hold: undefined } as Mitigation), null);
  });
});
