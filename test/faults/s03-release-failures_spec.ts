// Scenario 3: the release fails 10 times in a row on both appliances, then succeeds.
import assert = require('node:assert/strict');
import { body, eventLine, seedUsers, sourceAddress, userOf } from './support/events';
import { Stack, fastSettings, figures, sleep, waitFor } from './support/stack';

const FAILURES = 10;

describe('scenario 3: release failing 10 times in a row, then succeeding', function () {
  let s: Stack;

  before(async () => {
    s = await Stack.start({ patch: fastSettings, blockTtl: '3s' });
    seedUsers(s.cs, 1);
  });

  after(async () => {
    await s?.close();
  });

  it('releases on both appliances, the entries leave the active list, no call after success', async () => {
    const address = sourceAddress(0);
    const { userId } = userOf(0);
    assert.equal((await s.post(body([eventLine('s3-1', address)]))).status, 202);
    await waitFor(() => s.lmBlocked().includes(address) && s.csBlocked().includes(userId), 10000, 'both blocks');
    const failure = { httpStatus: 500, body: { code: 500, status: 'fail', message: 'simulated internal error' } };
    s.lm.switches.nextReplies.push(...Array.from({ length: FAILURES }, () => failure));
    s.cs.switches.errors.push({ pathIncludes: '/users/access', status: 500, times: FAILURES });
    const started = Date.now();
    const releasedMs = await waitFor(
      () => !s.lmBlocked().includes(address) && !s.csBlocked().includes(userId),
      90000,
      'both releases',
    );
    const lmDels = s.lm.calls.entries.filter((c) => c.verb === 'del');
    const csPosts = () => s.cs.calls.log.filter((c) => c.method === 'POST' && c.path.includes('/users/access'));
    const csUnblocks = csPosts().length - 1;
    const lmAfter = lmDels.length;
    const csAfter = csUnblocks;
    await waitFor(async () => (await s.blocks()).every((e) => e.state === 'released'), 10000, 'the entries to be released');
    await sleep(8000);
    const entries = await s.blocks();
    const failedEvents = s.taps().filter((t) => /^ttl/.test(t.tag) && (t.payload as { event?: string }).event === 'release-failed');
    figures(
      3,
      `${FAILURES} failed release calls on each appliance (LoadMaster del calls ${lmDels.filter((c) => c.status !== 200).length} failed, ` +
        `CryptoSpike unblocks ${csPosts().filter((c) => c.status !== 200).length} failed); ${failedEvents.length} release-failed ` +
        `lifecycle messages; both released ${(releasedMs / 1000).toFixed(1)} s after the failures were armed (${Date.now() - started} ms ago); ` +
        `calls after success: LoadMaster ${s.lm.calls.entries.filter((c) => c.verb === 'del').length - lmAfter}, ` +
        `CryptoSpike ${csPosts().length - 1 - csAfter}; registry states ${entries.map((e) => e.state).join(', ')}`,
    );
    assert.equal(lmDels.filter((c) => c.status !== 200).length, FAILURES);
    assert.equal(lmDels.filter((c) => c.status === 200).length, 1);
    assert.equal(csPosts().filter((c) => c.status !== 200).length, FAILURES);
    assert.equal(s.lm.calls.entries.filter((c) => c.verb === 'del').length, lmAfter, 'no LoadMaster call after the release');
    assert.equal(csPosts().length - 1, csAfter, 'no CryptoSpike call after the release');
    assert.ok(entries.length === 2 && entries.every((e) => e.state === 'released'));
    assert.ok(failedEvents.length >= 2, 'each appliance reported at least one failed release');
  });
});
