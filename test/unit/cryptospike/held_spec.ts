// flowmon-cryptospike-user: blocks held for a person (approval mode, ambiguous users) and the config node's applyHeld.
import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';
import sinon from 'sinon';
import type { CryptoSpikeConfigNode } from '../../../nodes/flowmon-cryptospike-config/config-node';
import { CryptoSpikeClient } from '../../../lib/cryptospike/client';
import { readCryptoSpikeSettings } from '../../../lib/cryptospike/settings';
import type { HoldInfo, HoldRequest } from '../../../lib/decisions/types';
import { closeRegistries, getRegistry } from '../../../lib/registry';
import { CryptoSpikeSimulator, startCryptoSpikeSimulator } from '../../../simulators/cryptospike';
import { nodeRedPath } from '../../support/node-red-path';
import { UserNodeHarness, adsEvent } from './fixture';

helper.init(nodeRedPath);

const JDOE = 'S-1-5-21-1000-1104';
const EVE = 'S-1-5-21-1000-1105';
const MALLORY = 'S-1-5-21-1000-1106';

const info = (hold: HoldRequest): HoldInfo => {
  const { decideWithinMs, ...rest } = hold;
  return { ...rest, heldAt: Date.now(), decideBy: Date.now() + decideWithinMs };
};

describe('flowmon-cryptospike-user: held blocks', () => {
  let sim: CryptoSpikeSimulator;
  const nodes = new UserNodeHarness(() => sim);
  const config = () => helper.getNode('cs') as unknown as CryptoSpikeConfigNode;
  const state = (userId: string) => sim.state.users.get(userId)!.accessState;

  beforeEach(async () => {
    sim = await startCryptoSpikeSimulator();
    sim.addUser({ userId: JDOE, username: 'jdoe', userPrincipalName: 'jdoe@corp.example', domain: 'CORP' });
    sim.addUser({ userId: EVE, username: 'eve', userPrincipalName: 'eve@corp.example', domain: 'CORP' });
    sim.addUser({ userId: MALLORY, username: 'mallory', userPrincipalName: 'mallory@corp.example', domain: 'CORP' });
  });
  afterEach(async () => {
    sinon.restore();
    await helper.unload();
    await closeRegistries();
    await sim.close();
  });

  /** Two users behind 10.0.0.5: the event is held with both as candidates. */
  async function heldAmbiguous(config: Record<string, unknown> = {}) {
    await nodes.load(config);
    sim.seedActivity('10.0.0.5', JDOE, 'jdoe', 5);
    sim.seedActivity('10.0.0.5', EVE, 'eve', 2);
    const out = await nodes.one({ payload: adsEvent('10.0.0.5') });
    return { out, key: { configId: 'cs', scope: 'ambiguous:WINDOWS', target: '10.0.0.5' }, hold: info(out.msg.payload.mitigation.hold!) };
  }

  it('holds two users behind one source with the whole HoldRequest; resolve-only still reports ambiguous', async () => {
    const { out } = await heldAmbiguous();
    assert.equal(out.port, 1);
    const m = out.msg.payload.mitigation;
    assert.equal(m.result, 'held');
    assert.equal(m.user, null);
    assert.deepEqual(m.hold, {
      reason: 'ambiguous',
      reasonText: m.reason,
      event: { id: '4711', method: 'SMBSCAN', priority: 'high', perspective: 'Security issues', description: 'SMB scan', source: '10.0.0.5' },
      candidates: [
        { userId: JDOE, username: 'jdoe', activityCount: 5 },
        { userId: EVE, username: 'eve', activityCount: 2 },
      ],
      decideWithinMs: 3_600_000,
      onTimeout: 'discard',
      priority: 4,
    });
    assert.match(m.reason ?? '', /2 users have file activity from 10\.0\.0\.5/);
    const resolveOnly = await nodes.one({ payload: adsEvent('10.0.0.5'), action: 'resolve' });
    assert.equal(resolveOnly.port, 2);
    assert.equal(resolveOnly.msg.payload.mitigation.result, 'ambiguous');
    assert.equal(resolveOnly.msg.payload.mitigation.hold, undefined);
    assert.equal(sim.calls.writes, 0);
  });

  it('approval "below high": a high event goes through, a medium one and a manual block wait, with the configured decide-by', async () => {
    await nodes.load({ approval: 'below', approvalPriority: 'high', decideWithin: '30', onTimeout: 'apply' });
    sim.seedActivity('10.0.0.5', JDOE, 'jdoe', 1);
    sim.seedActivity('10.0.0.6', EVE, 'eve', 1);
    const outs = await nodes.run(
      { payload: adsEvent('10.0.0.5') },
      { payload: adsEvent('10.0.0.6', { priority: 'medium' }) },
      { payload: { userId: MALLORY } },
    );
    const [high, medium, manual] = [JDOE, EVE, MALLORY].map((id) => outs.find((o) => o.msg.payload.mitigation.user?.userId === id)!);
    assert.equal(high.msg.payload.mitigation.result, 'blocked');
    for (const out of [medium, manual]) {
      assert.equal(out.port, 1);
      assert.equal(out.msg.payload.mitigation.result, 'held');
      assert.equal(out.msg.payload.mitigation.hold?.reason, 'approval');
      assert.equal(out.msg.payload.mitigation.hold?.reasonText, 'approval required for events below high');
      assert.equal(out.msg.payload.mitigation.hold?.decideWithinMs, 1_800_000);
      assert.equal(out.msg.payload.mitigation.hold?.onTimeout, 'apply');
      assert.equal(out.msg.payload.mitigation.hold?.priority, 3);
    }
    assert.deepEqual(medium.msg.payload.mitigation.user, { userId: EVE, username: 'eve' }, 'the user it would block is kept');
    assert.equal(manual.msg.payload.mitigation.hold?.event, null);
    assert.deepEqual([state(JDOE), state(EVE), state(MALLORY)], ['BLOCKED', 'ALLOWED', 'ALLOWED']);
    await helper.unload();
    await nodes.load({ approval: 'always' });
    const critical = await nodes.one({ payload: adsEvent('10.0.0.6', { priority: 'critical' }) });
    assert.equal(critical.msg.payload.mitigation.hold?.reasonText, 'approval required for every new block');
    assert.equal(sim.calls.writes, 1);
  });

  it('simulate mode holds the same way, and the status counts the held', async () => {
    await nodes.load({ simulate: true, approval: 'below' });
    const statuses: string[] = [];
    (helper.getNode('u') as any).on('call:status', (call: { args: [{ text?: string }] }) => statuses.push(call.args[0].text ?? ''));
    sim.seedActivity('10.0.0.5', JDOE, 'jdoe', 1);
    const out = await nodes.one({ payload: adsEvent('10.0.0.5') });
    assert.equal(out.msg.payload.mitigation.result, 'held');
    assert.equal(statuses.at(-1), 'held jdoe · held 1 · 0 acted, 0 not');
  });

  it('applies an ambiguous entry to the candidate a person chose, and rejects a user who is not a candidate', async () => {
    const { key, hold } = await heldAmbiguous({ approval: 'always', stormCap: 1 });
    await assert.rejects(config().applyHeld(key, hold), /choose the user to block: one of the 2 users seen at 10\.0\.0\.5 \(S-1-5-21-1000-1104, S-1-5-21-1000-1105\)/);
    await assert.rejects(config().applyHeld(key, hold, MALLORY), /user S-1-5-21-1000-1106 is not a candidate of this held entry/);
    assert.equal(sim.calls.writes, 0);
    const applied = await config().applyHeld(key, hold, EVE);
    assert.deepEqual(applied, { result: 'applied', key: { configId: 'cs', scope: 'user:WINDOWS', target: EVE }, label: 'eve' });
    assert.deepEqual([state(JDOE), state(EVE)], ['ALLOWED', 'BLOCKED']);
    const comment = sim.state.users.get(EVE)!.comments[0];
    assert.ok(comment.includes('Flowmon ADS event 4711 - SMBSCAN') && comment.includes('then applied by a decision'), comment);
  });

  it('re-checks the never-block users by every name the appliance knows (a candidate carries the user name only)', async () => {
    const { key, hold } = await heldAmbiguous({ protectedUsers: 'EVE@corp.example' });
    const applied = await config().applyHeld(key, hold, EVE);
    assert.equal(applied.result, 'refused');
    assert.match(applied.reason ?? '', /eve \(S-1-5-21-1000-1105\) is a protected user \(never-block entry "EVE@corp.example"\)/);
    assert.equal(sim.calls.writes, 0);
  });

  it('a held user entry: joined while in flight, short-cut while active, simulated in simulate mode, queued at the hold priority', async () => {
    const setAccess = sinon.spy(CryptoSpikeClient.prototype, 'setAccess');
    sim.switches.latencyMs = 20;
    await nodes.load({ approval: 'always' });
    const key = { configId: 'cs', scope: 'user:WINDOWS', target: JDOE };
    const hold: HoldInfo = { reason: 'approval', reasonText: 'approval required for every new block', event: null, onTimeout: 'discard', priority: 5, heldAt: 0, decideBy: 0 };
    const results = await Promise.all([1, 2, 3].map(() => config().applyHeld(key, hold)));
    assert.deepEqual(results.map((r) => r.result).sort(), ['already-present', 'already-present', 'applied']);
    assert.equal(sim.calls.writes, 1);
    assert.equal(setAccess.firstCall.args[4], 5, 'the block call is queued at the hold priority');
    await assert.rejects(config().applyHeld(key, hold, EVE), /a user id is only chosen for an ambiguous entry/);
    await getRegistry({ settings: {} }).arm({ key: { ...key, target: EVE }, kind: 'cryptospike', ttlSeconds: 3600 });
    assert.equal((await config().applyHeld({ ...key, target: EVE }, hold)).result, 'already-present');
    assert.equal(sim.calls.writes, 1);
    await helper.unload();
    await nodes.load({ simulate: true });
    assert.equal((await config().applyHeld({ ...key, target: MALLORY }, hold)).result, 'simulated');
    assert.equal(sim.calls.writes, 1);
  });

  it('rejects on an appliance failure, so the decision is retried', async () => {
    await nodes.load({}, {}, { apiToken: sim.apiToken });
    sim.switches.errors.push({ pathIncludes: '/users/access', status: 503, times: 10 });
    const hold: HoldInfo = { reason: 'storm', reasonText: 'storm gate', event: null, onTimeout: 'apply', priority: 3, heldAt: 0, decideBy: 0 };
    await assert.rejects(config().applyHeld({ configId: 'cs', scope: 'user:WINDOWS', target: JDOE }, hold), /HTTP 503/);
  });

  it('reads the approval fields with their defaults', () => {
    const base = { url: 'https://cs.example', tlsMode: 'system' };
    const approval = (fields: object) => readCryptoSpikeSettings({ ...base, ...fields }, { apiToken: 't' }).approval;
    assert.deepEqual(approval({}), { mode: 'never', priority: 'critical', decideWithinMs: 3_600_000, onTimeout: 'discard' });
    assert.deepEqual(approval({ approval: 'always', decideWithin: 10080, onTimeout: 'apply' }).decideWithinMs, 10080 * 60_000);
    assert.throws(() => approval({ decideWithin: '10081' }), /decide within \(minutes\) must be a whole number ≥ 1 and ≤ 10080/);
  });
});
