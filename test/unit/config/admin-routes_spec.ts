// The admin routes of both configuration nodes ("Test connection", the virtual-service picker) against a real
// Node-RED runtime (test helper) whose RED.auth.needsPermission checks a scope the way adminAuth does.
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NodeAPI } from 'node-red';
import helper from 'node-red-node-test-helper';
import type { NextFunction, Request, Response } from 'express';
import sinon from 'sinon';
import lmConfigNode = require('../../../nodes/flowmon-loadmaster-config/flowmon-loadmaster-config');
import csConfigNode = require('../../../nodes/flowmon-cryptospike-config/flowmon-cryptospike-config');
import { closeRegistries } from '../../../lib/registry';
import { LoadMasterSimulator, startLoadMasterSimulator } from '../../../simulators/loadmaster';
import { CryptoSpikeSimulator, startCryptoSpikeSimulator } from '../../../simulators/cryptospike';
import { startHttpsServer } from '../../support/https-server';
import { nodeRedPath } from '../../support/node-red-path';

helper.init(nodeRedPath);

// Node-RED's own scope check (editor-api), as adminAuth applies it to req.authInfo.scope.
const { hasPermission } = require('@node-red/editor-api/lib/auth/permissions') as {
  hasPermission(scope: string | string[], permission: string): boolean;
};

const BROKER_PASSWORD = 'mqtt-broker-Passw0rd';
const CS_USER = 'svc-cs-7731';
const LM_ROUTES = ['loadmaster/test', 'loadmaster/virtual-services'];

/** Every permission a route asked for, in registration order. */
const asked: string[] = [];

/** The node module with RED.auth.needsPermission checking the scope in the `x-test-scope` header (default "*"). */
function withScopedAuth(module: (RED: NodeAPI) => void): (RED: NodeAPI) => void {
  return (RED) => {
    (RED as { auth: unknown }).auth = {
      needsPermission(permission: string) {
        asked.push(permission);
        return (req: Request, res: Response, next: NextFunction) =>
          hasPermission(req.get('x-test-scope') ?? '*', permission) ? next() : res.status(401).end();
      },
    };
    module(RED);
  };
}

/** Another package's node with credentials (an MQTT broker, say). */
function otherBrokerNode(RED: NodeAPI): void {
  RED.nodes.registerType(
    'other-broker',
    function (this: never, def: never) {
      RED.nodes.createNode(this, def);
    },
    { credentials: { user: { type: 'text' }, password: { type: 'password' } } } as never,
  );
}

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

