// Attack 2: `${VAR}` in the dialog fields posted to the lookup routes, to read Node-RED's environment: the value
// must appear neither in an answer nor in a request to the caller's URL.
import assert = require('node:assert/strict');
import { Recorder } from './support/recorder';
import type { UserName } from './support/secure-node-red';
import { figure, sharedStack, type SecureStack } from './support/stack';

const VARS = ['ADS_SHARED_SECRET', 'LOADMASTER_APIKEY', 'CRYPTOSPIKE_TOKEN'];

describe('attack 2: ${VAR} in the dialog fields of the lookup routes', function () {
  let s: SecureStack;
  let rec: Recorder;

  before(async () => {
    s = await sharedStack();
    rec = await Recorder.start();
  });

  after(async () => {
    await rec?.close();
  });

  function attempts(): Array<[string, Record<string, unknown>]> {
    const tls = { tlsMode: 'fingerprint', tlsFingerprint: rec.fingerprint };
    const out: Array<[string, Record<string, unknown>]> = [];
    for (const v of VARS) {
      const ref = `\${${v}}`;
      for (const route of ['/flowmon-response/loadmaster/test', '/flowmon-response/loadmaster/virtual-services']) {
        out.push([route, { url: ref, authType: 'apikey', apiKey: 'typed-key-1', tlsMode: 'insecure' }]);
        out.push([route, { url: `${rec.url}/${ref}`, authType: 'apikey', apiKey: ref, ...tls }]);
        out.push([route, { url: rec.url, authType: 'user', user: ref, password: ref, ...tls }]);
        out.push([route, { url: rec.url, authType: 'apikey', apiKey: 'typed-key-2', tlsMode: 'fingerprint', tlsFingerprint: ref }]);
        out.push([route, { url: rec.url, authType: 'apikey', apiKey: 'typed-key-3', tlsMode: 'ca', tlsCa: ref }]);
      }
      const cs = '/flowmon-response/cryptospike/test';
      out.push([cs, { url: ref, apiToken: 'typed-token-1', tlsMode: 'insecure' }]);
      out.push([cs, { url: `${rec.url}/${ref}`, authType: 'token', apiToken: ref, ...tls }]);
      out.push([cs, { url: rec.url, authType: 'user', username: ref, password: ref, ...tls }]);
      out.push([cs, { url: rec.url, apiToken: 'typed-token-2', tlsMode: 'fingerprint', tlsFingerprint: ref }]);
    }
    return out;
  }

  for (const user of ['viewer', 'admin'] as UserName[]) {
    it(`never gives the ${user} an environment variable's value, in an answer or at its URL`, async () => {
      rec.requests.length = 0;
      const answers: string[] = [];
      const statuses = new Set<number>();
      for (const [route, body] of attempts()) {
        const res = await s.nr.request(user, 'POST', route, body);
        statuses.add(res.status);
        answers.push(`${route} ${res.status} ${await res.text()}`);
      }
      const values = VARS.map((v) => [v, s.env[v]] as const);
      const inAnswers = values.filter(([, value]) => answers.some((a) => a.includes(value))).map(([v]) => v);
      const atUrl = values.filter(([, value]) => rec.text().includes(value)).map(([v]) => v);
      figure(2, `${user}: ${answers.length} posts answered ${[...statuses].join('/')}; values in answers: ${inAnswers.join(', ') || 'none'}; at the recording server (${rec.requests.length} requests): ${atUrl.join(', ') || 'none'}`);
      assert.deepEqual(inAnswers, [], 'a variable value came back in an answer');
      assert.deepEqual(atUrl, [], 'a variable value reached the recording server');
    });
  }
});
