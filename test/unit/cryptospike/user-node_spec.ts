import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';
import type { CryptoSpikeConfigNode } from '../../../nodes/flowmon-cryptospike-config/config-node';
import { closeRegistries, getRegistry } from '../../../lib/registry';
import { CryptoSpikeSimulator, startCryptoSpikeSimulator } from '../../../simulators/cryptospike';
import { nodeRedPath } from '../../support/node-red-path';
import { UserNodeHarness, adsEvent } from './fixture';

helper.init(nodeRedPath);

const JDOE = 'S-1-5-21-1000-1104';
const EVE = 'S-1-5-21-1000-1105';

describe('flowmon-cryptospike-user', () => {
  let sim: CryptoSpikeSimulator;
  const nodes = new UserNodeHarness(() => sim);
  const load = nodes.load.bind(nodes);
  const run = nodes.run.bind(nodes);
  const one = nodes.one.bind(nodes);

  beforeEach(async () => {
    sim = await startCryptoSpikeSimulator();
    sim.addUser({ userId: JDOE, username: 'jdoe', userPrincipalName: 'jdoe@corp.example', domain: 'CORP' });
    sim.addUser({ userId: EVE, username: 'eve', userPrincipalName: 'eve@corp.example', domain: 'CORP' });
  });
  afterEach(async () => {
    await helper.unload();
    await closeRegistries();
    await sim.close();
  });

  it('blocks the only user with file activity from the source, with an audit comment', async () => {
    await load();
    sim.seedActivity('10.0.0.5', JDOE, 'jdoe', 7);
    const out = await one({ payload: adsEvent('10.0.0.5', { targets: ['10.1.0.1', '10.1.0.2', '10.1.0.3', '10.1.0.4', '10.1.0.5', '10.1.0.6', '10.1.0.7'] }) });
    assert.equal(out.port, 1);
    const m = out.msg.payload.mitigation;
    assert.equal(m.appliance, 'cryptospike');
    assert.equal(m.config, 'cs');
    assert.equal(m.action, 'block');
    assert.equal(m.result, 'blocked');
    assert.deepEqual(m.user, { userId: JDOE, username: 'jdoe' });
    assert.equal(m.userIdType, 'WINDOWS');
    assert.deepEqual(m.evidence, { window: '30m', activityCount: 7, via: 'file-activity' });
    assert.ok(!Number.isNaN(Date.parse(m.at)));
    assert.equal(out.msg.payload.source, '10.0.0.5', 'the event is kept');
    const user = sim.state.users.get(JDOE)!;
    assert.equal(user.accessState, 'BLOCKED');
    const comment = user.comments[0];
    for (const part of ['4711', 'SMBSCAN', 'Source: 10.0.0.5', '10.1.0.1', '(+2 more)', 'Data feed: probe-1', 'only user with file activity']) {
      assert.ok(comment.includes(part), `comment lacks "${part}": ${comment}`);
    }
    assert.ok(comment.length <= 1000);
    const access = sim.calls.log.find((c) => c.path.endsWith('/users/access'))!;
    assert.equal(access.auth, 'session');
  });

  it('reads beyond the first 50 rows when counting the users of an address', async () => {
    await load({ pageSize: 50 });
    sim.seedActivity('10.0.0.5', JDOE, 'jdoe', 60);
    sim.seedActivity('10.0.0.5', EVE, 'eve', 1);
    const out = await one({ payload: adsEvent('10.0.0.5') });
    assert.equal(out.port, 1, 'held for a person to choose, on the output wired to the TTL node');
    assert.equal(out.msg.payload.mitigation.result, 'held');
    assert.equal(out.msg.payload.mitigation.user, null);
    const candidates = [
      { userId: JDOE, username: 'jdoe', activityCount: 60 },
      { userId: EVE, username: 'eve', activityCount: 1 },
    ];
    assert.deepEqual(out.msg.payload.mitigation.candidates, candidates);
    assert.equal(out.msg.payload.mitigation.hold?.reason, 'ambiguous');
    assert.deepEqual(out.msg.payload.mitigation.hold?.candidates, candidates);
    assert.equal(sim.calls.writes, 0);
  });

  describe('fallback to the ADS user identity when the address has no file activity', () => {
    it('blocks the one user matching DOMAIN\\user exactly', async () => {
      await load();
      sim.addUser({ userId: 'S-1-5-21-1000-1200', username: 'jdoe2', domain: 'CORP' });
      const out = await one({ payload: adsEvent('10.0.0.9', { userIdentity: 'corp\\JDOE' }) });
      assert.equal(out.msg.payload.mitigation.result, 'blocked');
      assert.equal(out.msg.payload.mitigation.user?.userId, JDOE);
      assert.deepEqual(out.msg.payload.mitigation.evidence, { window: '30m', activityCount: 0, via: 'user-identity' });
    });

    it('matches a UPN exactly', async () => {
      await load();
      const out = await one({ payload: adsEvent('10.0.0.9', { userIdentity: 'EVE@corp.example' }) });
      assert.equal(out.msg.payload.mitigation.user?.userId, EVE);
    });

    it('no match gives no-user; two matches are ambiguous; IDS events never fall back', async () => {
      await load();
      sim.addUser({ userId: 'S-1-5-21-2000-1104', username: 'jdoe', domain: null });
      const none = await one({ payload: adsEvent('10.0.0.9', { userIdentity: 'CORP\\mallory' }) });
      assert.equal(none.port, 2);
      assert.equal(none.msg.payload.mitigation.result, 'no-user');
      const two = await one({ payload: adsEvent('10.0.0.9', { userIdentity: 'jdoe' }) });
      assert.equal(two.msg.payload.mitigation.result, 'held');
      assert.equal(two.msg.payload.mitigation.hold?.reason, 'ambiguous');
      assert.deepEqual(two.msg.payload.mitigation.hold?.candidates?.map((c) => [c.userId, c.activityCount]).sort(), [
        ['S-1-5-21-1000-1104', 0],
        ['S-1-5-21-2000-1104', 0],
      ]);
      const ids = await one({ payload: adsEvent('10.0.0.10', { kind: 'ids', userIdentity: 'eve' }) });
      assert.equal(ids.msg.payload.mitigation.result, 'no-user');
      assert.equal(sim.calls.writes, 0);
    });
  });

  it('refuses protected users given by name, UPN or SID', async () => {
    await load({ protectedUsers: 'CORP\\jdoe\neve@CORP.example' });
    sim.seedActivity('10.0.0.5', JDOE, 'jdoe', 2);
    sim.seedActivity('10.0.0.6', EVE, 'eve', 2);
    const outs = await run({ payload: adsEvent('10.0.0.5') }, { payload: adsEvent('10.0.0.6') });
    for (const out of outs) {
      assert.equal(out.port, 2);
      assert.equal(out.msg.payload.mitigation.result, 'refused');
      assert.match(out.msg.payload.mitigation.reason ?? '', /protected user/);
    }
    assert.equal(sim.calls.writes, 0);
  });

  it('refuses an explicit user protected by SID', async () => {
    await load({ protectedUsers: JDOE.toLowerCase() });
    const out = await one({ payload: { userId: JDOE } });
    assert.equal(out.msg.payload.mitigation.result, 'refused');
    assert.equal(sim.calls.writes, 0);
  });

  it('holds new blocks over the storm cap for a decision', async () => {
    await load({ stormCap: 2 });
    const ips = ['10.0.1.1', '10.0.1.2', '10.0.1.3', '10.0.1.4'];
    ips.forEach((ip, i) => sim.seedActivity(ip, `S-1-5-21-9-${i}`, `user${i}`, 1));
    const outs = await run(...ips.map((ip) => ({ payload: adsEvent(ip) })));
    const results = outs.map((o) => o.msg.payload.mitigation.result).sort();
    assert.deepEqual(results, ['blocked', 'blocked', 'held', 'held']);
    assert.ok(outs.every((o) => o.port === 1));
    for (const held of outs.map((o) => o.msg.payload.mitigation).filter((m) => m.result === 'held')) {
      assert.match(held.reason ?? '', /storm gate: at most 2 new blocks per 60 s/);
      assert.equal(held.hold?.reason, 'storm');
      assert.match(held.user?.userId ?? '', /^S-1-5-21-9-\d$/, 'the resolved user is kept');
      const i = Number(held.user!.userId.slice(-1));
      assert.deepEqual(held.hold?.event, { id: '4711', method: 'SMBSCAN', priority: 'high', perspective: 'Security issues', description: 'SMB scan', source: ips[i] });
      assert.equal(held.hold?.priority, 4, 'queued as a high event would be');
    }
    assert.equal(sim.calls.writes, 2);
  });

  it('simulate mode resolves but writes nothing', async () => {
    await load({ simulate: true });
    sim.seedActivity('10.0.0.5', JDOE, 'jdoe', 1);
    const out = await one({ payload: adsEvent('10.0.0.5') });
    assert.equal(out.port, 1);
    assert.equal(out.msg.payload.mitigation.result, 'simulated');
    assert.equal(sim.calls.writes, 0);
    assert.equal(sim.state.users.get(JDOE)!.accessState, 'ALLOWED');
  });

  it('a burst from one source costs one lookup and one block', async () => {
    await load();
    sim.seedActivity('10.0.0.5', JDOE, 'jdoe', 3);
    const outs = await run(...Array.from({ length: 10 }, () => ({ payload: adsEvent('10.0.0.5') })));
    const results = outs.map((o) => o.msg.payload.mitigation.result);
    assert.equal(results.filter((r) => r === 'blocked').length, 1);
    assert.equal(results.filter((r) => r === 'already-blocked').length, 9);
    assert.equal(sim.calls.count('POST', '/file-activity/table'), 1);
    assert.equal(sim.calls.writes, 1);
  });

  it('answers already-blocked without a call while the registry holds an active block', async () => {
    await load();
    sim.seedActivity('10.0.0.5', JDOE, 'jdoe', 3);
    await getRegistry({ settings: {} }).arm({
      key: { configId: 'cs', scope: 'user:WINDOWS', target: JDOE },
      kind: 'cryptospike',
      ttlSeconds: 3600,
    });
    const out = await one({ payload: adsEvent('10.0.0.5') });
    assert.equal(out.msg.payload.mitigation.result, 'already-blocked');
    assert.equal(sim.calls.writes, 0);
  });

  it('unblocks with the configured value (msg.action), and resolve-only writes nothing', async () => {
    sim.switches.unblockValue = 'ALLOWED';
    await load({ unblockValue: 'ALLOWED' }, { action: 'resolve' });
    sim.seedActivity('10.0.0.5', JDOE, 'jdoe', 3);
    sim.state.users.get(JDOE)!.accessState = 'BLOCKED';
    const resolved = await one({ payload: adsEvent('10.0.0.5') });
    assert.equal(resolved.msg.payload.mitigation.result, 'resolved');
    assert.equal(sim.calls.writes, 0);
    const unblocked = await one({ payload: adsEvent('10.0.0.5'), action: 'unblock' });
    assert.equal(unblocked.msg.payload.mitigation.result, 'unblocked');
    assert.equal(unblocked.msg.payload.mitigation.action, 'unblock');
    assert.equal(sim.state.users.get(JDOE)!.accessState, 'ALLOWED');
  });

  it('blocks an explicit msg.payload.userId (via "explicit") with an API token', async () => {
    await load({}, {}, { apiToken: sim.apiToken });
    const out = await one({ payload: { userId: EVE, username: 'eve' } });
    assert.equal(out.msg.payload.mitigation.result, 'blocked');
    assert.equal(out.msg.payload.mitigation.evidence?.via, 'explicit');
    assert.equal(sim.logins, 0);
    assert.equal(sim.state.users.get(EVE)!.accessState, 'BLOCKED');
  });

  it('an appliance error gives "failed" on output 2 and reaches Catch nodes', async () => {
    await load({}, {}, { apiToken: 'xapp-not-the-token' });
    const out = await one({ payload: { userId: EVE } });
    assert.equal(out.port, 2);
    assert.equal(out.msg.payload.mitigation.result, 'failed');
    assert.match(out.msg.payload.mitigation.reason ?? '', /API token rejected/);
    await waitFor(() => nodes.caught.length === 1);
    assert.match(nodes.caught[0].error.message, /API token rejected/);
    assert.doesNotMatch(JSON.stringify(nodes.caught[0]), /xapp-not-the-token/);
  });

  it('bad input is a clear error and sends nothing', async () => {
    await load();
    helper.getNode('u').receive({ payload: 'hello' } as never);
    helper.getNode('u').receive({ payload: { userId: JDOE }, action: 'delete' } as never);
    await waitFor(() => nodes.caught.length === 2);
    assert.match(nodes.caught[0].error.message, /flowmon-ads-event or carry msg.payload.userId/);
    assert.match(nodes.caught[1].error.message, /msg.action must be/);
    assert.equal(nodes.outputs.length, 0);
  });

  it('the config node releases a block (unblock) and logs out on close', async () => {
    await load();
    sim.state.users.get(JDOE)!.accessState = 'BLOCKED';
    const config = helper.getNode('cs') as unknown as CryptoSpikeConfigNode;
    assert.equal(config.applianceKind, 'cryptospike');
    assert.equal(await config.releaseMitigation({ configId: 'cs', scope: 'user:WINDOWS', target: JDOE }), 'released');
    assert.equal(sim.state.users.get(JDOE)!.accessState, 'UNBLOCKED');
    await helper.unload();
    assert.equal(sim.calls.count('GET', '/Server/auth/logout'), 1);
  });

  it('"Test connection" uses the deployed credentials for "__PWRD__" and never echoes secrets', async () => {
    await load();
    const fields = { id: 'cs', url: sim.url, tlsMode: 'fingerprint', tlsFingerprint: sim.fingerprint };
    const good = await helper.request().post('/flowmon-response/cryptospike/test').send({ ...fields, username: sim.username, password: '__PWRD__' });
    assert.equal(good.body.ok, true, good.body.message);
    const bad = await helper.request().post('/flowmon-response/cryptospike/test').send({ ...fields, username: sim.username, password: 'wrong-Secret' });
    assert.equal(bad.body.ok, false);
    assert.match(bad.body.message, /refused the login/);
    assert.doesNotMatch(JSON.stringify(bad.body), /wrong-Secret|simulated-password/);
  });

  it('"Test connection" never substitutes ${ENV_VAR} fields posted by the dialog', async () => {
    await load();
    process.env.FLOWMON_TEST_CS_URL = sim.url;
    process.env.FLOWMON_TEST_CS_FINGERPRINT = sim.fingerprint;
    try {
      const fields = { id: 'cs', url: '${FLOWMON_TEST_CS_URL}', tlsMode: 'auto', tlsFingerprint: '${FLOWMON_TEST_CS_FINGERPRINT}' };
      const stored = await helper.request().post('/flowmon-response/cryptospike/test').send({ ...fields, username: sim.username, password: '__PWRD__' });
      assert.equal(stored.body.ok, false);
      assert.match(stored.body.message, /^enter the API token, or the user name and password: the URL or TLS settings differ/);
      const typed = await helper.request().post('/flowmon-response/cryptospike/test').send({ ...fields, username: sim.username, password: sim.password });
      assert.deepEqual(typed.body, { ok: false, message: 'the URL field is not a valid URL (https://host[:port])' });
      assert.equal(sim.calls.log.length, 0);
    } finally {
      delete process.env.FLOWMON_TEST_CS_URL;
      delete process.env.FLOWMON_TEST_CS_FINGERPRINT;
    }
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
