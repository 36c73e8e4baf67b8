import assert from 'node:assert/strict';
import { makeFilter, filterReason } from '../../../lib/ads/filters';
import { splitLines } from '../../../lib/ads/parse-lines';
import { secretMatches } from '../../../lib/ads/secret';
import { parseAdsTime, parseCefTime } from '../../../lib/ads/time';
import { fixture, parse, ZONE } from './fixture';

const CEF = 'CEF:0|Flowmon Networks|Flowmon ADS|13.00.00|DOS|DoS|10|src=10.0.0.1 dst=10.0.0.2';

describe('ADS input handling', () => {
  describe('lines', () => {
    it('splits on LF, drops one CR, skips blank lines and the piece after the final newline', () => {
      assert.deepEqual(splitLines('a\r\n\r\n  \nb\rc\n'), ['a', null, null, 'b\rc']);
      assert.deepEqual(splitLines('a'), ['a']);
      assert.deepEqual(splitLines(''), []);
    });

    it('keeps line numbers of the input across blank lines', () => {
      const { events, rejects } = parse(`\n${CEF}\n\njunk\n`);
      assert.equal(events.length, 1);
      assert.deepEqual(rejects, [{ line: 'junk', lineNumber: 4, reason: 'unknown format: neither tab-separated, JSON nor CEF' }]);
    });

    it('mixes formats in one input', () => {
      const text = [fixture('tsv-ids.tsv'), fixture('ads.jsonl'), fixture('cef-syslog.txt')].map(String).join('');
      const { events, rejects } = parse(Buffer.from(text));
      assert.deepEqual(rejects, []);
      assert.deepEqual(
        [...new Set(events.map((e) => e.format))],
        ['tsv-ids', 'json-ads', 'json-ids', 'cef'],
      );
    });

    it('reports an empty body as one reject', () => {
      for (const empty of ['', '\n\n', Buffer.alloc(0)]) {
        const { events, rejects, tooLarge } = parse(empty);
        assert.equal(events.length, 0);
        assert.equal(tooLarge, undefined);
        assert.deepEqual(rejects, [{ line: '', lineNumber: 0, reason: 'empty body: no event lines' }]);
      }
    });

    it('rejects a payload that is no text, Buffer, object or array', () => {
      assert.match(parse(42).rejects[0].reason, /payload is number/);
      assert.match(parse(undefined).rejects[0].reason, /payload is undefined/);
    });

    it('rejects a line over the length limit, quoting only its start, and goes on', () => {
      const huge = `${CEF} msg=${'x'.repeat(100_000)}`;
      const { events, rejects } = parse(`${huge}\n${CEF}\n`);
      assert.equal(events.length, 1);
      assert.equal(rejects.length, 1);
      assert.equal(rejects[0].lineNumber, 1);
      assert.match(rejects[0].reason, /line of 100\d+ characters is longer than the limit of 65536/);
      assert.equal(rejects[0].line.length, 1025);
    });

    it('rejects the lines of a Buffer that hold invalid UTF-8, and only those', () => {
      const bad = Buffer.concat([Buffer.from(`${CEF} msg=caf`), Buffer.from([0xe9]), Buffer.from(`\n${CEF}\n`)]);
      const { events, rejects } = parse(bad);
      assert.equal(events.length, 1);
      assert.equal(rejects.length, 1);
      assert.match(rejects[0].reason, /invalid UTF-8/);
      assert.equal(parse(`${CEF} msg=caf\ufffd`).events.length, 1, 'a string may hold U+FFFD');
    });
  });

  describe('limits', () => {
    it('refuses more lines than the event limit as a whole', () => {
      const outcome = parse(`${CEF}\n${CEF}\n${CEF}\n`, { maxEvents: 2 });
      assert.deepEqual(outcome.events, []);
      assert.deepEqual(outcome.rejects, []);
      assert.match(outcome.tooLarge ?? '', /more than 2 lines in one message, over the limit of 2/);
      assert.equal(parse(`${CEF}\n\n${CEF}\n`, { maxEvents: 2 }).events.length, 2, 'blank lines do not count');
    });

    it('refuses a body longer than max line length × max events', () => {
      const outcome = parse(`${CEF}\n`, { maxEvents: 1, maxLineLength: 20 });
      assert.match(outcome.tooLarge ?? '', /over 20 × 1/);
    });

    it('refuses arrays with more items than the limit, also items found inside JSON array lines', () => {
      assert.match(parse([{}, {}, {}], { maxEvents: 2 }).tooLarge ?? '', /3 items/);
      const line = JSON.stringify([{}, {}, {}]);
      assert.match(parse(`${CEF}\n${line}\n`, { maxEvents: 2 }).tooLarge ?? '', /more than 2 events/);
    });
  });

  describe('times', () => {
    it('reads wall times in the zone, across daylight saving changes', () => {
      assert.equal(parseAdsTime('2025-07-01 12:00:00', ZONE), '2025-07-01T10:00:00.000Z');
      assert.equal(parseAdsTime('2025-01-01 12:00:00', 'America/New_York'), '2025-01-01T17:00:00.000Z');
      assert.equal(parseAdsTime('2025-01-01 12:00:00', 'UTC'), '2025-01-01T12:00:00.000Z');
      // 02:30 happens twice on 26 Oct 2025 in Prague: the earlier (summer time) instant is taken.
      assert.equal(parseAdsTime('2025-10-26 02:30:00', ZONE), '2025-10-26T00:30:00.000Z');
      // 02:30 does not exist on 30 Mar 2025 in Prague: read with the winter offset.
      assert.equal(parseAdsTime('2025-03-30 02:30:00', ZONE), '2025-03-30T01:30:00.000Z');
      assert.equal(parseAdsTime('2025-03-30 03:30:00', ZONE), '2025-03-30T01:30:00.000Z');
      assert.equal(parseAdsTime('2025-11-15 10:00:00', 'Asia/Kolkata'), '2025-11-15T04:30:00.000Z');
      assert.equal(parseAdsTime('2025-11-15 10:00:00', 'UTC'), '2025-11-15T10:00:00.000Z', 'same text, other zone');
    });

    it('accepts epoch seconds and times with an offset; returns null for the unreadable', () => {
      assert.equal(parseAdsTime('1741594500', ZONE), '2025-03-10T08:15:00.000Z');
      assert.equal(parseAdsTime('2025-03-10T08:15:00+02:00', ZONE), '2025-03-10T06:15:00.000Z');
      assert.equal(parseAdsTime('8/28/2023 10:13', ZONE), null);
      assert.equal(parseAdsTime('2025-02-30 10:00:00', ZONE), null);
      assert.equal(parseAdsTime('', ZONE), null);
      assert.equal(parseCefTime('Nov 03 2025 15:13:04', ZONE), '2025-11-03T14:13:04.000Z');
    });
  });

  describe('filters', () => {
    const event = parse(fixture('tsv-standard.tsv')).events;

    it('filters by minimum priority, letting events without a priority pass', () => {
      const filter = makeFilter({ minPriority: 'high' });
      assert.deepEqual(
        event.map((e) => filterReason(e, filter)),
        [null, 'priority medium below high', null, null],
      );
    });

    it('includes and excludes method codes in any case, and filters perspectives', () => {
      assert.equal(filterReason(event[0], makeFilter({ includeMethods: 'scans, rdpdict' })), 'method SSHDICT not included');
      assert.equal(filterReason(event[1], makeFilter({ includeMethods: 'scans rdpdict' })), null);
      assert.equal(filterReason(event[1], makeFilter({ excludeMethods: 'Scans' })), 'method SCANS excluded');
      const perspectives = makeFilter({ perspectives: 'Operational Issues' });
      assert.equal(filterReason(event[0], perspectives), 'perspective Security Issues not included');
      assert.equal(filterReason(event[2], perspectives), null, 'a manual trigger has no perspective');
      assert.equal(filterReason(event[0], makeFilter({ perspectives: 'security issues, Other' })), null);
    });

    it('refuses an unknown minimum priority', () => {
      assert.throws(() => makeFilter({ minPriority: 'urgent' }), /unknown priority: urgent/);
    });
  });

  describe('shared secret', () => {
    it('matches only the same text', () => {
      assert.equal(secretMatches('s3cret', 's3cret'), true);
      assert.equal(secretMatches('s3cret', 's3cret '), false);
      assert.equal(secretMatches('s3cret', ''), false);
      assert.equal(secretMatches('s3cret', undefined), false);
      assert.equal(secretMatches('s3cret', ['s3cret']), false);
    });
  });
});
