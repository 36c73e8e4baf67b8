import assert from 'node:assert/strict';
import { jsonTooDeep, MAX_JSON_DEPTH, scanJson, valueTooDeep } from '../../../lib/ads/json-scan';
import { splitLines } from '../../../lib/ads/parse-lines';
import { parse } from './fixture';

const CEF = 'CEF:0|Flowmon Networks|Flowmon ADS|13.00.00|DOS|DoS|10|src=10.0.0.1 dst=10.0.0.2';
const ADS = { id: 1, timestamp: '2025-03-10 09:15:00', type: 'SCANS', source: '192.0.2.1' };

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

function deepText(depth: number): string {
  return `${'['.repeat(depth)}1${']'.repeat(depth)}`;
}

describe('JSON bounds', () => {
  describe('scanJson', () => {
    it('counts the items of a top-level array, not those nested or inside strings', () => {
      assert.deepEqual(scanJson('[]', { maxDepth: 8 }), { single: true, items: 0, tooManyItems: false });
      const scan = scanJson(' [ {"a":[1,2,3],"b":"x,]}[,"} , "q\\"[,", 3 ,[4,5]]\n', { maxDepth: 8 });
      assert.deepEqual(scan, { single: true, items: 4, tooManyItems: false });
      assert.equal(scanJson('{"a":1,"b":2}', { maxDepth: 8 }).items, 0, 'an object has no items');
    });

    it('stops counting at maxItems + 1', () => {
      const text = `[${Array.from({ length: 50_000 }, () => '{}').join(',')}]`;
      assert.deepEqual(scanJson(text, { maxDepth: 8, maxItems: 10 }), { single: false, items: 11, tooManyItems: true });
      assert.equal(scanJson(text, { maxDepth: 8, maxItems: 50_000 }).items, 50_000);
    });

    it('finds the first bracket past the depth limit, without recursion, at any depth', () => {
      const deep = `${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`;
      assert.deepEqual(scanJson(deep, { maxDepth: 8 }), { single: true, items: 1, tooManyItems: false, tooDeepAt: 8 });
      assert.equal(jsonTooDeep(JSON.stringify(nested(MAX_JSON_DEPTH))), false);
      assert.equal(jsonTooDeep(JSON.stringify(nested(MAX_JSON_DEPTH + 1))), true);
      assert.equal(jsonTooDeep(`{"a":"${'['.repeat(100)}"}`), false, 'brackets in strings do not nest');
    });

    it('tells one document from several values or an unbalanced text', () => {
      assert.equal(scanJson('{"a":1}\n{"b":2}', { maxDepth: 8 }).single, false);
      assert.equal(scanJson('[1,2', { maxDepth: 8 }).single, false);
      assert.equal(scanJson('[1]]', { maxDepth: 8 }).single, false);
      assert.equal(scanJson('CEF:0|x', { maxDepth: 8 }).single, false);
    });
  });

  describe('valueTooDeep', () => {
    it('walks a million levels without recursion', () => {
      assert.equal(valueTooDeep(nested(1_000_000)), true);
      assert.equal(valueTooDeep(nested(MAX_JSON_DEPTH)), false);
      assert.equal(valueTooDeep({ a: [{ b: Buffer.alloc(10) }] }), false, 'a Buffer is one leaf');
    });

    it('counts a cycle as too deep', () => {
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      assert.equal(valueTooDeep(cyclic), true);
    });
  });

  describe('parsing within bounds', () => {
    it('refuses a JSON array text with more items than the event limit (413), counted while scanning', () => {
      const text = JSON.stringify(Array.from({ length: 11_000 }, () => ADS));
      const outcome = parse(text);
      assert.equal(outcome.tooLarge, 'more than 10000 items in one JSON array, over the limit of 10000');
      assert.deepEqual([outcome.events.length, outcome.rejects.length], [0, 0]);
      assert.equal(parse(JSON.stringify(Array.from({ length: 10_000 }, () => ADS))).events.length, 10_000);
    });

    it('stops at the event limit across JSON array lines', () => {
      const line = JSON.stringify(Array.from({ length: 300 }, () => ADS));
      const outcome = parse(`${line}\n${line}\n${line}\n`, { maxEvents: 500 });
      assert.equal(outcome.tooLarge, 'more than 500 events in one message, over the limit of 500');
      assert.deepEqual([outcome.events.length, outcome.rejects.length], [0, 0]);
    });

    it('splits lines only up to the limit', () => {
      assert.equal(splitLines('a\nb\n\nc\n', 2), undefined);
      assert.deepEqual(splitLines('a\n\nb\n', 2), ['a', null, 'b']);
      assert.match(parse('x\n'.repeat(100_000), { maxEvents: 10 }).tooLarge ?? '', /more than 10 lines in one message/);
    });

    it('rejects a too-deep JSON document as a whole, with its start quoted', () => {
      const text = `[\n${deepText(20_000)}\n]`;
      const { events, rejects, tooLarge } = parse(text);
      assert.equal(tooLarge, undefined);
      assert.equal(events.length, 0);
      assert.equal(rejects.length, 1);
      assert.equal(rejects[0].lineNumber, 0);
      assert.equal(rejects[0].line.length, 1025);
      assert.match(rejects[0].reason, /^JSON nested deeper than 8 levels: ADS events are flat objects \(at character \d+\)$/);
    });

    it('rejects a too-deep JSON line and reads the lines around it', () => {
      const deep = `${JSON.stringify(ADS).slice(0, -1)},"extra":${deepText(20_000)}}`;
      const { events, rejects } = parse(`${CEF}\n${deep}\n${JSON.stringify(ADS)}\n`);
      assert.equal(events.length, 2);
      assert.deepEqual(
        rejects.map((r) => [r.lineNumber, r.reason]),
        [[2, 'JSON nested deeper than 8 levels: ADS events are flat objects']],
      );
    });

    it('rejects too-deep items of a parsed payload on their own, quoting no deep value', () => {
      const { events, rejects } = parse([ADS, { ...ADS, extra: nested(1_000_000) }, ADS]);
      assert.equal(events.length, 2);
      assert.deepEqual(rejects, [
        { line: '[object too deeply nested to quote]', lineNumber: 2, reason: 'JSON nested deeper than 8 levels: ADS events are flat objects' },
      ]);
      assert.equal(parse(nested(100_000)).rejects[0].reason, 'JSON nested deeper than 8 levels: ADS events are flat objects');
      assert.equal(parse({ ...ADS, targets: ['192.0.2.9'] }).events.length, 1, 'a flat event passes');
    });
  });
});
