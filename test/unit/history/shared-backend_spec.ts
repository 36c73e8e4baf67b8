import assert from 'node:assert/strict';
import type { HistoryRecord } from '../../../lib/history/record';
import type { RecordDraft } from '../../../lib/history/sources';
import { HistoryStore } from '../../../lib/history/store';
import type { HistoryBackend } from '../../../lib/store/types';

/** A shared history backend in memory: loads asynchronously, and announces what other instances appended. */
class FakeSharedHistory implements HistoryBackend {
  readonly shared = true;
  readonly appended: HistoryRecord[] = [];
  readonly deleted: string[] = [];
  private remote: ((records: HistoryRecord[]) => void) | undefined;

  constructor(private readonly stored: HistoryRecord[] = []) {}

  load(): Promise<HistoryRecord[]> {
    return new Promise((resolve) => setTimeout(() => resolve(this.stored), 5));
  }
  async append(record: HistoryRecord): Promise<void> {
    this.appended.push(record);
  }
  async delete(ids: string[]): Promise<void> {
    this.deleted.push(...ids);
  }
  onRemote(listener: (records: HistoryRecord[]) => void): void {
    this.remote = listener;
  }
  /** Another instance appended these. */
  announce(...records: HistoryRecord[]): void {
    this.remote?.(records);
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

function draft(target: string): RecordDraft {
  return { action: 'blocked', kind: 'loadmaster', configId: 'lm1', scope: 'global:block', target, actorKind: 'package', actor: 'flowmon-response' };
}

function stored(id: string, at: number, target: string): HistoryRecord {
  return { ...draft(target), id, at, appliance: 'edge' };
}

describe('history store on a shared backend', () => {
  const T0 = Date.UTC(2026, 0, 1);
  let t: number;
  let backend: FakeSharedHistory;
  let store: HistoryStore;
  let own: HistoryRecord[];
  let remote: HistoryRecord[];
  beforeEach(async () => {
    t = T0;
    backend = new FakeSharedHistory([stored('old-2', T0 - 1000, '10.0.0.2/32'), stored('old-1', T0 - 2000, '10.0.0.1/32')]);
    store = new HistoryStore({ backend, now: () => t });
    own = [];
    remote = [];
    store.on('record', (r) => own.push(r));
    store.on('remote-record', (r) => remote.push(r));
  });

  const targets = () => store.query({ limit: 100 }).records.map((r) => r.target).reverse();

  it('loads the stored records asynchronously, in time order, before anything appended meanwhile', async () => {
    t += 10;
    await store.append(draft('10.0.0.3/32'), 'edge');
    assert.deepEqual(targets(), ['10.0.0.3/32']);
    await store.ready;
    assert.deepEqual(targets(), ['10.0.0.1/32', '10.0.0.2/32', '10.0.0.3/32']);
    assert.deepEqual(own.map((r) => r.target), ['10.0.0.3/32'], 'loaded records are not announced');
  });

  it('makes remote records queryable in time order, once each, without a record event', async () => {
    await store.ready;
    t += 100;
    await store.append(draft('10.0.0.5/32'), 'edge');
    backend.announce(stored('r-1', T0 + 200, '10.0.0.6/32'), stored('r-0', T0 + 50, '10.0.0.4/32'));
    backend.announce(stored('r-1', T0 + 200, '10.0.0.6/32'));
    assert.deepEqual(targets(), ['10.0.0.1/32', '10.0.0.2/32', '10.0.0.4/32', '10.0.0.5/32', '10.0.0.6/32']);
    assert.deepEqual(own.map((r) => r.target), ['10.0.0.5/32'], 'the metrics count only this instance’s decisions');
    assert.deepEqual(remote.map((r) => r.id), ['r-1', 'r-0']);
    assert.deepEqual(backend.appended.map((r) => r.target), ['10.0.0.5/32'], 'remote records are not stored again');
    assert.equal(store.query({ limit: 10, target: '10.0.0.4' }).matched, 1);
  });

  it('prunes from memory and deletes the pruned ids in the backend', async () => {
    await store.close();
    store = new HistoryStore({ backend, now: () => t, retentionMs: 1500 });
    await store.ready;
    assert.deepEqual(backend.deleted, ['old-1']);
    assert.deepEqual(targets(), ['10.0.0.2/32']);
  });

  it('gives different ids to stores created in the same millisecond', async () => {
    const a = new HistoryStore({ now: () => t });
    const b = new HistoryStore({ now: () => t });
    const [ra, rb] = await Promise.all([a.append(draft('10.0.0.1/32'), 'edge'), b.append(draft('10.0.0.1/32'), 'edge')]);
    assert.notEqual(ra.id, rb.id);
    assert.ok(ra.id.length <= 40, ra.id);
  });
});
