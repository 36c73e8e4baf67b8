import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Clock } from '../../../lib/lifecycle/scheduler';
import { HistoryRecorder } from '../../../lib/history/recorder';
import { FIELD_BOUNDS } from '../../../lib/history/record';
import type { RecordDraft } from '../../../lib/history/sources';
import { HistoryOptions, HistoryStore } from '../../../lib/history/store';
import { EventEmitter } from 'node:events';
import { tempDir } from './support';

const DAY = 86_400_000;

function draft(target: string, over: Partial<RecordDraft> = {}): RecordDraft {
  return { action: 'blocked', kind: 'loadmaster', configId: 'lm1', scope: 'global:block', target, actorKind: 'package', actor: 'flowmon-response', ...over };
}

function lines(file: string): number {
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
}

describe('history store: bounds, pruning and the journal', () => {
  let t: number;
  const now = () => t;
  let file: string;
  const open = (opts: HistoryOptions = {}) => new HistoryStore({ file, now, ...opts });
  beforeEach(() => {
    t = Date.UTC(2026, 0, 1);
    file = path.join(tempDir(), 'history.jsonl');
  });

  it('drops records past the retention (fake clock), also from the journal', async () => {
    const store = open({ retentionMs: 90 * DAY });
    for (let i = 0; i < 50; i++) await store.append(draft(`10.0.0.${i}/32`), 'edge');
    t += 10 * DAY;
    for (let i = 0; i < 50; i++) await store.append(draft(`10.0.1.${i}/32`), 'edge');
    t += 85 * DAY; // the first 50 are 95 days old, the next 50 are 85
    assert.equal(await store.prune(), 50);
    assert.equal(store.size, 50);
    assert.ok(store.query({ limit: 100 }).records.every((r) => r.target.startsWith('10.0.1.')));
    await store.close();
    const again = open({ retentionMs: 90 * DAY });
    assert.equal(again.size, 50);
    t += 6 * DAY; // now all are older than 90 days: a load prunes them too
    await again.close();
    const third = open({ retentionMs: 90 * DAY });
    await third.flush();
    assert.equal(third.size, 0);
    await third.close();
  });

  it('the recorder prunes on its timer', async () => {
    const timers: Array<() => void> = [];
    const clock: Clock = { now, setTimeout: (fn) => timers.push(fn), clearTimeout: () => undefined };
    const store = open({ retentionMs: DAY });
    await store.append(draft('10.0.0.1/32'), 'edge');
    const recorder = new HistoryRecorder(store, new EventEmitter(), { applianceName: (id) => id, clock, pruneEveryMs: 3_600_000 });
    recorder.start();
    t += 2 * DAY;
    timers.shift()?.();
    await store.flush();
    assert.equal(store.size, 0);
    assert.equal(timers.length, 1, 'the next prune is scheduled');
    recorder.stop();
    await store.close();
  });

  it('keeps at most maxRecords, dropping the oldest in batches down to 90 %, and compacts the journal', async () => {
    const store = open({ maxRecords: 100 });
    for (let i = 0; i < 3000; i++) {
      t += 1000;
      const written = store.append(draft(`10.${i >> 8}.${i & 255}.1/32`), 'edge');
      if (i % 50 === 49) await written;
    }
    await store.flush();
    assert.ok(store.size <= 100 && store.size >= 90, `size ${store.size}`);
    const newest = store.query({ limit: 1 }).records[0];
    assert.equal(newest.target, '10.11.183.1/32');
    assert.ok(lines(file) <= 1250 + 100, `journal lines ${lines(file)}: compacted`);
    await store.close();
    const again = open({ maxRecords: 100 });
    assert.equal(again.size, store.size);
    assert.equal(again.query({ limit: 1 }).records[0].id, newest.id);
    await again.close();
  });

  it('keeps the records within maxBytes (bytes of their journal lines)', async () => {
    const maxBytes = 1_000_000; // about 2,200 records of 450 bytes
    const store = open({ maxBytes });
    for (let i = 0; i < 8000; i++) {
      const written = store.append(draft(`10.0.${i >> 8}.${i & 255}/32`, { description: 'x'.repeat(200) }), 'edge');
      if (i % 500 === 499) await written;
    }
    await store.flush();
    assert.ok(store.bytes <= maxBytes, `bytes ${store.bytes}`);
    assert.ok(store.bytes >= 0.85 * maxBytes, `bytes ${store.bytes}: pruned to 90 %, not further`);
    await store.close();
    // Compaction rewrites the journal once the lines of dropped records pass a quarter of the live ones.
    assert.ok(fs.statSync(file).size < 1.5 * maxBytes, `journal ${fs.statSync(file).size} bytes`);
  });

  it('bounds every text field, whatever a source hands in', async () => {
    const store = open();
    const long = 'A'.repeat(10_000);
    const r = await store.append(
      draft(long, { priority: long, label: long, detail: long, description: `<b>\u0000${long}`, method: long, perspective: long, actor: long, eventId: long, cause: long, scope: long, configId: long }),
      long,
    );
    assert.equal(r.priority, undefined, 'a priority that is none of ADS\'s is dropped');
    for (const [field, bound] of Object.entries(FIELD_BOUNDS)) {
      if (field === 'priority') continue;
      const value = (r as unknown as Record<string, unknown>)[field];
      assert.ok(typeof value === 'string' && value.length <= bound, `${field}: ${String(value).length} > ${bound}`);
    }
    assert.ok(!(r.description ?? '').includes('\u0000'), 'control characters are removed');
    await store.close();
    const line = fs.readFileSync(file, 'utf8');
    assert.ok(Buffer.byteLength(line) < 8 * 1024, `one record is ${Buffer.byteLength(line)} bytes`);
  });

  it('drops a torn last line (a crash mid-write) and keeps every earlier record', async () => {
    const store = open();
    await store.append(draft('10.0.0.1/32'), 'edge');
    await store.append(draft('10.0.0.2/32'), 'edge');
    await store.close();
    fs.appendFileSync(file, '{"p":{"id":"x","at":1,"act');
    const again = open();
    assert.deepEqual(again.query({ limit: 10 }).records.map((r) => r.target), ['10.0.0.2/32', '10.0.0.1/32']);
    await again.close();
  });
});
