import assert from 'node:assert/strict';
import { MitigationRegistry, RegistryChange } from '../../../lib/registry/registry';
import { entryId, RegistryEntry } from '../../../lib/registry/entry';
import type { EntryBackend } from '../../../lib/store/types';
import { lmKey, settle } from '../decisions/support';
import { SharedDatabase } from './shared-backend';

const key = lmKey('10.0.0.7/32');
const id = entryId(key);

/** The entry as stored (fields set to undefined are absent). */
const plain = (e: RegistryEntry | undefined) => JSON.parse(JSON.stringify(e)) as RegistryEntry;


describe('registry: one set of entries shared by two instances', function () {
  let db: SharedDatabase;
  let now: number;
  let a: MitigationRegistry;
  let b: MitigationRegistry;
  let changes: Array<{ on: string; type: string; remote: boolean; entry: RegistryEntry }>;
  const open = (name: string) => {
    const reg = new MitigationRegistry({ backend: db.open(), now: () => now });
    reg.on('change', (c: RegistryChange) => changes.push({ on: name, type: c.type, remote: c.remote === true, entry: c.entry }));
    return reg;
  };
  const local = () => changes.filter((c) => !c.remote).map((c) => `${c.on}:${c.type}`);

  beforeEach(async () => {
    db = new SharedDatabase();
    now = Date.UTC(2026, 0, 1);
    changes = [];
    a = open('a');
    b = open('b');
    await Promise.all([a.ready, b.ready]);
  });

  it('two instances arming one key at the same moment end with one entry: two hits, both events', async () => {
    const [ra, rb] = await Promise.all([
      a.arm({ key, kind: 'loadmaster', ttlSeconds: 600, eventId: 'e1' }),
      b.arm({ key, kind: 'loadmaster', ttlSeconds: 600, eventId: 'e2' }),
    ]);
    await settle(10);
    assert.equal(db.conflicts, 1, "b's first write was made on a stale copy");
    assert.deepEqual([ra.type, rb.type], ['armed', 'extended'], 'b decided again from the entry a stored');
    const stored = db.entry(id)!;
    assert.equal(stored.hits, 2);
    assert.deepEqual(stored.eventIds, ['e1', 'e2']);
    assert.equal(stored.blocks.length, 1, 'one block, not two');
    assert.deepEqual(plain(a.get(id)), stored);
    assert.deepEqual(plain(b.get(id)), stored);
    assert.deepEqual(local().sort(), ['a:armed', 'b:extended'], 'one change announced per stored write');
    assert.ok(a.isActive(key) && b.isActive(key));
  });

  it('markReleased on a stale copy after the other instance re-armed is made again on the fresh entry', async () => {
    await a.arm({ key, kind: 'loadmaster', ttlSeconds: 600, eventId: 'e1' });
    await a.markReleasing(id);
    await settle(10);
    assert.equal(b.get(id)!.state, 'release-pending');
    const backendA = (a as unknown as { backend: { holdRemote: boolean; release(): void } }).backend;
    backendA.holdRemote = true; // a does not hear of b's re-arm before it writes
    now += 1000;
    const rearmed = await b.arm({ key, kind: 'loadmaster', ttlSeconds: 600, eventId: 'e2' });
    assert.equal(rearmed.type, 'armed');
    assert.equal(a.get(id)!.state, 'release-pending', "a's copy is stale");

    await a.markReleased(id, 'expiry');
    assert.equal(db.conflicts, 1);
    const stored = db.entry(id)!;
    assert.equal(stored.state, 'released');
    assert.equal(stored.hits, 2, "b's hit is kept");
    assert.deepEqual(stored.eventIds, ['e1', 'e2'], "b's event is kept");
    assert.equal(stored.armedAt, rearmed.entry.armedAt, 'released from the re-armed entry');
    assert.deepEqual(plain(a.get(id)), stored);
    backendA.release(); // the late notification of b's re-arm is older than what a stored: dropped
    await settle(10);
    assert.deepEqual(plain(a.get(id)), stored);
    assert.deepEqual(plain(b.get(id)), stored);
  });

  it('markReleasing of the block armed earlier leaves a block re-armed on the other instance as it is', async () => {
    const first = await a.arm({ key, kind: 'loadmaster', ttlSeconds: 600, eventId: 'e1' });
    await a.markReleasing(id);
    await settle(10);
    const backendA = (a as unknown as { backend: { holdRemote: boolean } }).backend;
    backendA.holdRemote = true;
    now += 1000;
    await b.arm({ key, kind: 'loadmaster', ttlSeconds: 600, eventId: 'e2' });
    await a.markReleasing(id, first.entry.armedAt);
    assert.equal(db.conflicts, 1);
    assert.equal(db.entry(id)!.state, 'active', 'the re-armed block stands');
    assert.equal(a.get(id)!.state, 'active', 'a took the fresh entry');
    assert.ok(a.isActive(key));
  });

  it('changes made on one instance arrive on the other as remote, with the stored entry', async () => {
    await a.arm({ key, kind: 'loadmaster', ttlSeconds: 600, eventId: 'e1' });
    await settle(10);
    assert.ok(b.isActive(key), 'b serves the same view');
    await a.forget(id);
    await settle(10);
    assert.equal(b.get(id), undefined);
    const remote = changes.filter((c) => c.remote).map((c) => `${c.on}:${c.type}:${c.entry.target}`);
    assert.deepEqual(remote, ['b:armed:10.0.0.7/32', 'b:forgotten:10.0.0.7/32']);
    assert.deepEqual(local(), ['a:armed', 'a:forgotten']);
  });

  it('an instance that starts later has the entries once ready resolves', async () => {
    await a.arm({ key, kind: 'loadmaster', ttlSeconds: 600 });
    const c = new MitigationRegistry({ backend: db.open(), now: () => now });
    assert.equal(c.size, 0, 'the load is asynchronous');
    await c.ready;
    assert.ok(c.isActive(key));
  });

  it('gives up with a clear error after five conflicts in a row', async () => {
    let puts = 0;
    const stored = (await a.arm({ key, kind: 'loadmaster', ttlSeconds: 600 })).entry;
    const busy: EntryBackend = {
      shared: true,
      lineCount: 0,
      load: () => [],
      put: async () => {
        puts++;
        return { conflict: true, current: { ...stored, hits: stored.hits + puts } };
      },
      delete: () => Promise.resolve(),
      flush: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
    const reg = new MitigationRegistry({ backend: busy, now: () => now });
    await assert.rejects(reg.arm({ key, kind: 'loadmaster', ttlSeconds: 600 }), /kept being changed by another instance: gave up "extended" after 5 attempts/);
    assert.equal(puts, 5);
    assert.equal(reg.get(id)!.hits, stored.hits + 5, 'memory holds the stored entry');
  });
});
