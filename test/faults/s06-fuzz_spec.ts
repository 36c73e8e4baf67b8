// Scenario 6: 10,000 fuzzed lines to the HTTP endpoint, mixed with good lines in the same bodies.
import assert = require('node:assert/strict');
import { eventLine, sourceAddress } from './support/events';
import { deepJson, FuzzLine, fuzzLines, VICTIM_USERS } from './support/fuzz';
import { Stack, countBy, fastSettings, figures, pool, waitFor } from './support/stack';

const FUZZED = 10_000;
const PER_BODY = 40;
const GOOD_SOURCES = 20;
const SEED = 20250310;
/** The limit of an event id (lib/ads/bounds.ts); a longer one never reaches the registry. */
const MAX_EVENT_ID = 128;

function bodyOf(lines: Array<string | Buffer>): Buffer {
  return Buffer.concat(lines.flatMap((l) => [Buffer.isBuffer(l) ? l : Buffer.from(l), Buffer.from('\n')]));
}

describe('scenario 6: 10,000 fuzzed inputs to the HTTP endpoint', function () {
  let s: Stack;

  before(async () => {
    s = await Stack.start({ patch: fastSettings, blockTtl: '10m' });
    // Users only an injected suser= names: the parser must never hand them to CryptoSpike.
    for (const user of VICTIM_USERS) s.cs.addUser(user);
  });

  after(async () => {
    await s?.close();
  });

  it('never crashes, rejects every bad line with a reason and processes the good lines of the same bodies', async () => {
    const from = s.nr.log.length;
    const fuzz = fuzzLines(FUZZED, SEED, (n) => sourceAddress(n % GOOD_SOURCES));
    const bodies: Array<{ lines: FuzzLine[]; good: string[]; goodIds: string[] }> = [];
    for (let i = 0; i < fuzz.length; i += PER_BODY) {
      const b = bodies.length;
      const goodIds = [0, 1].map((k) => `good-${b}-${k}`);
      bodies.push({
        lines: fuzz.slice(i, i + PER_BODY),
        good: goodIds.map((id, k) => eventLine(id, sourceAddress((2 * b + k) % GOOD_SOURCES))),
        goodIds,
      });
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
    const goodIds = bodies.flatMap((b) => b.goodIds);
    const blockedIds = () => new Set(s.taps('lm-done', from).map((t) => String(t.payload.id)));
    await waitFor(() => goodIds.every((id) => blockedIds().has(id)), 60000, 'every good line to be blocked').catch(() => undefined);
    // CryptoSpike has handled every accepted event (acted or not) before the users are looked at.
    const accepted = s.taps('event', from).length;
    const csDone = () => s.taps('cs-acted', from).length + s.taps('cs-not-acted', from).length;
    await waitFor(() => csDone() >= accepted, 60000, 'CryptoSpike to handle every event').catch(() => undefined);

    const goodSources = [...new Set(bodies.flatMap((_, b) => [0, 1].map((k) => sourceAddress((2 * b + k) % GOOD_SOURCES))))];
    const lmListed = s.lm.state.lists.block.map((e) => e.addr.replace(/\/(32|128)$/, ''));
    const registry = await s.blocks();
    const injectedAddresses = [...new Set(fuzz.flatMap((l) => (l.injected?.address ? [l.injected.address] : [])))];
    const injectedUsers = new Set(fuzz.flatMap((l) => (l.injected?.user ? [l.injected.user] : [])));
    const victimIds = VICTIM_USERS.filter((u) => injectedUsers.has(u.username)).map((u) => u.userId);
    const addressesBlocked = injectedAddresses.filter((a) => lmListed.includes(a) || registry.some((e) => e.target === a));
    const usersBlocked = victimIds.filter((id) => s.csBlocked().includes(id));
    const longIds = registry.flatMap((e) => e.eventIds).filter((id) => id.length > MAX_EVENT_ID);
    const missing = goodIds.filter((id) => !blockedIds().has(id));

    const kinds = [...countBy(fuzz, (l) => l.kind)].map(([k, n]) => `${k} ${n}`).join(', ');
    figures(
      6,
      `${FUZZED} fuzzed lines (${kinds}) in ${bodies.length} bodies with ${2 * bodies.length} good lines: ` +
        `${rejects.length}/${expectedRejects} rejected (${withoutReason} without a reason), ${mismatches.length} receipts off, ` +
        `${goodIds.length - missing.length}/${goodIds.length} good lines blocked, ` +
        `${goodSources.filter((a) => lmListed.includes(a)).length}/${goodSources.length} good sources listed; ` +
        `injected into CEF msg text: ${addressesBlocked.length}/${injectedAddresses.length} addresses and ` +
        `${usersBlocked.length}/${victimIds.length} users blocked; registry ${s.registryFile().length} bytes, ` +
        `${longIds.length} event ids over ${MAX_EVENT_ID}; ` +
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
    assert.deepEqual(missing, []);
    assert.deepEqual(goodSources.filter((a) => !lmListed.includes(a)), []);
    assert.ok(injectedAddresses.length > 0 && victimIds.length > 0, 'the fuzz injects addresses and users');
    assert.deepEqual(addressesBlocked, []);
    assert.deepEqual(usersBlocked, []);
    assert.deepEqual(longIds, []);
  });

  it('answers 10,000-deep JSON bodies (as JSON and as text) without accepting anything, and keeps serving', async () => {
    const outcomes: string[] = [];
    for (const shape of ['array', 'object'] as const) {
      for (const contentType of ['application/json', 'text/plain']) {
        const r = await s.post(deepJson(shape), { contentType });
        outcomes.push(`${shape} as ${contentType}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
        assert.ok([400, 413].includes(r.status), outcomes.at(-1));
        assert.ok(!r.body?.accepted, outcomes.at(-1));
      }
    }
    figures(6, `deep JSON bodies: ${outcomes.join('; ')}`);
    assert.equal(s.nr.running, true);
    const good = await s.post(`${eventLine('after-deep', sourceAddress(GOOD_SOURCES + 1))}\n`);
    assert.deepEqual([good.status, good.body?.accepted], [202, 1]);
    await waitFor(() => s.lmBlocked().includes(sourceAddress(GOOD_SOURCES + 1)), 30000, 'the line after the deep bodies to be blocked');
  });
});
