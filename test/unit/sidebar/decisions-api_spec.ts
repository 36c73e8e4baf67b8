import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { ApiResponse, BlocksSnapshot, publishSnapshots, sortEntries } from '../../../plugins/flowmon-blocks-sidebar/blocks-api';
import {
  ANONYMOUS,
  decideOne,
  decidedBy,
  DecisionRequest,
  MAX_BULK_BODY_BYTES,
  MAX_BULK_IDS,
  MAX_ID_LENGTH,
  MAX_ONE_BODY_BYTES,
} from '../../../plugins/flowmon-blocks-sidebar/decisions-api';
import type { HoldRequest } from '../../../lib/decisions/types';
import type { RegistryEntry } from '../../../lib/registry/entry';
import { registryFile } from '../../../lib/registry';
import { control, until } from '../ttl/fake-appliance';
import { ambiguousCandidates, holdRequest } from '../decisions/support';
import { helper, sidebarRuntime } from './support';

/** A response that records what a handler answered. */
function recorder(): ApiResponse & { code: number; body: any } {
  const res = {
    code: 200,
    body: undefined as any,
    status(code: number) {
      res.code = code;
      return res;
    },
    json(body: unknown) {
      res.body = body;
      return res;
    },
  };
  return res;
}

describe('flowmon-blocks-sidebar decisions API', function () {
  const rt = sidebarRuntime('flowmon-decide-api');
  const lmKey = (target: string, configId = 'lm') => ({ configId, scope: 'global:block', target });
  const csKey = (source: string) => ({ configId: 'lm', scope: 'ambiguous:WINDOWS', target: source });
  const registry = () => rt.registry();
  const post = (url: string) => helper.request().post(`/flowmon-response/blocks${url}`);

  async function held(target: string, over: Partial<HoldRequest> = {}, key = lmKey(target)): Promise<string> {
    const res = await registry().hold({ key, kind: 'loadmaster', hold: holdRequest(over), ttlSeconds: 600, eventId: `e-${target}` });
    return res.entry.id;
  }
  const ambiguous = () => held('192.0.2.12', { reason: 'ambiguous', reasonText: 'several users', candidates: ambiguousCandidates }, csKey('192.0.2.12'));

  it('GET lists held entries with state "held" and their hold; the snapshot counts them and sends them first', async () => {
    await registry().arm({ key: lmKey('10.0.0.1/32'), kind: 'loadmaster', ttlSeconds: 60 });
    const id = await held('10.0.0.2/32');
    const res = await helper.request().get('/flowmon-response/blocks').expect(200);
    assert.deepEqual(res.body.map((e: RegistryEntry) => e.state), ['held', 'active'], 'held first');
    const entry = res.body[0];
    assert.equal(entry.id, id);
    assert.equal(entry.hold.reason, 'storm');
    assert.equal(entry.hold.reasonText, 'storm gate: at most 60 new blocks per 60 s');
    assert.deepEqual(entry.hold.event, holdRequest().event);
    assert.equal(entry.hold.onTimeout, 'discard');
    assert.ok(entry.hold.decideBy - entry.hold.heldAt === 3_600_000);
    const got: BlocksSnapshot[] = [];
    const stop = publishSnapshots(registry(), (_t, data) => got.push(data), 5);
    stop();
    assert.equal(got[0].total, 2);
    assert.equal(got[0].held, 1);
    assert.equal(got[0].entries[0].state, 'held');
    assert.equal(got[0].entries[0].hold?.reason, 'storm');
  });

  it('sorts held by decide-by, then approving, pending, orphaned, active by expiry, finished most recent first', () => {
    const e = (id: string, state: string, over: Partial<RegistryEntry> = {}) => ({ id, state, expiresAt: 0, ...over }) as RegistryEntry;
    const hold = (decideBy: number) => ({ decideBy }) as RegistryEntry['hold'];
    const sorted = sortEntries([
      e('released-old', 'released', { releasedAt: 1 }),
      e('active-late', 'active', { expiresAt: 20 }),
      e('held-late', 'held', { hold: hold(50) }),
      e('discarded-new', 'discarded', { decision: { action: 'discard', by: { kind: 'timeout' }, at: 9 } }),
      e('orphaned', 'orphaned'),
      e('active-soon', 'active', { expiresAt: 10 }),
      e('approving', 'approving'),
      e('held-soon', 'held', { hold: hold(5) }),
      e('pending', 'release-pending'),
    ]);
    assert.deepEqual(sorted.map((x) => x.id), [
      'held-soon', 'held-late', 'approving', 'pending', 'orphaned', 'active-soon', 'active-late', 'discarded-new', 'released-old',
    ]);
  });

  it('POST /:id/approve: 200, recorded as decided by "anonymous" without adminAuth, applied through the appliance', async () => {
    const id = await held('10.0.0.5/32');
    const res = await post(`/${id}/approve`).expect(200);
    assert.equal(res.body.id, id);
    assert.equal(res.body.status, 'approved');
    assert.equal(res.body.entry.decision.action, 'approve');
    assert.deepEqual(res.body.entry.decision.by, { kind: 'user', name: ANONYMOUS });
    await until(() => registry().get(id)?.state === 'active', 'the approved block applied');
    assert.deepEqual(control('lm').applied.map((a) => a.key), [lmKey('10.0.0.5/32')]);
    const again = await post(`/${id}/approve`).expect(409);
    assert.equal(again.body.status, 'not-held');
    assert.equal(control('lm').applied.length, 1, 'a second approval does nothing');
  });

  it('POST /:id/discard: 200, nothing reaches the appliance; a discarded entry is not held any more (409)', async () => {
    const id = await held('10.0.0.6/32');
    const res = await post(`/${id}/discard`).expect(200);
    assert.equal(res.body.status, 'discarded');
    assert.equal(res.body.entry.state, 'discarded');
    assert.deepEqual(registry().get(id)?.decision?.by, { kind: 'user', name: ANONYMOUS });
    await post(`/${id}/approve`).expect(409);
    await post(`/${id}/discard`).expect(409);
    assert.equal(control('lm').applied.length, 0);
  });

  it('answers 404 for an unknown id and 409 for an active block', async () => {
    const unknown = await post('/AAAAAAAAAAAAAAAA/approve').expect(404);
    assert.equal(unknown.body.status, 'unknown');
    const { entry } = await registry().arm({ key: lmKey('10.0.0.7/32'), kind: 'loadmaster', ttlSeconds: 60 });
    const active = await post(`/${entry.id}/discard`).expect(409);
    assert.equal(active.body.status, 'not-held');
    assert.match(active.body.error, /active/);
    assert.equal(registry().get(entry.id)?.state, 'active');
  });

  it('an ambiguous entry: 400 without a userId or with one that is not a candidate; approved with a candidate', async () => {
    const id = await ambiguous();
    const none = await post(`/${id}/approve`).expect(400);
    assert.equal(none.body.status, 'invalid');
    assert.match(none.body.error, /choose one of the 2 users/);
    await post(`/${id}/approve`).send({ userId: 'S-1-5-21-9-9999' }).expect(400);
    assert.equal(registry().get(id)?.state, 'held', 'a refused request decides nothing');
    const chosen = ambiguousCandidates[1].userId;
    const res = await post(`/${id}/approve`).send({ userId: chosen }).expect(200);
    assert.equal(res.body.status, 'approved');
    assert.equal(res.body.entry.decision.userId, chosen);
    await until(() => registry().get(id)?.state === 'approved', 'the chosen user blocked');
    assert.deepEqual(control('lm').applied.map((a) => a.userId), [chosen]);
  });

  it('bounds the single routes: an id over MAX_ID_LENGTH, a bad userId, a userId to discard, a body over the limit', async () => {
    const id = await held('10.0.0.8/32');
    const long = await post(`/${'a'.repeat(MAX_ID_LENGTH + 1)}/approve`).expect(400);
    assert.match(long.body.error, new RegExp(`at most ${MAX_ID_LENGTH}`));
    await post(`/${id}/approve`).send({ userId: 'u'.repeat(257) }).expect(400);
    await post(`/${id}/approve`).send({ userId: 42 }).expect(400);
    await post(`/${id}/approve`).send(['x']).expect(400);
    await post(`/${id}/discard`).send({ userId: 'S-1' }).expect(400);
    const big = await post(`/${id}/approve`).send({ pad: 'x'.repeat(MAX_ONE_BODY_BYTES) }).expect(413);
    assert.match(big.body.error, /larger than/);
    assert.equal(registry().get(id)?.state, 'held', 'none of them decided');
    await post(`/${id}/approve`).send({}).expect(200);
  });

  it('POST /approve decides many: 200 with one result per id in order, counts; /approve is not taken for an id', async () => {
    const a = await held('10.0.1.1/32', { priority: 1 });
    const b = await held('10.0.1.2/32', { priority: 5 });
    const done = await held('10.0.1.3/32');
    await post(`/${done}/discard`).expect(200);
    const amb = await ambiguous();
    const res = await post('/approve').send({ ids: [a, 'nope', b, done, amb] }).expect(200);
    assert.deepEqual(res.body.results.map((r: { id: string; status: string }) => [r.id, r.status]), [
      [a, 'approved'],
      ['nope', 'unknown'],
      [b, 'approved'],
      [done, 'not-held'],
      [amb, 'invalid'],
    ]);
    assert.deepEqual(res.body.counts, { approved: 2, discarded: 0, 'not-held': 1, unknown: 1, invalid: 1 });
    assert.match(res.body.results[4].error, /choose one of/);
    await until(() => control('lm').applied.length === 2, 'both applied');
    assert.deepEqual(control('lm').applied.map((x) => x.key.target), ['10.0.1.2/32', '10.0.1.1/32'], 'higher hold priority first');
    for (const id of [a, b]) assert.deepEqual(registry().get(id)?.decision?.by, { kind: 'user', name: ANONYMOUS });
  });

  it('POST /discard decides many, ambiguous ones too; nothing reaches the appliance', async () => {
    const ids = [await held('10.0.2.1/32'), await held('10.0.2.2/32'), await ambiguous()];
    const res = await post('/discard').send({ ids }).expect(200);
    assert.deepEqual(res.body.counts, { approved: 0, discarded: 3, 'not-held': 0, unknown: 0, invalid: 0 });
    for (const id of ids) assert.equal(registry().get(id)?.state, 'discarded');
    assert.equal(control('lm').applied.length, 0);
  });

  it(`bounds the bulk routes: 1 to ${MAX_BULK_IDS} ids, each a string of at most ${MAX_ID_LENGTH} characters, a body up to 1 MiB`, async () => {
    const id = await held('10.0.3.1/32');
    const bad: unknown[] = [
      undefined,
      {},
      { ids: id },
      { ids: [] },
      { ids: [id, 7] },
      { ids: [id, ''] },
      { ids: [id, 'x'.repeat(MAX_ID_LENGTH + 1)] },
      { ids: Array.from({ length: MAX_BULK_IDS + 1 }, (_, i) => `id-${i}`) },
    ];
    for (const body of bad) {
      const res = await (body === undefined ? post('/approve') : post('/approve').send(body as object)).expect(400);
      assert.ok(typeof res.body.error === 'string' && res.body.error.length > 0, JSON.stringify(body)?.slice(0, 80));
    }
    const many = await post('/discard').send({ ids: [id, ...Array.from({ length: MAX_BULK_IDS - 1 }, (_, i) => `id-${i}`)] }).expect(200);
    assert.equal(many.body.results.length, MAX_BULK_IDS);
    assert.deepEqual(many.body.counts, { approved: 0, discarded: 1, 'not-held': 0, unknown: MAX_BULK_IDS - 1, invalid: 0 });
    const over = await post('/approve').send({ ids: ['x'], pad: 'p'.repeat(MAX_BULK_BODY_BYTES) }).expect(413);
    assert.match(over.body.error, /larger than/);
  });

  it('records the adminAuth user name as who decided; the default (anonymous) user as "anonymous"', async () => {
    assert.deepEqual(decidedBy({ params: {}, query: {}, user: { username: 'alice' } }), { kind: 'user', name: 'alice' });
    assert.deepEqual(decidedBy({ params: {}, query: {}, user: { anonymous: true } as never }), { kind: 'user', name: ANONYMOUS });
    assert.deepEqual(decidedBy({ params: {}, query: {} }), { kind: 'user', name: ANONYMOUS });
    const id = await held('10.0.4.1/32');
    const req: DecisionRequest = { params: { id }, query: {}, body: {}, headers: { 'content-length': '2' }, user: { username: 'alice' } };
    const res = recorder();
    await decideOne(registry(), 'discard')(req, res);
    assert.equal(res.code, 200);
    assert.deepEqual(res.body.entry.decision.by, { kind: 'user', name: 'alice' });
    // Journaled before the answer: a registry read back from the file has the decision.
    await registry().flush();
    const line = fs.readFileSync(registryFile(rt.userDir), 'utf8');
    assert.match(line, /"name":"alice"/);
  });

  it('DELETE on a held entry answers 409: it was never applied', async () => {
    const id = await held('10.0.5.1/32');
    const res = await helper.request().delete(`/flowmon-response/blocks/${id}`).expect(409);
    assert.match(res.body.error, /held/);
    assert.equal(registry().get(id)?.state, 'held');
  });
});
