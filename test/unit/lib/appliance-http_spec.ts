import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { ApplianceHttp } from '../../../lib/http/appliance-http';
import { ApplianceConnectionError, ApplianceTlsError } from '../../../lib/http/errors';
import { resolveTlsSettings } from '../../../lib/http/tls';
import { simulatorCa, simulatorCert, startHttpsServer } from '../../support/https-server';

describe('lib/http ApplianceHttp', () => {
  let server: Awaited<ReturnType<typeof startHttpsServer>>;
  const fingerprint = new X509Certificate(simulatorCert()).fingerprint256;
  const clients: ApplianceHttp[] = [];
  const client = (tls: Parameters<typeof resolveTlsSettings>[0], baseUrl = server.url) => {
    const http = new ApplianceHttp({ baseUrl, tls: resolveTlsSettings(tls), requestTimeoutMs: 2_000, connectTimeoutMs: 2_000 });
    clients.push(http);
    return http;
  };

  before(async () => {
    server = await startHttpsServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => {
        if (req.url?.startsWith('/slow')) return; // never answers
        res.writeHead(req.url?.startsWith('/teapot') ? 418 : 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ method: req.method, url: req.url, body: body ? JSON.parse(body) : null, ct: req.headers['content-type'] }));
      });
    });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server.close();
  });

  it('refuses the self-signed simulator under the default system CAs', async () => {
    await assert.rejects(client({}).request('GET', '/'), ApplianceTlsError);
  });

  it('accepts the appliance with its CA certificate, and sends JSON bodies and queries', async () => {
    const reply = await client({ tlsMode: 'ca', tlsCa: simulatorCa() }).request('POST', '/accessv2', {
      body: { cmd: 'aclcontrol' },
      query: { page: 0, size: 50 },
    });
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.json, { method: 'POST', url: '/accessv2?page=0&size=50', body: { cmd: 'aclcontrol' }, ct: 'application/json' });
  });

  it('accepts a pinned fingerprint in any common spelling and refuses a wrong one', async () => {
    for (const spelling of [fingerprint, fingerprint.replace(/:/g, '').toLowerCase(), `sha256 Fingerprint=${fingerprint}`]) {
      const reply = await client({ tlsFingerprint: spelling }).request('GET', '/');
      assert.equal(reply.status, 200);
    }
    const wrong = 'AA'.repeat(32);
    await assert.rejects(client({ tlsMode: 'fingerprint', tlsFingerprint: wrong }).request('GET', '/'), (err: Error) => {
      assert.ok(err instanceof ApplianceTlsError);
      assert.match(err.message, /fingerprint mismatch/);
      return true;
    });
  });

  it('accepts any certificate only in insecure mode', async () => {
    const reply = await client({ tlsInsecure: 'true' }).request('GET', '/');
    assert.equal(reply.status, 200);
  });

  it('returns HTTP error statuses with their body instead of throwing', async () => {
    const reply = await client({ tlsMode: 'insecure' }).request('GET', '/teapot');
    assert.equal(reply.status, 418);
    assert.equal((reply.json as { url: string }).url, '/teapot');
  });

  it('keeps a base URL path prefix', async () => {
    const reply = await client({ tlsMode: 'insecure' }, server.url + '/lm/').request('GET', '/accessv2');
    assert.equal((reply.json as { url: string }).url, '/lm/accessv2');
  });

  it('reports refused connections and timeouts as retryable connection errors', async () => {
    const closed = await startHttpsServer(() => undefined);
    const url = closed.url;
    await closed.close();
    await assert.rejects(client({ tlsMode: 'insecure' }, url).request('GET', '/'), ApplianceConnectionError);
    const slow = new ApplianceHttp({ baseUrl: server.url, tls: { mode: 'insecure' }, requestTimeoutMs: 200 });
    clients.push(slow);
    await assert.rejects(slow.request('GET', '/slow'), (err: Error) => err instanceof ApplianceConnectionError && /unreachable/.test(err.message));
  });

  it('names neither the host nor the port in transport errors (the URL may come from an environment variable)', async () => {
    const closed = await startHttpsServer(() => undefined);
    const url = new URL(closed.url);
    await closed.close();
    const refused = await client({ tlsMode: 'insecure' }, closed.url).request('GET', '/').catch((err: Error) => err);
    assert.ok(refused instanceof ApplianceConnectionError);
    assert.equal(refused.message, 'the appliance is unreachable: connection refused');
    const untrusted = await client({}).request('GET', '/').catch((err: Error) => err);
    assert.ok(untrusted instanceof ApplianceTlsError);
    for (const err of [refused, untrusted]) {
      assert.ok(!err.message.includes(url.hostname) && !err.message.includes(url.port), err.message);
    }
  });

  it('validates TLS settings with clear messages', () => {
    assert.throws(() => resolveTlsSettings({ tlsMode: 'fingerprint', tlsFingerprint: 'abc' }), /64 hex digits/);
    assert.throws(() => resolveTlsSettings({ tlsMode: 'ca' }), /needs the CA certificate/);
    assert.throws(() => resolveTlsSettings({ tlsMode: 'ca', tlsCa: 'nope' }), /not valid PEM/);
    assert.deepEqual(resolveTlsSettings({ tlsMode: '', tlsInsecure: 'false' }), { mode: 'system' });
  });
});
