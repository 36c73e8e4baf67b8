import assert from 'node:assert/strict';
import { freshEntry, type RegistryEntry } from '../../../lib/registry/entry';
import { PostgresEntryBackend } from '../../../lib/store/postgres/entries';
import { StoreUnavailableError, type PutConflict, type RemoteEntryChange } from '../../../lib/store/types';
import { quietLog, sleep, usePostgres, waitFor } from './postgres-support';

function entry(target: string, changes: Partial<RegistryEntry> = {}): RegistryEntry {
  const now = Date.now();
  const e = freshEntry({ configId: 'lm', scope: 'global:block', target }, 'loadmaster', undefined, now);
  return { ...e, expiresAt: now + 60_000, armedAt: now, ttlSeconds: 60, hits: 1, ...changes };
}

interface Instance {
  backend: PostgresEntryBackend;
  /** Changes of other instances, with when they arrived. */
  changes: (RemoteEntryChange & { at: number })[];
}

describe('PostgreSQL registry entries (real PostgreSQL)', function () {
  this.timeout(60_000);
  const { pg, url } = usePostgres();

  /** `listen`: false for an instance that is not told of the others' changes (its copies go stale). */
  async function instance(id: string, { retryForMs, listen = true }: { retryForMs?: number; listen?: boolean } = {}): Promise<Instance> {
    const backend = new PostgresEntryBackend(await pg.connection(url()), { instanceId: id, ready: Promise.resolve(), log: quietLog, retryForMs });
    pg.onClose(() => backend.close());
    const changes: Instance['changes'] = [];
    await backend.load();
    if (listen) {
      backend.onRemote((change) => changes.push({ ...change, at: Date.now() }));
      await sleep(100); // the LISTEN is in place
    }
    return { backend, changes };
  }

  it('stores, updates and deletes entries that a later start loads', async () => {
    const a = await instance('a');
    const e = entry('10.0.0.1/32');
    assert.equal(await a.backend.put(e, 'armed'), undefined);
    const updated = { ...e, hits: 2, lastSeen: e.lastSeen + 1 };
    assert.equal(await a.backend.put(updated, 'hit'), undefined);
    const gone = entry('10.0.0.2/32');
    await a.backend.put(gone, 'armed');
    await a.backend.delete(gone.id, 'forgotten');
    await a.backend.flush();
    const later = await instance('a-again');
    assert.deepEqual(await later.backend.load(), [updated]);
    assert.equal(a.backend.lineCount, 0);
    assert.equal(a.backend.shared, true);
  });

  it('gives a put made on a stale copy a conflict with the stored entry, and takes the next put on it', async () => {
    const a = await instance('a', { listen: false });
    const b = await instance('b', { listen: false });
    const e = entry('10.0.0.3/32');
    await a.backend.put(e, 'armed');
    const bOwn = { ...e, hits: 5 };
    const conflict = (await b.backend.put(bOwn, 'armed')) as PutConflict;
    assert.deepEqual(conflict, { conflict: true, current: e }, 'b created the entry without knowing a had');
    const redone = { ...e, hits: e.hits + 1 };
    assert.equal(await b.backend.put(redone, 'hit'), undefined, 'made again on the current entry');
    const stale = (await a.backend.put({ ...e, state: 'release-pending' }, 'releasing')) as PutConflict;
    assert.deepEqual(stale, { conflict: true, current: redone });

    await b.backend.delete(e.id, 'forgotten');
    assert.deepEqual(await a.backend.put(e, 'hit'), { conflict: true, current: undefined }, 'deleted meanwhile');
  });

  it('takes a write of the entry already stored as done (a write retried after it had committed)', async () => {
    const a = await instance('a', { listen: false });
    const b = await instance('b', { listen: false });
    const e = entry('10.0.0.4/32');
    await a.backend.put(e, 'armed');
    assert.equal(await b.backend.put(e, 'armed'), undefined);
    assert.equal(await b.backend.put({ ...e, hits: 9 }, 'hit'), undefined, 'b now knows the stored version');
  });

  it('runs puts of one entry one after the other, without conflicts with itself', async () => {
    const a = await instance('a');
    const e = entry('10.0.0.5/32');
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => a.backend.put({ ...e, hits: i + 1 }, 'hit')));
    assert.deepEqual(results, Array(20).fill(undefined));
    assert.equal((await (await instance('check')).backend.load())[0].hits, 20);
  });

  it('passes changes and deletions to the other instance, with their type, and not to itself', async () => {
    const a = await instance('a');
    const b = await instance('b');
    const e = entry('10.0.0.6/32');
    const sent = Date.now();
    await a.backend.put(e, 'armed');
    await waitFor(() => b.changes.length === 1, 10_000, 'the change at b');
    assert.deepEqual(b.changes.map(({ at: _, ...c }) => c), [{ type: 'armed', id: e.id, entry: e }]);
    const latency = b.changes[0].at - sent;

    const released = { ...e, state: 'released' as const, releasedAt: Date.now() };
    await a.backend.put(released, 'released');
    await a.backend.delete(e.id, 'forgotten');
    await waitFor(() => b.changes.some((c) => c.type === 'forgotten'), 10_000, 'the deletion at b');
    const last = b.changes[b.changes.length - 1];
    assert.deepEqual({ type: last.type, id: last.id, entry: last.entry }, { type: 'forgotten', id: e.id, entry: undefined });
    assert.equal(a.changes.length, 0, 'a is not told of its own writes');
    console.log(`      a change reached the other instance ${latency} ms after it was stored`);
    // b's next put starts from what it was told: the entry is gone, so it is created again.
    assert.equal(await b.backend.put(e, 'armed'), undefined);
  });

  it('passes a quick series of changes on in order (notified together: the last of them), ending in the stored state', async () => {
    const a = await instance('a');
    const b = await instance('b');
    const e = entry('10.0.0.12/32');
    await a.backend.put(e, 'armed');
    await a.backend.put({ ...e, hits: 2 }, 'hit');
    await a.backend.delete(e.id, 'forgotten');
    await a.backend.put({ ...e, hits: 3 }, 'armed-again');
    await a.backend.put({ ...e, hits: 4 }, 'hit');
    await waitFor(() => b.changes.at(-1)?.entry?.hits === 4, 2_000, 'the last change at b');
    const seen = b.changes.map((c) => `${c.type}:${c.entry?.hits ?? 'gone'}`);
    assert.equal(seen.at(-1), 'hit:4');
    const order = ['armed:1', 'hit:2', 'forgotten:gone', 'armed-again:3', 'hit:4'];
    assert.deepEqual(seen, order.filter((s) => seen.includes(s)), `in the order of the changes: ${seen.join(' ')}`);
  });

  it('passes every entry that changed while notifications were missed, as resync', async () => {
    const a = await instance('a');
    const b = await instance('b');
    const kept = entry('10.0.0.7/32');
    const changed = entry('10.0.0.8/32');
    const dropped = entry('10.0.0.9/32');
    for (const e of [kept, changed, dropped]) await a.backend.put(e, 'armed');
    await waitFor(() => b.changes.length === 3, 2_000, 'the three changes at b');
    // Changes no notification told of, as while b's LISTEN connection was down:
    const admin = await pg.client(url());
    await admin.query("UPDATE flowmon_entries SET version = version + 1, entry = jsonb_set(entry, '{hits}', '7') WHERE id = $1", [changed.id]);
    await admin.query('DELETE FROM flowmon_entries WHERE id = $1', [dropped.id]);
    await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' OR query = 'SELECT 1'");
    await waitFor(() => b.changes.length === 5, 5_000, 'the resync at b');
    const resync = b.changes.slice(3).map(({ type, id, entry: e }) => ({ type, id, hits: e?.hits }));
    assert.deepEqual(
      resync.sort((x, y) => x.id.localeCompare(y.id)),
      [
        { type: 'resync', id: changed.id, hits: 7 },
        { type: 'resync', id: dropped.id, hits: undefined },
      ].sort((x, y) => x.id.localeCompare(y.id)),
    );
  });

  it('finishes a put issued while PostgreSQL is stopped once it is back', async () => {
    const a = await instance('a');
    const e = entry('10.0.0.10/32');
    await a.backend.put(e, 'armed');
    await pg.server.stop();
    const put = a.backend.put({ ...e, hits: 2 }, 'hit');
    await sleep(1_500);
    await pg.server.start();
    assert.equal(await put, undefined);
    assert.equal((await a.backend.load())[0].hits, 2);
  });

  it('rejects StoreUnavailableError when PostgreSQL stays away longer than the writes wait', async () => {
    const a = await instance('a', { retryForMs: 1_000 });
    const e = entry('10.0.0.11/32');
    await a.backend.put(e, 'armed');
    await pg.server.kill();
    try {
      const started = Date.now();
      await assert.rejects(a.backend.put({ ...e, hits: 2 }, 'hit'), StoreUnavailableError);
      await assert.rejects(a.backend.delete(e.id, 'forgotten'), StoreUnavailableError);
      assert.ok(Date.now() - started < 5_000);
    } finally {
      await pg.server.start();
    }
  });
});
