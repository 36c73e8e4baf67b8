// Scenario 9: simulate mode on both appliances.
import assert = require('node:assert/strict');
import { body, eventLine, seedUsers, sourceAddress } from './support/events';
import { Stack, fastSettings, figures, nodeOfType, waitFor } from './support/stack';

const SOURCES = 50;

describe('scenario 9: simulate mode on both appliances', function () {
  let s: Stack;

  before(async () => {
    s = await Stack.start({
      blockTtl: '4s',
      patch: (flow) => {
        fastSettings(flow);
        nodeOfType(flow, 'flowmon-loadmaster-config').simulate = 'true';
        nodeOfType(flow, 'flowmon-cryptospike-config').simulate = 'true';
      },
    });
    seedUsers(s.cs, SOURCES);
  });

  after(async () => {
    await s?.close();
  });

  it('runs the whole flow, arms and releases simulated entries, and writes nothing to either appliance', async () => {
    const r = await s.post(body(Array.from({ length: SOURCES }, (_, i) => eventLine(`s9-${i}`, sourceAddress(i)))));
    assert.equal(r.status, 202);
    await waitFor(() => s.taps('lm-done').length >= SOURCES && s.taps('cs-acted').length >= SOURCES, 20000, 'every outcome');
    const results = (tag: string) => new Set(s.taps(tag).map((t) => String(t.payload.mitigation?.result)));
    await waitFor(async () => (await s.blocks()).filter((e) => e.state === 'released').length === 2 * SOURCES, 20000, 'release');
    const entries = await s.blocks();
    figures(
      9,
      `${SOURCES} events: LoadMaster results ${[...results('lm-done')].join('/')}, CryptoSpike results ` +
        `${[...results('cs-acted')].join('/')}; ${entries.filter((e) => e.simulated).length} simulated registry entries, all released ` +
        `after the TTL; write calls: LoadMaster ${s.lm.calls.writes}, CryptoSpike ${s.cs.calls.writes} ` +
        `(CryptoSpike lookups ${s.cs.calls.count('POST', 'file-activity')})`,
    );
    assert.deepEqual([...results('lm-done')], ['simulated']);
    assert.deepEqual([...results('cs-acted')], ['simulated']);
    assert.equal(s.taps('lm-not-done').length + s.taps('cs-not-acted').length, 0);
    assert.ok(entries.every((e) => e.simulated));
    assert.equal(s.lm.calls.writes, 0);
    assert.equal(s.cs.calls.writes, 0);
  });
});
