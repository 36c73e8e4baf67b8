// Scenario 5: the LoadMaster answers only after 10 s.
import assert = require('node:assert/strict');
import { body, eventLine, seedUsers, sourceAddress } from './support/events';
import { Stack, fastSettings, figures, nodeOfType, percentile, tapStatus, waitFor } from './support/stack';

const SOURCES = 60;
const QUEUE_LIMIT = 20;

describe('scenario 5: an appliance answering after 10 s', function () {
  let s: Stack;

  before(async () => {
    s = await Stack.start({
      blockTtl: '10m',
      lm: { switches: { latencyMs: 10_000 } },
      patch: (flow) => {
        fastSettings(flow);
        // 2-s timeout and no retries keep the run short; the queue limit is what is under test.
        Object.assign(nodeOfType(flow, 'flowmon-loadmaster-config'), { timeout: 2, retries: 0, outageRetry: 0, maxQueued: QUEUE_LIMIT });
        tapStatus(flow);
      },
    });
    seedUsers(s.cs, SOURCES);
  });

  after(async () => {
    await s?.close();
  });

  it('times the calls out, keeps the queue bounded and leaves CryptoSpike unaffected', async () => {
    const sent = Date.now();
    const r = await s.post(body(Array.from({ length: SOURCES }, (_, i) => eventLine(`s5-${i}`, sourceAddress(i)))));
    assert.equal(r.status, 202);
    const csMs = await waitFor(() => s.csBlocked().length === SOURCES, 15000, 'CryptoSpike blocks');
    const lmOutcomes = () => s.taps('lm-done').length + s.taps('lm-not-done').length;
    await waitFor(() => lmOutcomes() >= SOURCES, 60000, 'every LoadMaster outcome');
    const lmMs = Date.now() - sent;
    const notDone = s.taps('lm-not-done').map((t) => String(t.payload.mitigation?.reason ?? ''));
    const timedOut = notDone.filter((reason) => /unreachable|timeout/i.test(reason)).length;
    const queueFull = notDone.filter((reason) => /queue/i.test(reason)).length;
    const depths = s
      .taps('status')
      .filter((t) => t.status?.source?.type === 'flowmon-loadmaster-acl')
      .map((t) => Number(/queue (\d+)/.exec(t.status?.text ?? '')?.[1] ?? 0));
    const csLatency = s.taps('cs-acted').map((t) => t.at - sent);
    figures(
      5,
      `receipt in ${r.ms.toFixed(1)} ms; LoadMaster: ${timedOut} timed out, ${queueFull} refused as queue full, ` +
        `${s.taps('lm-done').length} done, all outcomes after ${(lmMs / 1000).toFixed(1)} s; queue depth max ${Math.max(...depths)} ` +
        `(limit ${QUEUE_LIMIT}); CryptoSpike ${s.csBlocked().length}/${SOURCES} blocked within ${csMs} ms ` +
        `(block p50 ${percentile(csLatency, 50)} ms, p99 ${percentile(csLatency, 99)} ms after the POST)`,
    );
    assert.equal(timedOut + queueFull, SOURCES);
    assert.ok(timedOut > 0 && queueFull > 0);
    // The status counts waiting and in-flight calls (4 at once), plus the one being shown.
    assert.ok(Math.max(...depths) <= QUEUE_LIMIT + 4 + 1, 'queue depth stays within the limit');
    assert.ok(csMs < 10_000, 'CryptoSpike finished before the LoadMaster could have answered even once');
    assert.equal(s.nr.running, true);
  });
});
