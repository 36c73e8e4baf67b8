// Scenario 8: a storm of 500 sources against the example's storm caps.
import assert = require('node:assert/strict');
import { body, eventLine, seedUsers, sourceAddress } from './support/events';
import { Stack, figures, nodeOfType, pool, waitFor } from './support/stack';

const SOURCES = 500;

describe('scenario 8: a 500-source storm', function () {
  let s: Stack;
  let lmCap = 0;
  let csCap = 0;

  before(async () => {
    s = await Stack.start({
      blockTtl: '10m',
      patch: (flow) => {
        // Pacing lifted so the storm arrives within the cap's minute; the storm caps stay as the example sets them.
        Object.assign(nodeOfType(flow, 'flowmon-loadmaster-config'), { rateCalls: 200, rateWindow: 1 });
        lmCap = Number(nodeOfType(flow, 'flowmon-loadmaster-config').stormCap);
        csCap = Number(nodeOfType(flow, 'flowmon-cryptospike-config').stormCap);
      },
    });
    seedUsers(s.cs, SOURCES);
  });

  after(async () => {
    await s?.close();
  });

  it('applies new blocks up to the configured rate, holds the rest for a decision, and keeps running', async () => {
    const started = Date.now();
    const posts = Array.from({ length: SOURCES / 50 }, (_, p) => Array.from({ length: 50 }, (_, k) => p * 50 + k));
    const receipts = await pool(posts, 4, (numbers) => s.post(body(numbers.map((n) => eventLine(`s8-${n}`, sourceAddress(n))))));
    assert.ok(receipts.every((r) => r.status === 202));
    const outcomes = (prefix: string) => s.taps(`${prefix}-done`).length + s.taps(`${prefix}-not-done`).length;
    await waitFor(
      () => outcomes('lm') >= SOURCES && s.taps('cs-acted').length + s.taps('cs-not-acted').length >= SOURCES,
      50000,
      'every outcome',
    );
    const elapsed = Date.now() - started;
    const held = (tag: string) => s.taps(tag).filter((t) => t.payload.mitigation?.result === 'held');
    const lmHeld = held('lm-done');
    const csHeld = held('cs-acted');
    figures(
      8,
      `${SOURCES} sources in ${(elapsed / 1000).toFixed(1)} s: LoadMaster ${s.lm.calls.count('add')} adds (cap ${lmCap}/min), ` +
        `${lmHeld.length} held ("${String(lmHeld[0]?.payload.mitigation?.reason)}"); CryptoSpike ${s.csBlocked().length} ` +
        `blocked (cap ${csCap}/min), ${csHeld.length} held; Node-RED running: ${s.nr.running}`,
    );
    assert.ok(elapsed < 60_000, 'the storm fits in one cap window');
    assert.equal(s.lm.calls.count('add'), lmCap);
    assert.equal(s.lmBlocked().length, lmCap);
    assert.equal(lmHeld.length, SOURCES - lmCap);
    assert.ok(lmHeld.every((t) => (t.payload.mitigation as { hold?: { reason?: string } }).hold?.reason === 'storm'));
    assert.equal(s.csBlocked().length, csCap);
    assert.equal(csHeld.length, SOURCES - csCap);
    assert.equal(s.nr.running, true);
    assert.equal((await s.nr.request('GET', '/settings')).status, 200);
  });
});