describe('admin routes of the configuration nodes', () => {
  let lm: LoadMasterSimulator;
  let cs: CryptoSpikeSimulator;
  /** Somewhere else: an HTTPS server with the same certificate, recording everything it is sent. */
  let elsewhere: { url: string; seen: Seen[]; reply: (req: IncomingMessage, res: ServerResponse) => void; close(): Promise<void> };
  const env: Record<string, string> = {};

  before(async () => {
    lm = await startLoadMasterSimulator();
    cs = await startCryptoSpikeSimulator({ username: CS_USER });
    const seen: Seen[] = [];
    const server = await startHttpsServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
        elsewhere.reply(req, res);
      });
    });
    elsewhere = { url: server.url, seen, reply: okReply, close: server.close };
  });
  after(async () => {
    await lm.close();
    await cs.close();
    await elsewhere.close();
  });
  beforeEach((done) => {
    lm.reset();
    cs.calls.reset();
    elsewhere.seen.length = 0;
    elsewhere.reply = okReply;
    asked.length = 0;
    helper.startServer(done);
  });
  afterEach(async () => {
    sinon.restore();
    for (const name of Object.keys(env)) delete process.env[name];
    await helper.unload();
    await closeRegistries();
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
  });

  function okReply(_req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok', code: 200, AclControl: { Blocklist: [] } }));
  }

  function setEnv(values: Record<string, string>): void {
    for (const [name, value] of Object.entries(values)) {
      env[name] = value;
      process.env[name] = value;
    }
  }

  /** Deploys a LoadMaster config `lm`, a CryptoSpike config `cs` and another package's node `mqtt`. */
  async function deploy(options: { lm?: object; cs?: object; lmCreds?: object; csCreds?: object } = {}): Promise<void> {
    const flow = [
      { id: 'lm', type: 'flowmon-loadmaster-config', url: lm.url, authType: 'apikey', tlsMode: 'fingerprint', tlsFingerprint: lm.fingerprint, ...options.lm },
      { id: 'cs', type: 'flowmon-cryptospike-config', url: cs.url, authType: '', tlsMode: 'fingerprint', tlsFingerprint: cs.fingerprint, ...options.cs },
      { id: 'mqtt', type: 'other-broker' },
    ];
    await helper.load([withScopedAuth(lmConfigNode), withScopedAuth(csConfigNode), otherBrokerNode], flow, {
      lm: options.lmCreds ?? { apiKey: lm.apiKey },
      cs: options.csCreds ?? { apiToken: cs.apiToken },
      mqtt: { user: 'broker', password: BROKER_PASSWORD },
    });
  }

  /** What the LoadMaster dialog posts for the deployed node, with `extra` changed. */
  const lmDialog = (extra: object = {}) => ({
    id: 'lm',
    url: lm.url,
    authType: 'apikey',
    tlsMode: 'fingerprint',
    tlsCa: '',
    tlsFingerprint: lm.fingerprint,
    tlsInsecure: 'false',
    timeout: '10',
    apiKey: '__PWRD__',
    user: '',
    password: '',
    ...extra,
  });
  const csDialog = (extra: object = {}) => ({
    id: 'cs',
    url: cs.url,
    authType: '',
    tlsMode: 'fingerprint',
    tlsCa: '',
    tlsFingerprint: cs.fingerprint,
    tlsInsecure: 'false',
    timeout: '15',
    apiToken: '__PWRD__',
    username: '',
    password: '__PWRD__',
    ...extra,
  });

  function post(route: string, body: unknown, scope = '*') {
    return helper.request().post(`/flowmon-response/${route}`).set('x-test-scope', scope).send(body as object);
  }

  function assertNothingElsewhere(): void {
    assert.deepEqual(elsewhere.seen, [], 'nothing was sent to the other URL');
  }

  function assertNotIn(reply: { body: unknown }, values: string[]): void {
    const text = JSON.stringify(reply.body);
    for (const value of values) assert.ok(!text.includes(value), `the answer ${text} carries "${value}"`);
  }

  describe('permission', () => {
    it('refuses a read-only editor user on every route that reaches an appliance, and lets an admin through', async () => {
      await deploy();
      for (const route of LM_ROUTES) {
        const refused = await post(route, lmDialog(), 'read');
        assert.equal(refused.status, 401, route);
      }
      assert.equal((await post('cryptospike/test', csDialog(), 'read')).status, 401);
      assert.equal(lm.calls.entries.length + cs.calls.log.length, 0, 'no appliance was called');
      assert.deepEqual([...new Set(asked)], ['flowmon-response.write']);

      const admin = await post('loadmaster/test', lmDialog(), '*');
      assert.equal(admin.body.ok, true, admin.body.message);
      const writer = await post('cryptospike/test', csDialog(), 'flowmon-response.write');
      assert.equal(writer.body.ok, true, writer.body.message);
    });
  });

  describe('which node an id may name', () => {
    it("refuses another package's node and never uses its credentials", async () => {
      await deploy();
      const asUser = { id: 'mqtt', url: elsewhere.url, authType: 'user', tlsMode: 'fingerprint', tlsFingerprint: lm.fingerprint, user: '', password: '__PWRD__' };
      for (const route of LM_ROUTES) {
        const reply = await post(route, asUser);
        assert.equal(reply.status, 400, route);
        assert.match(reply.body.message, /the id does not name a flowmon-loadmaster-config node/);
      }
      const cross = await post('cryptospike/test', { ...csDialog(), id: 'mqtt', url: elsewhere.url, authType: 'user', username: 'broker' });
      assert.equal(cross.status, 400);
      assert.match(cross.body.message, /does not name a flowmon-cryptospike-config node/);
      assertNothingElsewhere();
    });

    it("refuses the other appliance's configuration node", async () => {
      await deploy();
      const lmOnCs = await post('cryptospike/test', { ...csDialog(), id: 'lm', url: elsewhere.url });
      assert.equal(lmOnCs.status, 400);
      const csOnLm = await post('loadmaster/test', { ...lmDialog(), id: 'cs', url: elsewhere.url });
      assert.equal(csOnLm.status, 400);
      assertNothingElsewhere();
    });

    it('answers 404 for an id nothing deployed has, unless the dialog brings its own credentials', async () => {
      await deploy();
      const unknown = await post('loadmaster/test', lmDialog({ id: 'not-deployed' }));
      assert.equal(unknown.status, 404);
      assert.match(unknown.body.message, /no deployed LoadMaster configuration has this id: deploy it, or enter the API key/);
      const fresh = await post('loadmaster/test', lmDialog({ id: 'not-deployed', apiKey: lm.apiKey }));
      assert.equal(fresh.body.ok, true, fresh.body.message);
      for (const body of [[], { id: 5 }, { id: ['lm'] }]) {
        assert.equal((await post('loadmaster/test', body)).status, 400, JSON.stringify(body));
      }
    });
  });

  describe('where a stored credential may go', () => {
    it('sends nothing when the URL differs and the dialog left the API key as the placeholder or empty', async () => {
      await deploy();
      for (const apiKey of ['__PWRD__', '', undefined]) {
        for (const route of LM_ROUTES) {
          const reply = await post(route, lmDialog({ url: elsewhere.url, apiKey }));
          assert.equal(reply.status, 200);
          assert.deepEqual(reply.body, { ok: false, message: 'enter the API key: the URL or TLS settings differ from the deployed node' });
        }
      }
      assertNothingElsewhere();
      assert.equal(lm.calls.entries.length, 0);
    });

    it('sends nothing when any TLS field or the sign-in type differs', async () => {
      await deploy({ lmCreds: { apiKey: lm.apiKey, user: 'bal', password: 'secret' } });
      const changes = [
        { tlsMode: 'insecure' },
        { tlsMode: 'auto', tlsFingerprint: '' , tlsInsecure: 'true' },
        { tlsFingerprint: 'ab'.repeat(32) },
        { tlsCa: '-----BEGIN CERTIFICATE-----' },
        { tlsInsecure: 'true' },
        { authType: 'user', user: 'bal', password: '__PWRD__' },
      ];
      for (const change of changes) {
        const reply = await post('loadmaster/test', lmDialog(change));
        assert.equal(reply.body.ok, false, JSON.stringify(change));
        assert.match(reply.body.message, /^enter the (API key|user name and password): the URL or TLS settings differ/, JSON.stringify(change));
      }
      assert.equal(lm.calls.entries.length, 0, 'the LoadMaster was not called');
    });

    it('sends a CryptoSpike token or password only to its deployed URL', async () => {
      await deploy({ cs: { authType: 'user' }, csCreds: { username: CS_USER, password: cs.password } });
      const moved = await post('cryptospike/test', csDialog({ authType: 'user', url: elsewhere.url, username: CS_USER }));
      assert.deepEqual(moved.body, {
        ok: false,
        message: 'enter the user name and password: the URL or TLS settings differ from the deployed node',
      });
      assertNothingElsewhere();
      const same = await post('cryptospike/test', csDialog({ authType: 'user', username: CS_USER }));
      assert.equal(same.body.ok, true, same.body.message);
      assert.equal(cs.calls.count('POST', '/auth/login'), 1);
    });

    it('uses credentials typed in the dialog literally, and only those, when the URL differs', async () => {
      await deploy();
      const reply = await post('loadmaster/test', lmDialog({ url: elsewhere.url, apiKey: 'typed-key' }));
      assert.equal(reply.body.ok, true, reply.body.message);
      assert.equal(elsewhere.seen.length, 1);
      assert.match(elsewhere.seen[0].body, /"apikey":"typed-key"/);
      assert.ok(!JSON.stringify(elsewhere.seen).includes(lm.apiKey), 'the deployed key stayed home');
    });

    it("uses the deployed node's own resolved settings and credentials while the fields are as deployed", async () => {
      setEnv({ FLOWMON_T_LM_URL: lm.url, FLOWMON_T_LM_PIN: lm.fingerprint, FLOWMON_T_LM_INSECURE: 'false' });
      await deploy({ lm: { url: '${FLOWMON_T_LM_URL}', tlsMode: 'auto', tlsFingerprint: '${FLOWMON_T_LM_PIN}', tlsInsecure: '${FLOWMON_T_LM_INSECURE}' } });
      const dialog = lmDialog({ url: '${FLOWMON_T_LM_URL}', tlsMode: 'auto', tlsFingerprint: '${FLOWMON_T_LM_PIN}', tlsInsecure: '${FLOWMON_T_LM_INSECURE}' });
      // The variable now points elsewhere: a request must not resolve it again.
      setEnv({ FLOWMON_T_LM_URL: elsewhere.url });
      const test = await post('loadmaster/test', dialog);
      assert.equal(test.body.ok, true, test.body.message);
      assert.match(test.body.message, /^connected/);
      const services = await post('loadmaster/virtual-services', dialog);
      assert.equal(services.body.length, 3);
      assert.equal(lm.calls.entries.length, 2, 'both lookups reached the deployed LoadMaster (which checks the key)');
      assertNothingElsewhere();
      assertNotIn(test, [lm.url, lm.apiKey, lm.fingerprint]);

      const typed = await post('loadmaster/test', { ...dialog, apiKey: 'typed-wrong-key' });
      assert.equal(typed.body.ok, false);
      assert.equal(typed.body.message, 'LoadMaster: API key rejected (HTTP 401)');
    });

    it('treats an older flow\'s "env" accept-any switch like the ${NAME} the dialog now shows', async () => {
      await deploy({ lm: { tlsMode: 'auto', tlsInsecure: 'FLOWMON_T_UNSET_INSECURE', tlsInsecureType: 'env' } });
      const reply = await post('loadmaster/test', lmDialog({ tlsMode: 'auto', tlsInsecure: '${FLOWMON_T_UNSET_INSECURE}' }));
      assert.equal(reply.body.ok, true, reply.body.message);
    });

    it('tests the example-style CryptoSpike configuration (all ${VAR}) with its deployed values', async () => {
      setEnv({ FLOWMON_T_CS_URL: cs.url, FLOWMON_T_CS_PIN: cs.fingerprint, FLOWMON_T_CS_USER: CS_USER, FLOWMON_T_CS_PASS: cs.password });
      const fields = { url: '${FLOWMON_T_CS_URL}', authType: '', tlsMode: 'auto', tlsFingerprint: '${FLOWMON_T_CS_PIN}', tlsInsecure: '${FLOWMON_T_CS_INSECURE}' };
      await deploy({ cs: fields, csCreds: { apiToken: '${FLOWMON_T_CS_TOKEN}', username: '${FLOWMON_T_CS_USER}', password: '${FLOWMON_T_CS_PASS}' } });
      // The editor shows text credentials as stored, and a placeholder for passwords.
      const reply = await post('cryptospike/test', csDialog({ ...fields, apiToken: '__PWRD__', username: '${FLOWMON_T_CS_USER}', password: '__PWRD__' }));
      assert.deepEqual(reply.body, { ok: true, message: 'connected: the user list is readable (user sign-in)' });
      assertNotIn(reply, [cs.url, CS_USER, cs.password]);
    });
  });

  describe('${VAR} in a request', () => {
    it('is never substituted, and the value of the variable is never answered', async () => {
      setEnv({ FLOWMON_T_SECRET: 'not a url: s3cr3t-value', FLOWMON_T_ELSEWHERE: elsewhere.url, FLOWMON_T_KEY: lm.apiKey });
      await deploy();
      const url = await post('loadmaster/test', lmDialog({ url: '${FLOWMON_T_SECRET}', apiKey: 'typed-key' }));
      assert.deepEqual(url.body, { ok: false, message: 'the URL field is not a valid URL (https://host[:port])' });
      const redirected = await post('loadmaster/test', lmDialog({ url: '${FLOWMON_T_ELSEWHERE}', apiKey: 'typed-key' }));
      assert.deepEqual(redirected.body, { ok: false, message: 'the URL field is not a valid URL (https://host[:port])' });
      const pin = await post('loadmaster/test', lmDialog({ tlsFingerprint: '${FLOWMON_T_SECRET}', apiKey: 'typed-key' }));
      assert.deepEqual(pin.body, { ok: false, message: 'the fingerprint field is not a SHA-256 fingerprint (64 hex digits)' });
      const cs1 = await post('cryptospike/test', csDialog({ url: '${FLOWMON_T_SECRET}', apiToken: 'typed-token' }));
      assert.deepEqual(cs1.body, { ok: false, message: 'the URL field is not a valid URL (https://host[:port])' });
      // A credential written as ${VAR} is no typed credential: nothing is resolved, nothing sent.
      const key = await post('loadmaster/test', lmDialog({ url: elsewhere.url, apiKey: '${FLOWMON_T_KEY}' }));
      assert.match(key.body.message, /^enter the API key/);
      for (const reply of [url, redirected, pin, cs1, key]) assertNotIn(reply, ['s3cr3t', elsewhere.url, lm.apiKey]);
      assertNothingElsewhere();
      assert.equal(lm.calls.entries.length, 0);
    });

    it('names the field, never its value, in setting errors of a typed dialog', async () => {
      await deploy();
      const reply = await post('loadmaster/test', lmDialog({ url: 'ftp://typed-host.example', apiKey: 'typed-key' }));
      assert.deepEqual(reply.body, { ok: false, message: 'the URL field must start with https://' });
      const timeout = await post('cryptospike/test', csDialog({ timeout: 'soon-9931', apiToken: 'typed-token' }));
      assert.equal(timeout.body.ok, false);
      assertNotIn(timeout, ['soon-9931']);
    });
  });

  describe('failures', () => {
    it('answer a refused connection as a category, without the host or port from the environment', async () => {
      const closed = await startHttpsServer(() => undefined);
      await closed.close();
      setEnv({ FLOWMON_T_LM_URL: closed.url });
      await deploy({ lm: { url: '${FLOWMON_T_LM_URL}' } });
      const reply = await post('loadmaster/test', lmDialog({ url: '${FLOWMON_T_LM_URL}' }));
      assert.deepEqual(reply.body, { ok: false, message: 'LoadMaster: connection refused' });
      assertNotIn(reply, [closed.url, new URL(closed.url).port, lm.apiKey]);
    });

    it('never echo the key or an environment value an appliance puts in its reply', async () => {
      setEnv({ FLOWMON_T_LM_URL: elsewhere.url });
      elsewhere.reply = (req, res) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: 'fail', message: `no ${lm.apiKey} at ${req.headers.host} for ${elsewhere.url}` }));
      };
      await deploy({ lm: { url: '${FLOWMON_T_LM_URL}' } });
      const reply = await post('loadmaster/test', lmDialog({ url: '${FLOWMON_T_LM_URL}' }));
      assert.deepEqual(reply.body, { ok: false, message: 'LoadMaster: internal error on the LoadMaster (HTTP 500)' });
      assertNotIn(reply, [lm.apiKey, elsewhere.url, new URL(elsewhere.url).host]);
    });

    it('answer a fingerprint mismatch without the pinned value from the environment', async () => {
      const pinned = 'ab'.repeat(32);
      setEnv({ FLOWMON_T_LM_PIN: pinned });
      await deploy({ lm: { tlsFingerprint: '${FLOWMON_T_LM_PIN}' } });
      const reply = await post('loadmaster/test', lmDialog({ tlsFingerprint: '${FLOWMON_T_LM_PIN}' }));
      assert.equal(reply.body.ok, false);
      assert.match(reply.body.message, /^LoadMaster: certificate fingerprint mismatch/);
      assertNotIn(reply, [pinned, lm.fingerprint, lm.url]);
    });

    it('answer a refused CryptoSpike login without the user name from the environment', async () => {
      setEnv({ FLOWMON_T_CS_USER: CS_USER, FLOWMON_T_CS_URL: cs.url });
      await deploy({ cs: { authType: 'user', url: '${FLOWMON_T_CS_URL}' }, csCreds: { username: '${FLOWMON_T_CS_USER}', password: 'wrong-Secret-55' } });
      const reply = await post('cryptospike/test', csDialog({ authType: 'user', url: '${FLOWMON_T_CS_URL}', username: '${FLOWMON_T_CS_USER}' }));
      assert.deepEqual(reply.body, { ok: false, message: 'CryptoSpike refused the login (HTTP 401): check the user name and password' });
      assertNotIn(reply, [CS_USER, 'wrong-Secret-55', cs.url]);
    });

    it('answer a CryptoSpike error body that echoes the token as its HTTP status only', async () => {
      await deploy();
      cs.switches.errors.push({ status: 500, body: `echo x-auth-token: ${cs.apiToken} from ${cs.url}`, times: 5 });
      const reply = await post('cryptospike/test', csDialog());
      assert.deepEqual(reply.body, { ok: false, message: 'CryptoSpike: HTTP 500' });
    });

    it('answer a deployed configuration that does not read with a text that names the field only', async () => {
      setEnv({ FLOWMON_T_LM_URL: 'ftp://hidden-host.example' });
      await deploy({ lm: { url: '${FLOWMON_T_LM_URL}' } });
      const reply = await post('loadmaster/test', lmDialog({ url: '${FLOWMON_T_LM_URL}' }));
      assert.deepEqual(reply.body, {
        ok: false,
        message: 'the deployed LoadMaster configuration is not usable: the URL field must start with https://',
      });
    });
  });

  describe('accept any certificate', () => {
    it('shows "TLS not verified" in the status of both configuration nodes, and warns without the URL', async () => {
      setEnv({ FLOWMON_T_LM_URL: lm.url, FLOWMON_T_INSECURE: 'true' });
      await deploy({
        lm: { url: '${FLOWMON_T_LM_URL}', tlsMode: 'auto', tlsFingerprint: '', tlsInsecure: '${FLOWMON_T_INSECURE}' },
        cs: { tlsMode: 'insecure' },
      });
      for (const id of ['lm', 'cs']) {
        const node = helper.getNode(id) as unknown as { status: sinon.SinonSpy; warn: sinon.SinonSpy };
        // The helper spies on the Node prototype: keep the calls made on this node.
        const on = (spy: sinon.SinonSpy) => spy.getCalls().filter((call) => call.thisValue === node).map((call) => call.args[0]);
        assert.deepEqual(on(node.status), [{ fill: 'yellow', shape: 'ring', text: 'TLS not verified' }], id);
        const warnings = on(node.warn).map(String);
        assert.ok(warnings.some((w) => /TLS certificate checks are OFF/.test(w)), id);
        assert.ok(!warnings.join().includes(lm.url), id);
      }
      const reply = await post('loadmaster/test', lmDialog({ tlsMode: 'auto', tlsFingerprint: '', tlsInsecure: '${FLOWMON_T_INSECURE}', url: '${FLOWMON_T_LM_URL}' }));
      assert.equal(reply.body.ok, true, reply.body.message);
    });
  });
});
