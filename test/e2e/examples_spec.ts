// All four example flows deployed together on a real Node-RED against the simulators: they start without errors,
// together use every non-config node type of the package, the inject nodes of the manual example block and release,
// a CEF syslog datagram to the UDP example blocks its source, and in "Ask a person before blocking" a held block
// becomes a question to a chat webhook whose answer, posted back with the decision secret, blocks it.
import assert = require('node:assert/strict');
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { AMBIGUOUS_SOURCE, SOURCE_USERS, startAppliances, type Appliances } from '../../demo/appliances';
import { exampleNames, readExample, type FlowNode } from '../../demo/examples';
import { cefEvents, jsonEvents } from '../../demo/sample-events';
import { startWebhookReceiver, type WebhookReceiver } from '../../demo/webhook-receiver';
import { waitFor } from './support/main-example';
import { NodeRed } from './support/node-red';
import { PALETTE_CATEGORY } from './support/package-info';

const FLOW_NODE_TYPES = ['flowmon-ads-event', 'flowmon-loadmaster-acl', 'flowmon-cryptospike-user', 'flowmon-mitigation-ttl', 'flowmon-decision'];

async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((ok) => socket.bind(0, '127.0.0.1', ok));
  const { port } = socket.address();
  await new Promise<void>((ok) => socket.close(ok));
  return port;
}

