import assert from 'node:assert/strict';
import { fixture, parse } from './fixture';

describe('ADS and IDS JSON', () => {
  it('reads JSON lines: targets as a string or an array, numeric id, unknown keys ignored', () => {
    const { events, rejects } = parse(fixture('ads.jsonl'));
    assert.deepEqual(rejects, []);
    const [a, b] = events;
    assert.equal(a.format, 'json-ads');
    assert.equal(a.id, '532028');
    assert.equal(a.detectedAt, '2025-03-10T11:00:00.000Z');
    assert.equal(a.method, 'SSHDICT');
    assert.equal(a.description, 'SSH attack');
    assert.equal(a.priority, 'critical');
    assert.deepEqual(a.targets, ['10.100.28.40', '10.100.28.41']);
    assert.equal(a.userIdentity, null);
    assert.equal(a.dataFeed, 'LAN');
    assert.equal(b.id, '532029');
    assert.equal(b.source, '2001:db8::a');
    assert.deepEqual(b.targets, ['2001:db8::b', '10.100.28.42']);
    assert.equal(b.userIdentity, 'CORP\\bob');
    assert.equal(b.raw, fixture('ads.jsonl').toString().split('\n')[1]);
  });

  it('reads an IDS object (no "timestamp" key)', () => {
    const ids = parse(fixture('ads.jsonl')).events[2];
    assert.equal(ids.kind, 'ids');
    assert.equal(ids.format, 'json-ids');
    assert.equal(ids.method, 'IDS');
    assert.equal(ids.source, '10.0.0.5');
    assert.deepEqual(ids.targets, ['10.0.0.6']);
    assert.equal(ids.priority, 'low');
    assert.equal(ids.detectedAt, '2025-03-10T11:02:00.000Z');
    assert.equal(ids.description, 'ET SCAN test');
  });

  it('reads a pretty-printed JSON array document, an already parsed array and a single object', () => {
    const fromText = parse(fixture('ads-array.json'));
    assert.deepEqual(fromText.rejects, []);
    assert.deepEqual(
      fromText.events.map((e) => [e.id, e.targets.length]),
      [
        ['1', 1],
        ['2', 0],
      ],
    );
    const objects = JSON.parse(fixture('ads-array.json').toString()) as object[];
    const fromArray = parse(objects);
    assert.deepEqual(fromArray.events, fromText.events);
    const single = parse(objects[0]);
    assert.equal(single.events.length, 1);
    assert.equal(single.events[0].raw, JSON.stringify(objects[0]));
  });

  it('reads a JSON array on one line among other lines', () => {
    const line = JSON.stringify([{ timestamp: '', type: 'SCANS', source: '10.0.0.1', targets: '' }, { x: 1 }]);
    const cef = 'CEF:0|Flowmon Networks|Flowmon ADS|13.00.00|DOS|DoS|10|src=10.0.0.3';
    const { events, rejects } = parse(`${cef}\n${line}\n`);
    assert.deepEqual(
      events.map((e) => [e.format, e.source]),
      [
        ['cef', '10.0.0.3'],
        ['json-ads', '10.0.0.1'],
      ],
    );
    assert.equal(events[1].detectedAt, null);
    assert.equal(rejects.length, 1);
    assert.equal(rejects[0].lineNumber, 2);
    assert.match(rejects[0].reason, /neither ADS keys \(timestamp, type, source\) nor IDS keys/);
  });

  it('rejects invalid JSON, non-objects, a missing type and wrongly typed keys, one by one', () => {
    const input = [
      '{"timestamp":"x", "type":',
      '{"timestamp":"2025-03-10 12:00:00","source":"10.0.0.1"}',
      '{"timestamp":"2025-03-10 12:00:00","type":"DOS","source":{"ip":"10.0.0.1"}}',
      '{"timestamp":"2025-03-10 12:00:00","type":"DOS","source":"10.0.0.1","targets":"10.0.0.2"}',
    ].join('\n');
    const { events, rejects } = parse(input);
    assert.equal(events.length, 1);
    assert.deepEqual(
      rejects.map((r) => r.lineNumber),
      [1, 2, 3],
    );
    assert.match(rejects[0].reason, /^invalid JSON/);
    assert.match(rejects[1].reason, /without "type"/);
    assert.match(rejects[2].reason, /"source" holds an object/);
    const arrayOfJunk = parse([1, null, { timestamp: 'x', type: 'DOS', source: '10.0.0.9' }]);
    assert.equal(arrayOfJunk.events.length, 1);
    assert.deepEqual(
      arrayOfJunk.rejects.map((r) => [r.lineNumber, r.reason]),
      [
        [1, 'JSON value is number, not an event object'],
        [2, 'JSON value is null, not an event object'],
      ],
    );
  });

  it('reads an ADS object without "timestamp" as ADS when it has no IDS keys', () => {
    const { events } = parse({ type: 'SCANS', source: '10.0.0.1' });
    assert.equal(events[0].format, 'json-ads');
    assert.equal(events[0].detectedAt, null);
  });

  it('follows a forced JSON kind and refuses objects when a text format is forced', () => {
    const ids = { id: '1', srcIp: '10.0.0.5', dstIp: '10.0.0.6', timestamp: '2025-03-10 12:00:00' };
    assert.equal(parse(ids, { format: 'json-ids' }).events[0].kind, 'ids');
    const forcedAds = parse({ type: 'DOS', source: '10.0.0.1' }, { format: 'json-ads' });
    assert.equal(forcedAds.events[0].kind, 'ads');
    const refused = parse({ type: 'DOS', source: '10.0.0.1' }, { format: 'cef' });
    assert.match(refused.rejects[0].reason, /JSON object, but the format is set to cef/);
  });
});
