// Scenario 2: the LoadMaster is unreachable for 30 s in the middle of a burst.
import assert = require('node:assert/strict');
import { body, eventLine, seedUsers, sourceAddress } from './support/events';
import { Stack, countBy, fastSettings, figures, percentile, sleep, waitFor } from './support/stack';

const SOURCES = 200;
const OUTAGE_MS = 30_000;
const GAP_MS = 100;

describe('scenario 2: LoadMaster unreachable for 30 s in the middle of a burst', function () {
  let s: Stack;

  before(async () => {
    s = await Stack.start({ patch: fastSettings, blockTtl: '10m' });
    seedUsers(s.cs, SOURCES);
  });

  after(async () => {
    await s?.close();
  });

  it('applies every block once after it returns, and HTTP-in keeps answering', async () => {
    const latencies: number[] = [];
    const outageLatencies: number[] = [];
    let outageStarted = 0;
    let outageEnded = 0;
    for (let i = 0; i < SOURCES; i++) {
      if (i === 40) {
        s.lm.switches.outage = true;
        outageStarted = Date.now();
        setTimeout(() => {
          s.lm.switches.outage = false;
          outageEnded = Date.now();
        }, OUTAGE_MS);
      }
      const r = await s.post(body([eventLine(`s2-${i}`, sourceAddress(i))]));
      assert.equal(r.status, 202, `receipt of event ${i}: ${r.status} ${r.error ?? ''}`);
      latencies.push(r.ms);
      if (s.lm.switches.outage) outageLatencies.push(r.ms);
      await sleep(GAP_MS);
    }
    const all = Array.from({ length: SOURCES }, (_, i) => sourceAddress(i));
    const missing = () => all.filter((a) => !s.lmBlocked().includes(a));
    let doneMs = -1;
    try {
      doneMs = await waitFor(() => missing().length === 0, Math.max(0, outageStarted + OUTAGE_MS - Date.now()) + 60000, 'every block');
    } catch {
      // reported below
    }
    const adds = s.lm.calls.entries.filter((c) => c.verb === 'add' && c.status === 200);
    const twice = [...countBy(adds, (c) => c.addr)].filter(([, n]) => n > 1).map(([a]) => a);
    const notDone = s.taps('lm-not-done');
    const lost = missing();
    figures(
      2,
      `receipt latency p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms ` +
        `(during the outage p50 ${percentile(outageLatencies, 50).toFixed(1)} ms, p99 ${percentile(outageLatencies, 99).toFixed(1)} ms, ` +
        `${outageLatencies.length} receipts); ${SOURCES - lost.length}/${SOURCES} blocks applied, ${twice.length} applied twice, ` +
        `${lost.length} lost, ${notDone.length} reported not done; last block ${outageEnded ? `${doneMs} ms after the wait began` : 'n/a'}; ` +
        `CryptoSpike blocked ${s.csBlocked().length}/${SOURCES} meanwhile`,
    );
    if (notDone.length > 0) figures(2, `first not-done reason: ${String(notDone[0].payload.mitigation?.reason)}`);
    assert.deepEqual(lost, [], 'blocks lost');
    assert.deepEqual(twice, [], 'blocks applied twice');
    assert.ok(percentile(outageLatencies, 99) < 1000, 'receipts stay fast during the outage');
  });
});
