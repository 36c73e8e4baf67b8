// The main example flow on a real Node-RED against both appliance simulators: events delivered by the forwarder
// script in the three ADS formats, receipts, blocks on both appliances, survival across a restart, release from the
// sidebar API and expiry after a short BLOCK_TTL.
import assert = require('node:assert/strict');
import { rmSync } from 'node:fs';
import { AMBIGUOUS_SOURCE, SOURCE_USERS } from '../../demo/appliances';
import { cefEvents, jsonEvents, tsvEvents } from '../../demo/sample-events';
import { forwarderFor, type Forwarder } from './support/forwarder';
import { startMainExample, waitFor, type BlockEntry, type MainExample } from './support/main-example';

const BLOCK_TTL_SECONDS = 25;
const EXPECTED_ADDRESSES = ['192.0.2.10/32', '192.0.2.11/32', '2001:db8::1a/128', '192.0.2.12/32', '203.0.113.21/32'];
const EXPECTED_USERS = ['asmith', 'bwong', 'jdoe'];

describe('main example flow (real Node-RED, simulators, forwarder script)', function () {
  this.timeout(120000);
  let demo: MainExample;
  let forwarder: Forwarder;
  const forwarders: Forwarder[] = [];

  const blockList = (): string[] => demo.appliances.loadMaster.state.lists.block.map((e) => e.addr).sort();
  const blockedUsers = (): string[] => demo.appliances.cryptoSpike.state.blockedUsers().map((u) => u.username).sort();
  const entries = (): Promise<BlockEntry[]> => demo.nr.getJson<BlockEntry[]>('/flowmon-response/blocks');
  const post = (body: string, secret: string): Promise<Response> =>
    fetch(demo.adsUrl, { method: 'POST', headers: { 'Content-Type': 'text/plain', 'X-ADS-Secret': secret }, body });

  before(async () => {
    demo = await startMainExample(`${BLOCK_TTL_SECONDS}s`);
    forwarder = forwarderFor(demo.adsUrl, demo.secret);
    forwarders.push(forwarder);
  });

  after(async () => {
    await demo?.dispose();
    for (const f of forwarders) rmSync(f.dir, { recursive: true, force: true });
  });

  it('takes TSV, JSON and CEF batches from the forwarder script (exit status 0 = delivered)', async () => {
    assert.equal(await forwarder.send(tsvEvents()), 0, forwarder.log());
    assert.equal(await forwarder.send(jsonEvents()), 0, forwarder.log());
    assert.equal(await forwarder.send(cefEvents()), 0, forwarder.log());
    assert.equal(forwarder.log().match(/delivered .*HTTP 202/g)?.length, 3, forwarder.log());
  });

  it('blocks every source address on the LoadMaster global block list, tagged with the ADS event', async () => {
    await waitFor('five LoadMaster entries', () => (blockList().length === 5 ? true : undefined));
    assert.deepEqual(blockList(), [...EXPECTED_ADDRESSES].sort());
    const comments = demo.appliances.loadMaster.state.lists.block.map((e) => e.comment);
    assert.ok(comments.includes('ADS ID 5101 - SSHDICT [flowmon-nr]'), comments.join('\n'));
    assert.ok(comments.includes('ADS ID 5301 - BLACKLIST [flowmon-nr]'), comments.join('\n'));
  });

  it('blocks the one user behind each source on CryptoSpike, and nobody for the ambiguous source', async () => {
    await waitFor('three blocked users', () => (blockedUsers().length >= 3 ? true : undefined));
    assert.deepEqual(blockedUsers(), EXPECTED_USERS);
    for (const user of SOURCE_USERS[AMBIGUOUS_SOURCE]) assert.ok(!blockedUsers().includes(user.username));
  });

  it('answers with receipts: 202 with counts, 400 for a batch with no event, 401 for a wrong secret', async () => {
    const ok = await post(tsvEvents(), demo.secret);
    assert.equal(ok.status, 202);
    assert.deepEqual(await ok.json(), { accepted: 2, rejected: 0, filtered: 0 });
    const bad = await post('this is not an ADS event\n', demo.secret);
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { accepted: number }).accepted, 0);
    const wrong = await post(tsvEvents(), 'not-the-secret');
    assert.equal(wrong.status, 401);

    const refused = forwarderFor(demo.adsUrl, demo.secret);
    const wrongSecret = forwarderFor(demo.adsUrl, 'not-the-secret');
    forwarders.push(refused, wrongSecret);
    assert.equal(await refused.send('this is not an ADS event\n'), 3, 'a 400 is a rejected batch (exit 3)');
    assert.equal(await wrongSecret.send(tsvEvents()), 1, 'a 401 leaves the batch spooled (exit 1)');
  });

  it('lists the active blocks in the sidebar API with their expiry', async () => {
    const active = (await entries()).filter((e) => e.state === 'active');
    assert.equal(active.filter((e) => e.kind === 'loadmaster').length, 5);
    assert.equal(active.filter((e) => e.kind === 'cryptospike').length, 3);
    const now = Date.now();
    for (const e of active) assert.ok(e.expiresAt > now && e.expiresAt <= now + BLOCK_TTL_SECONDS * 1000 + 1000, JSON.stringify(e));
  });

  it('keeps the entries (and the appliance blocks) across a Node-RED restart', async () => {
    const before = (await entries()).filter((e) => e.state === 'active');
    await demo.nr.stop();
    assert.deepEqual(blockList(), [...EXPECTED_ADDRESSES].sort(), 'stopping Node-RED released nothing');
    await demo.nr.restart();
    const after = await waitFor('the registry after the restart', async () => {
      const list = (await entries()).filter((e) => e.state === 'active');
      return list.length === before.length ? list : undefined;
    });
    const key = (e: BlockEntry): string => `${e.id} ${e.target} ${e.expiresAt}`;
    assert.deepEqual(after.map(key).sort(), before.map(key).sort());
    assert.deepEqual(blockList(), [...EXPECTED_ADDRESSES].sort());
  });

  it('releases one block through the sidebar API (DELETE) on the appliance at once', async () => {
    const target = (await entries()).find((e) => e.target === '203.0.113.21/32' && e.state === 'active');
    assert.ok(target);
    const res = await demo.nr.request('DELETE', `/flowmon-response/blocks/${encodeURIComponent(target.id)}`);
    assert.ok(res.ok, `DELETE: HTTP ${res.status} ${await res.text()}`);
    await waitFor('203.0.113.21 removed', () => (blockList().includes('203.0.113.21/32') ? undefined : true));
    assert.equal(blockList().length, 4);
    const released = (await entries()).find((e) => e.id === target.id);
    assert.ok(!released || released.state === 'released', JSON.stringify(released));
  });

  it('releases everything else on both appliances when BLOCK_TTL expires; the held ambiguous source stays held', async () => {
    const latest = Math.max(...(await entries()).filter((e) => e.state === 'active').map((e) => e.expiresAt));
    const wait = Math.max(0, latest - Date.now()) + 15000;
    await waitFor('every block released', () => (blockList().length === 0 && blockedUsers().length === 0 ? true : undefined), wait);
    // A held block was never applied, so it is never released: it waits for a person (or its decide-by default).
    await waitFor('every applied entry released', async () =>
      (await entries()).every((e) => e.state === 'released' || e.state === 'held') ? true : undefined,
    );
    const held = (await entries()).filter((e) => e.state === 'held');
    assert.deepEqual(held.map((e) => e.target), [AMBIGUOUS_SOURCE]);
    assert.equal(held[0].kind, 'cryptospike');
  });
});
