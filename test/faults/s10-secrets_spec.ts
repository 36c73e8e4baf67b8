// Scenario 10: secrets never appear in logs, messages, node status, the sidebar or the registry file.
import assert = require('node:assert/strict');
import { body, eventLine, seedUsers, sourceAddress } from './support/events';
import { assertNoSecrets } from './support/secrets';
import { SHARED_SECRET, Stack, fastSettings, figures, tapStatus, waitFor } from './support/stack';

describe('scenario 10: secrets', function () {
  let s: Stack;

  before(async () => {
    s = await Stack.start({ blockTtl: '3s', patch: (flow) => (fastSettings(flow), tapStatus(flow)) });
    seedUsers(s.cs, 10);
  });

  after(async () => {
    await s?.close();
  });

  it('keeps the API key, the API token and the shared secret out of everything readable, failures included', async () => {
    assert.equal((await s.post(body([eventLine('s10-0', sourceAddress(0))]))).status, 202);
    await waitFor(() => s.lmBlocked().length === 1 && s.csBlocked().length === 1, 10000, 'the first blocks');
    const wrong = await s.post(body([eventLine('s10-x', sourceAddress(9))]), { secret: `${SHARED_SECRET}-wrong` });
    // Failures on both appliances: errors are where secrets leak (request echoes, URLs, headers).
    s.lm.switches.apiEnabled = false;
    s.cs.switches.errors.push({ status: 500, body: `echo x-auth-token: ${s.cs.apiToken}`, times: 20 });
    assert.equal((await s.post(body([1, 2, 3].map((i) => eventLine(`s10-${i}`, sourceAddress(i)))))).status, 202);
    await waitFor(() => s.taps('lm-not-done').length > 0, 30000, 'the LoadMaster failures');
    s.lm.switches.apiEnabled = true;
    await waitFor(() => s.taps('cs-not-acted').length > 0, 30000, 'the CryptoSpike failures');
    await waitFor(async () => (await s.blocks()).some((e) => e.state === 'released'), 20000, 'a release');
    figures(10, `wrong shared secret answered ${wrong.status}; ${s.taps().length} tapped messages and statuses`);
    assert.equal(wrong.status, 401, 'the example checks the shared secret');
    await assertNoSecrets(s, { 'LoadMaster API key': s.lm.apiKey, 'CryptoSpike API token': s.cs.apiToken, 'ADS shared secret': SHARED_SECRET }, 10);
  });
});
