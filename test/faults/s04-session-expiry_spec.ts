// Scenario 4: the CryptoSpike session token expires in the middle of a burst.
import assert = require('node:assert/strict');
import { body, eventLine, seedUsers, sourceAddress } from './support/events';
import { Stack, fastSettings, figures, pool, waitFor } from './support/stack';
import { assertNoSecrets } from './support/secrets';

const SOURCES = 100;

describe('scenario 4: CryptoSpike session token expiring in the middle of a burst', function () {
  let s: Stack;

  before(async () => {
    s = await Stack.start({ patch: fastSettings, csAuth: 'user', blockTtl: '10m' });
    seedUsers(s.cs, SOURCES);
  });

  after(async () => {
    await s?.close();
  });

  it('blocks every user with exactly one re-login and no failed block', async () => {
    let expiredAt = -1;
    await pool(Array.from({ length: SOURCES }, (_, i) => i), 4, async (i) => {
      if (i === 40) {
        await waitFor(() => s.csBlocked().length >= 30, 10000, '30 users blocked');
        s.cs.expireSessions();
        expiredAt = s.csBlocked().length;
      }
      const r = await s.post(body([eventLine(`s4-${i}`, sourceAddress(i))]));
      assert.equal(r.status, 202);
    });
    await waitFor(() => s.taps('cs-acted').length + s.taps('cs-not-acted').length >= SOURCES, 30000, 'every CryptoSpike outcome');
    const failed = s.taps('cs-not-acted');
    const unauthorized = s.cs.calls.log.filter((c) => c.status === 401).length;
    figures(
      4,
      `session expired after ${expiredAt} blocks; ${s.csBlocked().length}/${SOURCES} users blocked, ${failed.length} not acted ` +
        `(${failed.filter((t) => t.payload.mitigation?.result === 'failed').length} failed); ${unauthorized} calls answered 401; ` +
        `${s.cs.logins} logins in all (${s.cs.logins - 1} re-login)`,
    );
    assert.equal(failed.length, 0);
    assert.equal(s.csBlocked().length, SOURCES);
    assert.equal(s.cs.logins, 2, 'the first login and exactly one re-login');
    await assertNoSecrets(s, { 'CryptoSpike password': s.cs.password, 'LoadMaster API key': s.lm.apiKey }, 4);
  });
});
