// Attack 1: the configuration dialogs' lookup routes (Test connection, virtual-service picker) name a deployed
// config node and point it at a URL of the caller's own, to make Node-RED send the stored key or token there.
import assert = require('node:assert/strict');
import { Recorder } from './support/recorder';
import type { UserName } from './support/secure-node-red';
import { figure, nodeOfType, sharedStack, type SecureStack } from './support/stack';

const LM_ROUTES = ['/flowmon-response/loadmaster/test', '/flowmon-response/loadmaster/virtual-services'];
const CS_ROUTE = '/flowmon-response/cryptospike/test';
const MQTT_ID = 'security-mqtt-broker';
const MQTT_PASSWORD = 'mqtt-broker-password-Xt6pQ1';

describe('attack 1: lookup routes with a deployed node id and a URL of the caller', function () {
  let s: SecureStack;
  let rec: Recorder;
  let lmId: string;
  let csId: string;

  before(async () => {
    s = await sharedStack();
    rec = await Recorder.start();
    lmId = nodeOfType(s.flow, 'flowmon-loadmaster-config').id;
    csId = nodeOfType(s.flow, 'flowmon-cryptospike-config').id;
  });

  after(async () => {
    await rec?.close();
  });

  const tls = () => ({ tlsMode: 'fingerprint', tlsFingerprint: rec.fingerprint, tlsInsecure: 'false', tlsInsecureType: 'bool' });

  /** The bodies an attacker posts: the stored secret as the editor's placeholder, or left out. */
  function lmBodies(id: string): Record<string, unknown>[] {
    return [
      { id, url: rec.url, authType: 'apikey', apiKey: '__PWRD__', ...tls() },
      { id, url: rec.url, authType: 'apikey', ...tls() },
      { id, url: rec.url, authType: 'user', user: 'admin', password: '__PWRD__', ...tls() },
    ];
  }
  function csBodies(id: string): Record<string, unknown>[] {
    return [
      { id, url: rec.url, authType: 'token', apiToken: '__PWRD__', ...tls() },
      { id, url: rec.url, ...tls() },
      { id, url: rec.url, authType: 'user', username: 'flowmon', password: '__PWRD__', ...tls() },
    ];
  }

  async function attack(user: UserName, lmTarget: string, csTarget: string): Promise<number[]> {
    const statuses: number[] = [];
    for (const route of LM_ROUTES) {
      for (const body of lmBodies(lmTarget)) statuses.push((await s.nr.request(user, 'POST', route, body)).status);
    }
    for (const body of csBodies(csTarget)) statuses.push((await s.nr.request(user, 'POST', CS_ROUTE, body)).status);
    return statuses;
  }

  // Node-RED's permission check (RED.auth.needsPermission) answers 401 to a logged-in user who lacks the
  // permission; a route of its own may answer 403. Either refuses.
  it('refuses the read-only viewer (route needs flowmon-response.write), and nothing reaches its URL', async () => {
    rec.requests.length = 0;
    const statuses = await attack('viewer', lmId, csId);
    const readable = (await s.nr.request('viewer', 'GET', '/flowmon-response/blocks')).status;
    figure(1, `viewer: answers ${[...new Set(statuses)].join('/')} for ${statuses.length} lookups (GET blocks with the same token: ${readable}); recording server saw ${rec.requests.length} requests`);
    assert.equal(readable, 200, "the viewer's token does not work for reading: the check would prove nothing");
    assert.deepEqual(statuses.filter((st) => st !== 401 && st !== 403), [], 'a lookup by the viewer was not refused');
    assert.equal(rec.requests.length, 0, `requests reached the viewer's URL:\n${rec.text()}`);
  });

  it('never sends the stored API key or token to a URL the admin changed', async () => {
    rec.requests.length = 0;
    const statuses = await attack('admin', lmId, csId);
    const leaked = [
      ['LoadMaster API key', s.lm.apiKey],
      ['CryptoSpike API token', s.cs.apiToken],
    ].filter(([, secret]) => rec.text().includes(secret));
    figure(1, `admin, changed URL: answers ${[...new Set(statuses)].join('/')}; recording server saw ${rec.requests.length} requests, stored secrets in them: ${leaked.map(([n]) => n).join(', ') || 'none'}`);
    assert.deepEqual(leaked, []);
  });

  it("refuses a foreign node's id (an mqtt-broker with a password) and never sends its credentials", async () => {
    const flows = (await s.nr.getJson<{ flows: Record<string, unknown>[] }>('admin', '/flows', { 'Node-RED-API-Version': 'v2' })).flows;
    if (!flows.some((n) => n.id === MQTT_ID)) {
      const broker = { id: MQTT_ID, type: 'mqtt-broker', name: 'foreign broker', broker: '127.0.0.1', port: '1', autoConnect: false, credentials: { user: 'mqtt-user', password: MQTT_PASSWORD } };
      await s.nr.deployFlows([...s.flow, broker]);
    }
    rec.requests.length = 0;
    const answers: Array<{ status: number; text: string }> = [];
    for (const user of ['admin', 'viewer'] as UserName[]) {
      for (const route of LM_ROUTES) {
        for (const body of lmBodies(MQTT_ID)) {
          const res = await s.nr.request(user, 'POST', route, body);
          answers.push({ status: res.status, text: await res.text() });
        }
      }
      for (const body of csBodies(MQTT_ID)) {
        const res = await s.nr.request(user, 'POST', CS_ROUTE, body);
        answers.push({ status: res.status, text: await res.text() });
      }
    }
    const sent = rec.text().includes(MQTT_PASSWORD);
    const accepted = answers.filter((a) => a.status < 400 && !/"ok"\s*:\s*false/.test(a.text));
    figure(1, `foreign node id: answers ${[...new Set(answers.map((a) => a.status))].join('/')}; recording server saw ${rec.requests.length} requests, broker password sent: ${sent ? 'yes' : 'no'}`);
    assert.equal(sent, false, 'the mqtt-broker password reached the recording server');
    assert.equal(rec.requests.length, 0, `lookups through a foreign node reached the URL:\n${rec.text()}`);
    assert.deepEqual(accepted, [], 'a lookup through a foreign node was not refused');
  });
});
