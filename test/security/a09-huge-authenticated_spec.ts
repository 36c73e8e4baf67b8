// Attack 9: 100 MB of JSON arrays with the secret, and 11,000 events in one 2 MB array. The intake refuses a body
// over its byte limit (8 MiB by default) with 413 by Content-Length or while reading a chunked body, and a batch
// over the events limit (10,000) with 413 before emitting any event; memory stays low and the event loop free.
import assert = require('node:assert/strict');
import { repeatBytes, streamPost } from './support/stream';
import { figure, mb, measureMemory, sharedStack, sleep, type SecureStack } from './support/stack';
import { SHARED_SECRET } from './support/stack';

const MIB = 1 << 20;
const MAX_GROWTH_KB = 48 * 1024;
const MAX_LATENCY_MS = 1000;

function adsJson(i: number): string {
  return JSON.stringify({ id: String(900000 + i), timestamp: '2025-03-10 08:15:00', type: 'SCANS', typeDesc: 'Port scanning', perspective: 'Security Issues', severity: 'High', detail: 'Port scanning.', source: '198.51.100.250', targets: '203.0.113.7', netFlowSource: 'LAN', userIdentity: '' });
}

/** GETs the admin API every 50 ms while `work` runs; the slowest answer in ms. */
async function withLatencyProbe<T>(s: SecureStack, work: () => Promise<T>): Promise<{ result: T; worstMs: number }> {
  let worst = 0;
  let running = true;
  const probe = (async () => {
    while (running) {
      const t0 = performance.now();
      try {
        await s.nr.request('admin', 'GET', '/flowmon-response/blocks');
      } catch {
        // counted as slow below
      }
      worst = Math.max(worst, performance.now() - t0);
      await sleep(50);
    }
  })();
  try {
    const result = await work();
    running = false;
    await probe;
    return { result, worstMs: worst };
  } finally {
    running = false;
  }
}

describe('attack 9: over the byte and event limits with the secret', function () {
  this.timeout(180000);
  let s: SecureStack;

  before(async () => {
    s = await sharedStack();
  });

  for (const contentLength of [true, false]) {
    const name = `100 MB of JSON arrays ${contentLength ? 'with Content-Length' : 'chunked'}`;
    it(`${name}: 413 while reading, small RSS growth, admin API answers quickly`, async () => {
      const total = 100 * MIB;
      const line = `[${adsJson(1)},${adsJson(2)}]\n`;
      const { result: probed, growthKb } = await measureMemory(s.nr, () =>
        withLatencyProbe(s, () =>
          streamPost({
            url: s.adsUrl,
            headers: { 'Content-Type': 'text/plain', 'X-ADS-Secret': SHARED_SECRET },
            chunks: () => repeatBytes(line, total),
            totalBytes: total,
            contentLength,
            timeoutMs: 90000,
          }),
        ),
      );
      const r = probed.result;
      figure(9, `${name}: ${r.status || r.error} after ${r.ms.toFixed(0)} ms with ${mb(r.sentBytes / 1024)} sent, RSS +${mb(growthKb)}, slowest admin GET ${probed.worstMs.toFixed(0)} ms`);
      assert.equal(r.status, 413, `answer ${r.status || r.error} ${r.text}`);
      assert.ok(r.sentBytes <= 64 * MIB, `${mb(r.sentBytes / 1024)} sent before the answer`);
      assert.ok(growthKb <= MAX_GROWTH_KB, `RSS grew by ${mb(growthKb)}`);
      assert.ok(probed.worstMs <= MAX_LATENCY_MS, `the admin API took ${probed.worstMs.toFixed(0)} ms`);
    });
  }

  it('11,000 events in one 2 MB array: 413, no event emitted', async () => {
    const eventsBefore = s.taps('event').length;
    const array = `[${Array.from({ length: 11000 }, (_, i) => adsJson(i)).join(',')}]\n`;
    const { result: probed, growthKb } = await measureMemory(s.nr, () => withLatencyProbe(s, () => s.post(array, { timeoutMs: 30000 })));
    await sleep(1000);
    const emitted = s.taps('event').length - eventsBefore;
    const r = probed.result;
    figure(9, `11,000 events (${mb(array.length / 1024)}): ${r.status || r.error} after ${r.ms.toFixed(0)} ms, ${emitted} events emitted, RSS +${mb(growthKb)}, slowest admin GET ${probed.worstMs.toFixed(0)} ms`);
    assert.equal(r.status, 413, `answer ${r.status || r.error} ${r.text.slice(0, 200)}`);
    assert.equal(emitted, 0, 'events were emitted');
  });
});