describe('example flows (real Node-RED, simulators)', function () {
  this.timeout(90000);
  let appliances: Appliances;
  let nr: NodeRed;
  let udpPort: number;
  let webhook: WebhookReceiver;
  const decisionSecret = randomBytes(18).toString('base64url');
  const all = new Map<string, FlowNode>();

  before(async () => {
    appliances = await startAppliances({ blockTtl: '10m' });
    webhook = await startWebhookReceiver();
    nr = await NodeRed.start({
      env: { ...appliances.env, DECISION_WEBHOOK_URL: webhook.url, DECISION_SECRET: decisionSecret },
    });
    udpPort = await freeUdpPort();
    for (const name of exampleNames()) {
      for (const node of readExample(name)) {
        // Config nodes are shared between the examples (same id, same content), as an import would reuse them.
        if (all.has(node.id)) assert.deepEqual(node, all.get(node.id), `${name}: ${node.id} differs from the other examples`);
        all.set(node.id, node.type === 'udp in' ? { ...node, port: String(udpPort) } : node);
      }
    }
    const from = nr.log.length;
    await nr.deployFlows([...all.values()]);
    await nr.waitForLog(/Started flows/, 15000, from);
  });

  after(async () => {
    await nr?.dispose();
    await appliances?.close();
    await webhook?.close();
  });

  it('are the four documented flows, each a tab with its nodes, using only core nodes and this package', () => {
    assert.deepEqual(exampleNames(), [
      'ADS syslog (CEF) over UDP',
      'ADS to LoadMaster and CryptoSpike',
      'Ask a person before blocking',
      'Manual block and release',
    ]);
    const core = new Set([
      'tab', 'comment', 'http in', 'http response', 'http request', 'debug', 'catch', 'inject', 'udp in', 'switch', 'change', 'function',
    ]);
    for (const name of exampleNames()) {
      const nodes = readExample(name);
      assert.equal(nodes.filter((n) => n.type === 'tab').length, 1, name);
      for (const n of nodes) assert.ok(core.has(n.type) || n.type.startsWith('flowmon-'), `${name}: ${n.type}`);
    }
    const used = new Set([...all.values()].map((n) => n.type));
    for (const type of FLOW_NODE_TYPES) assert.ok(used.has(type), `${type} (palette "${PALETTE_CATEGORY}") appears in an example`);
  });

  it('start without errors or configuration warnings', () => {
    const problems = nr.log.split('\n').filter((l) => /\[(error|warn)\]/.test(l) && !/Projects disabled|Encrypted credentials not found/.test(l));
    assert.deepEqual(problems, []);
  });

  it('manual example: the inject nodes block an address and release it again', async () => {
    const inject = async (id: string): Promise<void> => {
      const res = await nr.request('POST', `/inject/${id}`);
      assert.equal(res.status, 200, `inject ${id}`);
    };
    const listed = (): boolean => appliances.loadMaster.state.lists.block.some((e) => e.addr === '192.0.2.50/32');
    await inject('f2a0000000000102');
    await waitFor('192.0.2.50 blocked', () => (listed() ? true : undefined));
    const entry = await waitFor('an entry with the 1 h TTL of msg.ttl', async () =>
      (await nr.getJson<Array<{ target: string; state: string; ttlSeconds: number }>>('/flowmon-response/blocks')).find(
        (e) => e.target === '192.0.2.50/32' && e.state === 'active',
      ),
    );
    assert.equal(entry.ttlSeconds, 3600);
    await inject('f2a0000000000104');
    await waitFor('192.0.2.50 released', () => (listed() ? undefined : true));
    await waitFor('the entry marked released', async () =>
      (await nr.getJson<Array<{ target: string; state: string }>>('/flowmon-response/blocks')).every(
        (e) => e.target !== '192.0.2.50/32' || e.state === 'released',
      ) || undefined,
    );

    const blocked = (): boolean => appliances.cryptoSpike.state.blockedUsers().some((u) => u.username === 'jdoe');
    await inject('f2a0000000000202');
    await waitFor('jdoe blocked', () => (blocked() ? true : undefined));
    await inject('f2a0000000000204');
    await waitFor('jdoe unblocked', () => (blocked() ? undefined : true));
  });

  it('UDP example: a CEF syslog datagram blocks its source on the LoadMaster', async () => {
    const socket = createSocket('udp4');
    await new Promise<void>((ok, fail) => socket.send(cefEvents(), udpPort, '127.0.0.1', (err) => (err ? fail(err) : ok())));
    socket.close();
    await waitFor('203.0.113.21 blocked', () =>
      appliances.loadMaster.state.lists.block.some((e) => e.addr === '203.0.113.21/32') ? true : undefined,
    );
  });

  it('ask example: a held block becomes a question to the chat webhook; the answer with the secret blocks it', async () => {
    const ask = `${nr.baseUrl}/flowmon/ads-ask`;
    const post = (url: string, body: string, headers: Record<string, string>) =>
      fetch(url, { method: 'POST', headers: { 'Content-Type': 'text/plain', ...headers }, body });
    // The JSON batch has the ambiguous source (two users): CryptoSpike holds it for a person to pick the user.
    const receipt = await post(ask, jsonEvents(), { 'X-ADS-Secret': appliances.env.ADS_SHARED_SECRET });
    assert.equal(receipt.status, 202);
    const question = await waitFor('the question about the ambiguous source', () =>
      webhook.questions.find((q) => q.target === AMBIGUOUS_SOURCE),
    );
    const users = SOURCE_USERS[AMBIGUOUS_SOURCE];
    assert.deepEqual(question.candidates?.map((c) => c.userId).sort(), users.map((u) => u.userId).sort());
    assert.match(question.text, new RegExp(`^Block ${AMBIGUOUS_SOURCE.replace(/\./g, '\\.')} \\(ambiguous: `));
    for (const u of users) assert.ok(question.text.includes(u.userId), question.text);
    assert.match(question.decideBy, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/);
    assert.equal(question.onTimeout, 'discard');
    assert.equal(question.event?.method, 'DOS');
    assert.deepEqual(question.approve.body, { id: question.id, action: 'approve' });
    assert.match(question.approve.url, /\/flowmon\/decision$/);
    assert.ok(!JSON.stringify(webhook.questions).includes(decisionSecret), 'the question carries no secret');
    assert.ok(!JSON.stringify(webhook.questions).includes(appliances.env.ADS_SHARED_SECRET), 'nor the ADS secret');

    const decision = `${nr.baseUrl}/flowmon/decision`;
    const chosen = users[1];
    const answer = (secret: string | null, body: unknown) =>
      fetch(decision, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...(secret === null ? {} : { 'X-Decision-Secret': secret }) },
        body: JSON.stringify(body),
      });
    const approve = { ...question.approve.body, userId: chosen.userId };
    const refused = [await answer(null, approve), await answer('wrong', approve), await answer(decisionSecret.slice(1), approve)];
    assert.deepEqual(refused.map((r) => r.status), [401, 401, 401]);
    assert.equal((await nr.getJson<Array<{ id: string; state: string }>>('/flowmon-response/blocks')).find((e) => e.id === question.id)?.state, 'held');
    const ok = await answer(decisionSecret, approve);
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { id: question.id, status: 'approved' });
    await waitFor(`${chosen.username} blocked`, () =>
      appliances.cryptoSpike.state.blockedUsers().some((u) => u.userId === chosen.userId) ? true : undefined,
    );
    assert.ok(!appliances.cryptoSpike.state.blockedUsers().some((u) => u.userId === users[0].userId), 'only the chosen user');
    const again = await answer(decisionSecret, question.discard.body);
    assert.equal(again.status, 409);
    assert.equal(((await again.json()) as { status: string }).status, 'not-held');
    const unknown = await answer(decisionSecret, { id: 'AAAAAAAAAAAAAAAA', action: 'discard' });
    assert.equal(unknown.status, 404);
    const bad = await answer(decisionSecret, { id: question.id, action: 'block' });
    assert.equal(bad.status, 400);
  });
});
