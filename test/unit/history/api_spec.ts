import assert from 'node:assert/strict';
import { parse } from 'csv-parse/sync';
import { CSV_COLUMNS, MAX_LIMIT, parseHistoryQuery } from '../../../lib/history/query';
import type { HistoryRecord } from '../../../lib/history/record';
import type { RecordDraft } from '../../../lib/history/sources';
import { HistoryStore } from '../../../lib/history/store';
import { ApiResponse, historyRoute } from '../../../plugins/flowmon-observability/observability-api';

class FakeResponse implements ApiResponse {
  code = 0;
  headers: Record<string, string> = {};
  body: unknown;
  status(code: number) {
    this.code = code;
    return this;
  }
  set(field: string, value: string) {
    this.headers[field.toLowerCase()] = value;
    return this;
  }
  json(body: unknown) {
    this.body = body;
  }
  send(body: string) {
    this.body = body;
  }
}

async function get(store: HistoryStore, query: Record<string, unknown>): Promise<FakeResponse> {
  const res = new FakeResponse();
  await historyRoute(store, () => Date.UTC(2026, 5, 1))({ query }, res);
  return res;
}

function draft(target: string, over: Partial<RecordDraft> = {}): RecordDraft {
  return { action: 'blocked', kind: 'loadmaster', configId: 'lm1', scope: 'global:block', target, actorKind: 'package', actor: 'flowmon-response', ...over };
}

describe('GET /flowmon-response/history', () => {
  let t: number;
  let store: HistoryStore;
  beforeEach(async () => {
    t = Date.UTC(2026, 0, 1, 12);
    store = new HistoryStore({ now: () => t });
    await store.append(draft('10.0.0.1/32', { ttlSeconds: 60, expiresAt: t + 60_000, eventId: '42', method: 'SCANS', priority: 'high' }), 'edge LM');
    t += 60_000;
    await store.append(draft('10.0.0.1/32', { action: 'released', cause: 'expiry' }), 'edge LM');
    t += 60_000;
    await store.append(
      draft('10.0.0.2/32', {
        action: 'held',
        description: '=HYPERLINK("http://x.example","click"), and more',
        label: '+SUM(A1)',
        detail: '-1 "quoted", comma',
        perspective: '@risk',
        cause: 'storm',
      }),
      'edge, "LM"',
    );
    t += 60_000;
    await store.append(draft('S-1-5-21-9', { action: 'refused', kind: 'cryptospike', scope: 'user:WINDOWS', label: 'jdoe', detail: 'protected user' }), 'cs');
  });

  it('answers JSON, newest first, filtered by time, target, action and limit', async () => {
    const all = (await get(store, {})).body as { records: HistoryRecord[]; matched: number; truncated: boolean };
    assert.deepEqual(all.records.map((r) => r.action), ['refused', 'held', 'released', 'blocked']);
    assert.equal(all.matched, 4);
    const since = new Date(Date.UTC(2026, 0, 1, 12, 1)).toISOString();
    const until = String(Date.UTC(2026, 0, 1, 12, 2));
    assert.deepEqual(((await get(store, { since, until })).body as typeof all).records.map((r) => r.action), ['held', 'released']);
    assert.deepEqual(((await get(store, { target: '10.0.0.1' })).body as typeof all).records.map((r) => r.action), ['released', 'blocked']);
    assert.deepEqual(((await get(store, { target: 'jdoe' })).body as typeof all).records.map((r) => r.target), ['S-1-5-21-9']);
    assert.deepEqual(((await get(store, { action: 'held,refused' })).body as typeof all).records.map((r) => r.action), ['refused', 'held']);
    const limited = (await get(store, { limit: '1' })).body as typeof all;
    assert.deepEqual([limited.records.length, limited.matched, limited.truncated], [1, 4, true]);
  });

  it('answers CSV that a CSV parser reads back to the JSON records, with formulas defused', async () => {
    const json = ((await get(store, {})).body as { records: HistoryRecord[] }).records;
    const res = (await get(store, { format: 'csv' }));
    assert.equal(res.code, 200);
    assert.match(res.headers['content-type'], /^text\/csv; charset=utf-8$/);
    assert.match(res.headers['content-disposition'], /^attachment; filename="flowmon-history-[0-9TZ-]+\.csv"$/);
    const text = res.body as string;
    assert.ok(text.endsWith('\r\n'));
    const rows = parse(text, { columns: true, relax_column_count: false }) as Array<Record<string, string>>;
    assert.deepEqual(Object.keys(rows[0]), [...CSV_COLUMNS]);
    const expected = json.map((r) =>
      Object.fromEntries(
        CSV_COLUMNS.map((c) => {
          const v = r[c];
          if (v === undefined) return [c, ''];
          if (c === 'at' || c === 'expiresAt') return [c, new Date(v as number).toISOString()];
          const s = String(v);
          return [c, /^[=+\-@]/.test(s) ? `'${s}` : s];
        }),
      ),
    );
    assert.deepEqual(rows, expected);
    const held = rows.find((r) => r.action === 'held') as Record<string, string>;
    assert.equal(held.description, '\'=HYPERLINK("http://x.example","click"), and more');
    assert.equal(held.label, "'+SUM(A1)");
    assert.equal(held.detail, '\'-1 "quoted", comma');
    assert.equal(held.perspective, "'@risk");
    assert.equal(held.appliance, 'edge, "LM"');
  });

  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ since: 'yesterday' }, /since must be an ISO 8601 time/],
    [{ until: '2026-13-45T99:00:00Z' }, /until must be an ISO 8601 time/],
    [{ since: '1'.repeat(41) }, /since must be/],
    [{ since: '2026-02-01', until: '2026-01-01' }, /since must not be after until/],
    [{ limit: '0' }, /limit must be a whole number from 1 to 10000/],
    [{ limit: String(MAX_LIMIT + 1) }, /limit must be/],
    [{ limit: '1e3' }, /limit must be/],
    [{ format: 'xlsx' }, /format must be json or csv/],
    [{ action: 'blocked,exploded' }, /action must be one or more of blocked, extended/],
    [{ target: 'x'.repeat(513) }, /target must be 1 to 512 characters/],
    [{ target: '' }, /target must be/],
    [{ limit: ['1', '2'] }, /limit must be given once/],
    [{ secret: 'x' }, /unknown parameter "secret"/],
  ];
  for (const [query, message] of bad) {
    it(`refuses ${JSON.stringify(query).slice(0, 60)} with a 400 that says why`, async () => {
      const res = (await get(store, query));
      assert.equal(res.code, 400);
      assert.match((res.body as { error: string }).error, message);
    });
  }

  it('reads ISO times with offsets, dates and epoch milliseconds', () => {
    assert.deepEqual(parseHistoryQuery({ since: '2026-01-01', until: '2026-01-01T13:00:00+01:00', limit: '10000' }), {
      since: Date.UTC(2026, 0, 1),
      until: Date.UTC(2026, 0, 1, 12),
      limit: 10_000,
      format: 'json',
    });
    assert.deepEqual(parseHistoryQuery({ since: '1767268800000' }), { since: 1767268800000, limit: 1000, format: 'json' });
  });
});
