// Scenario 1: Node-RED killed with SIGKILL during a 1,000-event burst from 200 sources, then restarted.
import assert = require('node:assert/strict');
import { body, eventLine, seedUsers, sourceAddress, userOf } from './support/events';
import { Stack, fastSettings, figures, pool, waitFor } from './support/stack';

const EVENTS = 1000;
const SOURCES = 200;
const PER_POST = 10;
const TTL_S = 30;

describe('scenario 1: SIGKILL during a 1,000-event burst (200 sources), then restart', function () {
  let s: Stack;

  before(async () => {
    s = await Stack.start({ patch: fastSettings, blockTtl: `${TTL_S}s` });
    seedUsers(s.cs, SOURCES);
  });

  after(async () => {
    await s?.close();
  });

  it('processes every event with a 2xx receipt, registers every block with an expiry, and empties both appliances after expiry', async () => {
    const posts = Array.from({ length: EVENTS / PER_POST }, (_, p) =>
      Array.from({ length: PER_POST }, (_, k) => p * PER_POST + k),
    );
    let receipts = 0;
    let killing: Promise<void> | undefined;
    const killAfter = Math.floor(posts.length * 0.4);
    const results = await pool(posts, 4, async (numbers) => {
      if (killing) return { status: 0, ms: 0, body: null, error: 'not sent: Node-RED was killed' };
      const r = await s.post(body(numbers.map((n) => eventLine(`s1-${n}`, sourceAddress(n % SOURCES)))));
      if (r.status >= 200 && r.status < 300 && ++receipts >= killAfter && !killing) killing = s.nr.kill9();
      return r;
    });
    await killing;
    const acceptedEvents = posts.filter((_, i) => results[i].status >= 200 && results[i].status < 300).flat();
    const unanswered = results.filter((r) => r.status === 0 && !r.error?.startsWith('not sent')).length;
    const notSent = results.filter((r) => r.error?.startsWith('not sent')).length;
    const sources = [...new Set(acceptedEvents.map((n) => n % SOURCES))];
    const blockedBeforeRestart = s.lmBlocked().length;

    const restartedAt = Date.now();
    await s.nr.restart();
    await s.waitUntilServing();
    const missing = () => ({
      lm: sources.filter((i) => !s.lmBlocked().includes(sourceAddress(i))).map(sourceAddress),
      cs: sources.filter((i) => !s.csBlocked().includes(userOf(i).userId)).map((i) => userOf(i).userId),
    });
    let settleMs = -1;
    try {
      settleMs = await waitFor(() => missing().lm.length + missing().cs.length === 0, 20000, 'every accepted source to be blocked');
    } catch {
      // reported below with the exact losses
    }
    const lost = missing();
    const entries = await s.blocks();
    const now = Date.now();
    const entryFor = (target: string) => entries.find((e) => e.target === target && e.state === 'active' && e.expiresAt > now);
    const lmWithout = s.lmBlocked().filter((a) => !entryFor(`${a}/32`));
    const csWithout = s.csBlocked().filter((u) => !entryFor(u));
    figures(
      1,
      `${EVENTS} events in ${posts.length} POSTs, killed after ${receipts} 2xx receipts (${acceptedEvents.length} events ` +
        `from ${sources.length} sources accepted, ${unanswered} POSTs cut off by the kill, ${notSent} not sent); ${blockedBeforeRestart} addresses on the ` +
        `LoadMaster before restart; after restart all accepted sources blocked in ${settleMs} ms ` +
        `(restart at +${Date.now() - restartedAt} ms); lost: ${lost.lm.length} LoadMaster, ${lost.cs.length} CryptoSpike; ` +
        `${entries.length} registry entries, blocks without an entry: ${lmWithout.length} LoadMaster, ${csWithout.length} CryptoSpike`,
    );
    assert.ok(acceptedEvents.length > 0 && unanswered + notSent > 0, 'the kill must fall inside the burst');
    assert.deepEqual(lost, { lm: [], cs: [] }, 'accepted events whose block never reached the appliance');
    assert.deepEqual({ lmWithout, csWithout }, { lmWithout: [], csWithout: [] }, 'appliance blocks the registry does not hold');

    const emptyMs = await waitFor(
      () => s.lmBlocked().length === 0 && s.csBlocked().length === 0,
      (TTL_S + 40) * 1000,
      'both appliances to be empty after expiry',
    );
    const after = await s.blocks();
    figures(
      1,
      `both simulators empty ${emptyMs} ms after the check (TTL ${TTL_S} s); registry: ` +
        `${after.filter((e) => e.state === 'released').length} released, ${after.filter((e) => e.state !== 'released').length} not released`,
    );
    assert.equal(after.filter((e) => e.state === 'active' || e.state === 'release-pending').length, 0);
  });
});
