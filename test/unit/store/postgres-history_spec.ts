import assert from 'node:assert/strict';
import type { HistoryRecord } from '../../../lib/history/record';
import { PostgresHistoryBackend } from '../../../lib/store/postgres/history';
import { quietLog, sleep, usePostgres, waitFor } from './postgres-support';

function record(id: string, at = Date.now()): HistoryRecord {
  return {
    id, at, action: 'blocked', kind: 'loadmaster', configId: 'lm', appliance: 'lm', scope: 'ACL', target: '10.0.0.1',
    actorKind: 'package', actor: 'flowmon-response',
  };
}

interface Instance {
  backend: PostgresHistoryBackend;
  seen: string[];
  seenAt: Map<string, number>;
}

describe('PostgreSQL history (real PostgreSQL)', function () {
  this.timeout(30_000);
  const { pg, url } = usePostgres();

  async function instance(id: string): Promise<Instance> {
    const backend = new PostgresHistoryBackend(await pg.connection(url()), { instanceId: id, ready: Promise.resolve(), log: quietLog });
    pg.onClose(() => backend.close());
    const seen: string[] = [];
    const seenAt = new Map<string, number>();
    await backend.load();
    backend.onRemote((records) => {
      for (const r of records) {
        seen.push(r.id);
        seenAt.set(r.id, Date.now());
      }
    });
    await sleep(200);
    return { backend, seen, seenAt };
  }

  it("delivers each instance's appends to the other, never its own, none twice", async () => {
    const a = await instance('a');
    const b = await instance('b');
    const storedAt = new Map<string, number>();
    const appends: Promise<void>[] = [];
    for (let i = 0; i < 300; i++) {
      const [from, id] = i % 2 === 0 ? [a, `a${i}`] : [b, `b${i}`];
      appends.push(from.backend.append(record(id)).then(() => void storedAt.set(id, Date.now())));
      if (i % 20 === 0) await sleep(5);
    }
    await Promise.all(appends);
    await waitFor(() => a.seen.length >= 150 && b.seen.length >= 150, 15_000, 'every record on both');
    await sleep(800);
    assert.equal(a.seen.length, 150, 'none twice on a');
    assert.equal(b.seen.length, 150, 'none twice on b');
    assert.ok(a.seen.every((id) => id.startsWith('b')) && new Set(a.seen).size === 150);
    assert.ok(b.seen.every((id) => id.startsWith('a')) && new Set(b.seen).size === 150);
    const delays = [...a.seenAt, ...b.seenAt].map(([id, at]) => at - storedAt.get(id)!);
    const slowest = Math.max(...delays);
    console.log(`      300 appends from two instances: slowest delivery ${slowest} ms after the append was stored`);
  });

  it('delivers a record whose lower seq committed after a higher one', async () => {
    const a = await instance('a');
    const b = await instance('b');
    const late = await pg.client(url());
    await late.query('BEGIN');
    await late.query(
      `WITH added AS (INSERT INTO flowmon_history (id, at, origin, record) VALUES ('late', 1, 'c', $1) RETURNING seq)
       SELECT pg_notify('flowmon_history', json_build_object('s', seq, 'o', 'c')::text) FROM added`,
      [JSON.stringify(record('late'))],
    );
    await a.backend.append(record('early'));
    await waitFor(() => b.seen.includes('early'), 10_000, 'the early record');
    await late.query('COMMIT');
    await waitFor(() => b.seen.includes('late') && a.seen.includes('late'), 1_500, 'the late record');
    await sleep(800);
    assert.deepEqual(b.seen, ['early', 'late']);
    assert.deepEqual(a.seen, ['late']);
  });

  it('loads every record in the order stored, and deletes by id', async () => {
    const a = await instance('a');
    const ids = Array.from({ length: 12_000 }, (_, i) => `r${i}`);
    for (const id of ids.slice(0, 20)) await a.backend.append(record(id));
    const operator = await pg.client(url());
    await operator.query(
      `INSERT INTO flowmon_history (id, at, origin, record)
       SELECT 'r' || n, n, 'a', jsonb_build_object('id', 'r' || n) FROM generate_series(20, 11999) AS n`,
    );
    const reader = new PostgresHistoryBackend(await pg.connection(url()), { instanceId: 'c', ready: Promise.resolve(), log: quietLog });
    assert.deepEqual((await reader.load()).map((r) => r.id), ids);
    await reader.delete(ids.filter((_, i) => i % 2 === 0));
    const left = (await reader.load()).map((r) => r.id);
    assert.equal(left.length, 6_000);
    assert.ok(left.every((id) => Number(id.slice(1)) % 2 === 1));
  });

  it('appends a record once even when it is appended again', async () => {
    const a = await instance('a');
    const b = await instance('b');
    await a.backend.append(record('same'));
    await a.backend.append(record('same'));
    await waitFor(() => b.seen.length > 0, 10_000, 'the record');
    await sleep(700);
    assert.deepEqual(b.seen, ['same']);
  });
});
