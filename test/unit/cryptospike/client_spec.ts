import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CryptoSpikeClient, CryptoSpikeClientOptions } from '../../../lib/cryptospike/client';
import { lifetimeMs } from '../../../lib/cryptospike/session';
import { ApplianceTlsError } from '../../../lib/http/errors';
import { CryptoSpikeSimulator, startCryptoSpikeSimulator } from '../../../simulators/cryptospike';

const SID = 'S-1-5-21-1000-1104';
const NO_RETRY_DELAY = { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 };
const nowSec = () => Math.floor(Date.now() / 1000);

describe('CryptoSpike client', () => {
  let sim: CryptoSpikeSimulator;
  const clients: CryptoSpikeClient[] = [];

  function client(overrides: Partial<CryptoSpikeClientOptions> = {}): CryptoSpikeClient {
    const c = new CryptoSpikeClient({
      url: sim.url,
      tls: { mode: 'fingerprint', fingerprint: sim.fingerprint },
      auth: { username: sim.username, password: sim.password },
      retry: NO_RETRY_DELAY,
      ...overrides,
    });
    clients.push(c);
    return c;
  }

  beforeEach(async () => {
    sim = await startCryptoSpikeSimulator();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await sim.close();
  });

  it('sends the API token as x-auth-token and never logs in', async () => {
    sim.seedActivity('10.0.0.5', SID, 'jdoe', 3);
    const c = client({ auth: { apiToken: sim.apiToken } });
    const page = await c.fileActivity('10.0.0.5', nowSec() - 1800, nowSec());
    assert.equal(page.items.length, 3);
    assert.equal(page.items[0].userId, SID);
    assert.equal(sim.logins, 0);
    assert.deepEqual(sim.calls.log.map((r) => r.auth), ['api-token']);
  });

  it('a rejected API token is a clear error without retry, and the token is not in it', async () => {
    const c = client({ auth: { apiToken: 'xapp-wrong-token-value' } });
    await assert.rejects(c.searchUsers('jdoe'), (err: Error) => {
      assert.match(err.message, /API token rejected \(expired or mistyped\)/);
      assert.doesNotMatch(err.message, /xapp-wrong/);
      return true;
    });
    assert.equal(sim.calls.log.length, 1);
  });

  it('concurrent requests share one login', async () => {
    const c = client();
    await Promise.all(Array.from({ length: 20 }, () => c.searchUsers('x')));
    assert.equal(sim.logins, 1);
    assert.equal(sim.calls.count('GET', '/audit/users'), 20);
  });

  it('renews the token before it expires during a burst (no 401 on the way)', async () => {
    sim.switches.tokenLifetimeSeconds = 0.5;
    sim.switches.latencyMs = 20;
    const c = client({ concurrency: 2 });
    const started = Date.now();
    while (Date.now() - started < 1300) await Promise.all([c.searchUsers('a'), c.searchUsers('b')]);
    assert.ok(sim.logins >= 3, `expected renewals, got ${sim.logins} logins`);
    assert.equal(sim.calls.log.filter((r) => r.status === 401).length, 0);
  });

  it('a 401 mid-burst causes exactly one shared re-login and each request is retried once', async () => {
    const c = client();
    await c.searchUsers('warm-up');
    sim.expireSessions();
    await Promise.all(Array.from({ length: 8 }, () => c.searchUsers('x')));
    assert.equal(sim.logins, 2);
    assert.equal(sim.calls.log.filter((r) => r.status === 401).length, 8);
    assert.equal(sim.calls.count('GET', '/audit/users'), 1 + 16);
  });

  it('refused login names the user but never the password', async () => {
    const c = client({ auth: { username: sim.username, password: 'Sup3r-Secret!' } });
    await assert.rejects(c.searchUsers('x'), (err: Error) => {
      assert.match(err.message, /refused the login of user "flowmon"/);
      assert.doesNotMatch(err.message, /Sup3r-Secret/);
      return true;
    });
  });

  it('reads every file-activity page, not only the first 50 rows', async () => {
    sim.seedActivity('10.0.0.5', SID, 'jdoe', 120);
    sim.seedActivity('10.0.0.6', 'S-1-5-21-1000-2000', 'other', 5);
    const small = client({ pageSize: 50 });
    const page = await small.fileActivity('10.0.0.5', nowSec() - 1800, nowSec());
    assert.equal(page.items.length, 120);
    assert.equal(page.pages, 3);
    assert.deepEqual(
      sim.calls.log.filter((r) => r.path.endsWith('/table')).map((r) => r.query.page),
      ['0', '1', '2'],
    );
    assert.ok(page.items.every((i) => i.userId === SID));
  });

  it('keeps paging when the server caps the page size below the one asked for', async () => {
    sim.switches.maxPageSize = 50;
    sim.seedActivity('10.0.0.5', SID, 'jdoe', 130);
    const page = await client({ pageSize: 500 }).fileActivity('10.0.0.5', nowSec() - 1800, nowSec());
    assert.equal(page.items.length, 130);
    assert.equal(page.pages, 3);
  });

  it('retries a 5xx and then succeeds; a 4xx fails at once with the status', async () => {
    const c = client();
    sim.switches.errors.push({ pathIncludes: '/audit/users', status: 503, times: 2 });
    assert.deepEqual(await c.searchUsers('nobody'), []);
    sim.switches.errors.push({ pathIncludes: '/users/access', status: 403, body: 'Forbidden', times: 5 });
    await assert.rejects(c.setAccess(SID, 'WINDOWS', 'BLOCKED', 'x'), /HTTP 403 Forbidden/);
    assert.equal(sim.calls.count('POST', '/users/access'), 1);
  });

  it('logs out on close', async () => {
    const c = client();
    await c.searchUsers('x');
    await c.close();
    assert.equal(sim.calls.count('GET', '/Server/auth/logout'), 1);
  });

  describe('TLS', () => {
    const ca = readFileSync(join(__dirname, '..', '..', '..', 'simulators', 'tls', 'ca.crt'), 'utf8');

    it('accepts the pinned fingerprint and the right CA', async () => {
      await client({ tls: { mode: 'fingerprint', fingerprint: sim.fingerprint } }).searchUsers('x');
      await client({ tls: { mode: 'ca', ca } }).searchUsers('x');
    });

    it('refuses a certificate with another fingerprint, and one the system CAs do not trust', async () => {
      const wrong = 'ab'.repeat(32);
      await assert.rejects(client({ tls: { mode: 'fingerprint', fingerprint: wrong } }).searchUsers('x'), ApplianceTlsError);
      await assert.rejects(client({ tls: { mode: 'system' } }).searchUsers('x'), ApplianceTlsError);
      assert.equal(sim.calls.log.length, 0);
    });
  });

  describe('login lifetime rule', () => {
    it('reads seconds up to 1,000,000, milliseconds above, and 5 minutes when absent or invalid', () => {
      assert.equal(lifetimeMs(3600), 3_600_000);
      assert.equal(lifetimeMs('900'), 900_000);
      assert.equal(lifetimeMs(3_600_000), 3_600_000);
      assert.equal(lifetimeMs(undefined), 300_000);
      assert.equal(lifetimeMs(-5), 300_000);
      assert.equal(lifetimeMs('soon'), 300_000);
    });

    it('works with a reply in milliseconds and with no lifetime at all', async () => {
      sim.switches.lifetimeReportedAs = 'milliseconds';
      const c = client();
      await c.searchUsers('a');
      await c.searchUsers('b');
      sim.switches.lifetimeReportedAs = 'absent';
      const d = client();
      await d.searchUsers('c');
      await d.searchUsers('d');
      assert.equal(sim.logins, 2);
    });
  });
});
