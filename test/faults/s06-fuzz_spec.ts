// Scenario 6: 10,000 fuzzed lines to the HTTP endpoint, mixed with good lines in the same bodies.
import assert = require('node:assert/strict');
import { eventLine, sourceAddress } from './support/events';
import { FuzzLine, fuzzLines } from './support/fuzz';
import { Stack, countBy, fastSettings, figures, pool, waitFor } from './support/stack';

const FUZZED = 10_000;
const PER_BODY = 40;
const GOOD_SOURCES = 20;
const SEED = 20250310;

function bodyOf(lines: Array<string | Buffer>): Buffer {
  return Buffer.concat(lines.flatMap((l) => [Buffer.isBuffer(l) ? l : Buffer.from(l), Buffer.from('\n')]));
}

describe('scenario 6: 10,000 fuzzed inputs to the HTTP endpoint', function () {
  let s: Stack;

  before(async () => {
    s = await Stack.start({ patch: fastSettings, blockTtl: '10m' });
  });

  after(async () => {
    await s?.close();
  });

  it('never crashes, rejects every bad line with a reason and processes the good lines of the same bodies', async () => {
    const from = s.nr.log.length;
    const fuzz = fuzzLines(FUZZED, SEED, (n) => sourceAddress(n % GOOD_SOURCES));
    const bodies: Array<{ lines: FuzzLine[]; good: string[] }> = [];
    for (let i = 0; i < fuzz.length; i += PER_BODY) {
      const b = bodies.length;
      bodies.push({ lines: fuzz.slice(i, i + PER_BODY), good: [0, 1].map((k) => eventLine(`good-${b}-${k}`, sourceAddress((2 * b + k) % GOOD_SOURCES))) });
    }
    const mismatches: string[] = [];
    const results = await pool(bodies, 4, async ({ lines, good }, b) => {
      const r = await s.post(bodyOf([good[0], ...lines.map((l) => l.line), good[1]]));
      const bad = lines.filter((l) => l.bad).length;
      const expected = { accepted: lines.length - bad + good.length, rejected: bad, filtered: 0 };
      if (r.status !== 202 || JSON.stringify(r.body) !== JSON.stringify(expected)) {
        mismatches.push(`body ${b}: HTTP ${r.status} ${JSON.stringify(r.body)}, expected ${JSON.stringify(expected)}`);
      }
      return r;
    });
    const expectedRejects = fuzz.filter((l) => l.bad).length;
    await waitFor(() => s.taps('rejected', from).length >= expectedRejects, 30000, 'every reject message').catch(() => undefined);
    const rejects = s.taps('rejected', from);
    const withoutReason = rejects.filter((t) => typeof t.payload.reason !== 'string' || t.payload.reason === '').length;
    const goodSources = [...new Set(bodies.flatMap((_, b) => [0, 1].map((k) => sourceAddress((2 * b + k) % GOOD_SOURCES))))];
    await waitFor(() => goodSources.every((a) => s.lmBlocked().includes(a)), 30000, 'the good sources to be blocked').catch(() => undefined);
    const kinds = [...countBy(fuzz, (l) => l.kind)].map(([k, n]) => `${k} ${n}`).join(', ');
    figures(
      6,
      `${FUZZED} fuzzed lines (${kinds}) in ${bodies.length} bodies with ${2 * bodies.length} good lines: ` +
        `${rejects.length}/${expectedRejects} rejected (${withoutReason} without a reason), ${mismatches.length} receipts off, ` +
        `${goodSources.filter((a) => s.lmBlocked().includes(a)).length}/${goodSources.length} good sources blocked; ` +
        `receipts ${[...countBy(results, (r) => String(r.status))].map(([k, n]) => `${k}×${n}`).join(' ')}; Node-RED running: ${s.nr.running}`,
    );
    for (const m of mismatches.slice(0, 5)) figures(6, m);
    const textLines = new Set(fuzz.filter((l) => !l.bad).map((l) => String(l.line)));
    for (const t of rejects.filter((r) => textLines.has(String(r.payload.line))).slice(0, 5)) {
      figures(6, `rejected although only a text field was hostile: ${String(t.payload.reason)}`);
    }
    assert.equal(s.nr.running, true);
    assert.equal((await s.nr.request('GET', '/settings')).status, 200);
    assert.deepEqual(mismatches, []);
    assert.equal(rejects.length, expectedRejects);
    assert.equal(withoutReason, 0);
    assert.deepEqual(goodSources.filter((a) => !s.lmBlocked().includes(a)), []);
  });
});
