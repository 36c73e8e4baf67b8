import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import helper from 'node-red-node-test-helper';
import sinon from 'sinon';
import ttlNode = require('../../../nodes/flowmon-mitigation-ttl/flowmon-mitigation-ttl');
import { closeRegistries, getRegistry, registryFile } from '../../../lib/registry';
import { LOADMASTER_COMMENT_TAG } from '../../../lib/mitigation/types';
import { nodeRedPath } from '../../support/node-red-path';
import { control, fakeAppliance, loadMasterMitigation, resetControls, until } from './fake-appliance';

helper.init(nodeRedPath);

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

type Msg = { topic: string; ttl?: number; payload: any; error?: { message: string } };

function flow(ttlProps: Record<string, unknown> = {}, withTtl = true) {
  const nodes: Array<Record<string, unknown>> = [
    { id: 'f1', type: 'tab' },
    { id: 'lm', type: 'fake-appliance' },
    { id: 'out', z: 'f1', type: 'helper' },
    { id: 'c1', z: 'f1', type: 'catch', scope: null, wires: [['errs']] },
    { id: 'errs', z: 'f1', type: 'helper' },
  ];
  if (withTtl) {
    nodes.push({ id: 'ttl', z: 'f1', type: 'flowmon-mitigation-ttl', ttl: 24, ttlUnit: 'h', reconcile: 0, wires: [['out']], ...ttlProps });
  }
  return nodes;
}

describe('flowmon-mitigation-ttl', function () {
  let userDir: string;
  let clock: sinon.SinonFakeTimers | undefined;
  let out: Msg[];
  let errs: Msg[];

  async function load(ttlProps: Record<string, unknown> = {}, withTtl = true) {
    await helper.load([fakeAppliance, ttlNode], flow(ttlProps, withTtl) as never);
    out = [];
    errs = [];
    helper.getNode('out').on('input', (m: unknown) => out.push(m as Msg));
    helper.getNode('errs').on('input', (m: unknown) => errs.push(m as Msg));
  }

  function fakeTime() {
    clock = sinon.useFakeTimers({ now: Date.now(), toFake: ['setTimeout', 'clearTimeout', 'Date'], shouldClearNativeTimers: true });
    registry().scheduler.sweep(); // re-arms the scheduler's timer on the fake clock
    return clock;
  }

  function send(msg: Record<string, unknown>) {
    helper.getNode('ttl').receive(msg as never);
  }

  const topics = () => out.map((m) => m.topic);
  const registry = () => getRegistry({ settings: { userDir } });

  beforeEach(() => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowmon-ttl-'));
    helper.settings({ userDir });
    resetControls();
  });

  afterEach(async () => {
    clock?.restore();
    clock = undefined;
    await helper.unload();
    await closeRegistries();
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('arms an entry from an `added` result with the dialog TTL, durable before the message leaves', async () => {
    await load();
    send({ payload: { mitigation: loadMasterMitigation('10.0.0.5/32'), event: { id: 'ads-1' } } });
    await until(() => out.length === 1, 'armed');
    const m = out[0];
    assert.equal(m.topic, 'armed');
    assert.equal(m.ttl, 86_400);
    assert.equal(m.payload.entry.state, 'active');
    assert.deepEqual(m.payload.entry.eventIds, ['ads-1']);
    assert.ok(Math.abs(m.payload.entry.expiresAt - (Date.now() + DAY)) < 2000);
    const onDisk = fs.readFileSync(registryFile(userDir), 'utf8');
    assert.match(onDisk, /10\.0\.0\.5\/32/);
    assert.ok(registry().isActive({ configId: 'lm', scope: 'global:block', target: '10.0.0.5/32' }));
  });

  it('takes a dialog TTL written with its own unit, as ${BLOCK_TTL} delivers it', async () => {
    await load({ ttl: '30s', ttlUnit: 'h' });
    send({ payload: { mitigation: loadMasterMitigation('10.0.0.7/32') } });
    await until(() => out.length === 1, 'armed');
    assert.equal(out[0].ttl, 30);
  });

  it('falls back to 24 h, with a warning, when the dialog TTL is empty (an unset ${BLOCK_TTL})', async () => {
    await load({ ttl: '', ttlUnit: 's' });
    const warn = helper.getNode('ttl').warn as unknown as sinon.SinonSpy;
    assert.ok(warn.calledWithMatch(/no TTL set/));
    send({ payload: { mitigation: loadMasterMitigation('10.0.0.9/32') } });
    await until(() => out.length === 1, 'armed');
    assert.equal(out[0].ttl, 86_400);
  });

  it('falls back to 24 h when the dialog TTL is ${BLOCK_TTL} and that variable is not set', async () => {
    await load({ ttl: '${BLOCK_TTL_NOT_SET_IN_TESTS}', ttlUnit: 'm' });
    send({ payload: { mitigation: loadMasterMitigation('10.0.0.13/32') } });
    await until(() => out.length === 1, 'armed');
    assert.equal(out[0].ttl, 86_400);
  });

  it('records the id of the ADS event that the appliance node passed on as the payload', async () => {
    await load();
    send({ payload: { kind: 'ads', id: '5101', source: '10.0.0.10', mitigation: loadMasterMitigation('10.0.0.10/32') } });
    await until(() => out.length === 1, 'armed');
    assert.deepEqual(out[0].payload.entry.eventIds, ['5101']);
  });

  it('keeps the CryptoSpike user name beside the user id, for the sidebar', async () => {
    await load();
    const mitigation = {
      appliance: 'cryptospike', config: 'lm', action: 'block', userIdType: 'WINDOWS', result: 'blocked',
      user: { userId: 'S-1-5-21-1-2-3-1104', username: 'jdoe' }, at: new Date().toISOString(),
    };
    send({ payload: { kind: 'ads', id: '77', source: '10.0.0.12', mitigation } });
    await until(() => out.length === 1, 'armed');
    assert.equal(out[0].payload.entry.target, 'S-1-5-21-1-2-3-1104');
    assert.equal(out[0].payload.entry.label, 'jdoe');
    assert.equal(out[0].payload.entry.scope, 'user:WINDOWS');
  });

  it('shows in its status only the entries it keeps', async () => {
    const second = { id: 'ttl2', z: 'f1', type: 'flowmon-mitigation-ttl', ttl: 24, ttlUnit: 'h', reconcile: 0, wires: [[]] };
    await helper.load([fakeAppliance, ttlNode], [...flow(), second] as never);
    out = [];
    helper.getNode('out').on('input', (m: unknown) => out.push(m as Msg));
    helper.getNode('ttl2').receive({ payload: { mitigation: loadMasterMitigation('10.9.9.9/32') } } as never);
    send({ payload: { mitigation: loadMasterMitigation('10.0.0.11/32') } });
    await until(() => out.length === 1, 'armed');
    const status = helper.getNode('ttl').status as unknown as sinon.SinonSpy;
    await until(() => status.called && /^1 active/.test(status.lastCall.args[0].text), 'status shows 1 active');
  });

  it('refuses to work with an unusable dialog TTL such as an unset ${BLOCK_TTL} made "0s"', async () => {
    await load({ ttl: '0s' });
    send({ payload: { mitigation: loadMasterMitigation('10.0.0.8/32') } });
    await until(() => errs.length === 1, 'error');
    assert.match(errs[0].error!.message, /invalid TTL in the node settings/);
    assert.equal(out.length, 0);
  });

  it('msg.ttl overrides the dialog; a repeat extends to the later expiry and never shortens', async () => {
    await load();
    const c = fakeTime();
    send({ payload: { mitigation: loadMasterMitigation('10.0.0.6/32') }, ttl: '2h' });
    await until(() => out.length === 1, 'armed');
    const first = out[0].payload.entry.expiresAt;
    assert.equal(first, Date.now() + 2 * HOUR);
    await c.tickAsync(60_000);
    send({ payload: { mitigation: loadMasterMitigation('10.0.0.6/32', 'already-present') }, ttl: 30 });
    await until(() => out.length === 2, 'extended');
    assert.equal(out[1].topic, 'extended');
    assert.equal(out[1].payload.entry.expiresAt, first, 'a shorter TTL does not shorten');
    send({ payload: { mitigation: loadMasterMitigation('10.0.0.6/32', 'already-present') }, ttl: '3h' });
    await until(() => out.length === 3, 'extended again');
    assert.equal(out[2].payload.entry.expiresAt, Date.now() + 3 * HOUR);
    assert.equal(out[2].payload.entry.hits, 3);
  });

  it('refuses a TTL of 0, a negative one, garbage and more than a year, and arms nothing', async () => {
    await load();
    for (const ttl of [0, -5, 'abc', '400d', '0s']) send({ payload: { mitigation: loadMasterMitigation('10.0.0.7/32') }, ttl });
    await until(() => errs.length === 5, 'five errors');
    assert.match(errs[0].error!.message, /positive/);
    assert.match(errs[2].error!.message, /invalid TTL/);
    assert.match(errs[3].error!.message, /365 days/);
    assert.equal(out.length, 0);
    assert.equal(registry().size, 0);
  });

  it('gives a clear error for a message without a mitigation', async () => {
    await load();
    send({ payload: 'hello' });
    await until(() => errs.length === 1, 'error');
    assert.match(errs[0].error!.message, /msg\.payload\.mitigation is missing/);
  });

  it('releases within 1 s of expiresAt through the config node that applied it', async () => {
    await load();
    const c = fakeTime();
    send({ payload: { mitigation: loadMasterMitigation('10.0.0.8/32') }, ttl: '10s' });
    await until(() => out.length === 1, 'armed');
    const expiresAt = out[0].payload.entry.expiresAt;
    await c.tickAsync(9_000);
    assert.equal(control('lm').releases.length, 0, 'not released early');
    await c.tickAsync(1_000);
    await until(() => topics().includes('released'), 'released');
    const rel = control('lm').releases[0];
    assert.deepEqual(rel.key, { configId: 'lm', scope: 'global:block', target: '10.0.0.8/32' });
    assert.ok(rel.at >= expiresAt && rel.at - expiresAt < 1000, `released ${rel.at - expiresAt} ms after expiry`);
    const released = out.find((m) => m.topic === 'released')!;
    assert.equal(released.payload.entry.state, 'released');
    assert.equal(released.payload.entry.releasedBy, 'expiry');
    assert.equal(registry().isActive(rel.key), false);
  });

  it('holds a TTL longer than 24.8 days (no timer overflow) and releases on time', async () => {
    await load();
    const c = fakeTime();
    send({ payload: { mitigation: loadMasterMitigation('10.0.0.9/32') }, ttl: '30d' });
    await until(() => out.length === 1, 'armed');
    const expiresAt = out[0].payload.entry.expiresAt;
    await c.tickAsync(30 * DAY - 2000);
    assert.equal(control('lm').releases.length, 0, 'not released early (a 32-bit timer overflow fires at once)');
    await c.tickAsync(2000); // the clock stops exactly at expiresAt
    await until(() => control('lm').releases.length === 1, 'release');
    const late = control('lm').releases[0].at - expiresAt;
    assert.ok(late >= 0 && late < 1000, `released ${late} ms after expiry`);
  });

  it('a failed release stays release-pending and is retried with backoff until it succeeds', async () => {
    await load();
    const c = fakeTime();
    control('lm').failures = 2;
    send({ payload: { mitigation: loadMasterMitigation('10.0.1.1/32') }, ttl: '10s' });
    await until(() => out.length === 1, 'armed');
    await c.tickAsync(10_000);
    await until(() => topics().filter((t) => t === 'release-failed').length === 1, 'first failure');
    const failed = out.find((m) => m.topic === 'release-failed')!;
    assert.equal(failed.payload.entry.state, 'release-pending');
    assert.match(failed.payload.entry.lastError, /503/);
    assert.equal(registry().isActive(failed.payload.entry), false);
    await c.tickAsync(5_000);
    await until(() => topics().filter((t) => t === 'release-failed').length === 2, 'second failure');
    await c.tickAsync(9_000);
    assert.equal(control('lm').releases.length, 2, 'backoff doubles: no third attempt before 10 s');
    await c.tickAsync(1_000);
    await until(() => topics().includes('released'), 'released');
    assert.equal(control('lm').releases.length, 3);
    assert.equal(registry().list()[0].state, 'released');
  });

  it('already absent on the appliance counts as released', async () => {
    await load();
    const c = fakeTime();
    control('lm').outcome = 'already-absent';
    send({ payload: { mitigation: loadMasterMitigation('10.0.1.2/32') }, ttl: '5s' });
    await until(() => out.length === 1, 'armed');
    await c.tickAsync(5_000);
    await until(() => topics().includes('released'), 'released');
  });

  it('an entry whose config node no longer exists becomes orphaned and stays visible', async () => {
    await load();
    const c = fakeTime();
    send({ payload: { mitigation: loadMasterMitigation('10.0.1.3/32', 'added', 'gone') }, ttl: '5s' });
    await until(() => out.length === 1, 'armed');
    await c.tickAsync(5_000);
    await until(() => topics().includes('orphaned'), 'orphaned');
    const e = registry().list()[0];
    assert.equal(e.state, 'orphaned');
    assert.match(e.lastError!, /gone/);
    await c.tickAsync(DAY);
    assert.equal(registry().list()[0].state, 'orphaned', 'kept, not retried or dropped');
  });

  it('escalates repeat offenders by the factor per earlier block, capped', async () => {
    await load({ ttl: 1, ttlUnit: 'h', escalate: true, factor: 2, lookback: 7, lookbackUnit: 'd', maxTtl: 3, maxTtlUnit: 'h' });
    const c = fakeTime();
    const ttls: number[] = [];
    for (let round = 0; round < 3; round++) {
      const before = out.length;
      send({ payload: { mitigation: loadMasterMitigation('10.0.2.1/32') } });
      await until(() => out.length === before + 1, `armed ${round}`);
      ttls.push(out[before].ttl!);
      await c.tickAsync(out[before].ttl! * 1000);
      await until(() => out.length === before + 2, `released ${round}`);
    }
    assert.deepEqual(ttls, [3600, 7200, 10_800], '1 h, 2 h, then 4 h capped at 3 h');
    const other = out.length;
    send({ payload: { mitigation: loadMasterMitigation('10.0.2.2/32') } });
    await until(() => out.length === other + 1, 'other target');
    assert.equal(out[other].ttl, 3600, 'history is per target');
  });

  it('arms a simulated entry and releases it without calling the appliance', async () => {
    await load();
    const c = fakeTime();
    send({ payload: { mitigation: loadMasterMitigation('10.0.3.1/32', 'simulated') }, ttl: 5 });
    await until(() => out.length === 1, 'armed');
    assert.equal(out[0].payload.entry.simulated, true);
    await c.tickAsync(5_000);
    await until(() => topics().includes('released'), 'released');
    assert.equal(control('lm').releases.length, 0);
  });

  it('a removal made by the flow marks the entry released', async () => {
    await load();
    send({ payload: { mitigation: loadMasterMitigation('10.0.3.2/32') } });
    await until(() => out.length === 1, 'armed');
    send({ payload: { mitigation: loadMasterMitigation('10.0.3.2/32', 'removed') } });
    await until(() => topics().includes('released'), 'released');
    assert.equal(registry().list()[0].releasedBy, 'flow');
  });

  it('redeploy keeps entries, and expiry still fires after it', async () => {
    await load();
    send({ payload: { mitigation: loadMasterMitigation('10.0.4.1/32') }, ttl: '1h' });
    await until(() => out.length === 1, 'armed');
    await helper.unload();
    await load();
    assert.equal(registry().list()[0].state, 'active');
    const c = fakeTime();
    await c.tickAsync(HOUR);
    await until(() => topics().includes('released'), 'released after redeploy');
  });

  it('restart (registry reloaded from disk) keeps entries, and expiry still fires', async () => {
    await load();
    send({ payload: { mitigation: loadMasterMitigation('10.0.4.2/32') }, ttl: '1h' });
    await until(() => out.length === 1, 'armed');
    const expiresAt = out[0].payload.entry.expiresAt;
    await helper.unload();
    await closeRegistries();
    await load();
    const e = registry().list()[0];
    assert.equal(e.state, 'active');
    assert.equal(e.expiresAt, expiresAt, 'absolute expiry, not restarted from the full TTL');
    const c = fakeTime();
    await c.tickAsync(HOUR);
    await until(() => topics().includes('released'), 'released after restart');
  });

  it('entries that fell due while Node-RED was down are released within 10 s of start', async () => {
    await load();
    for (const t of ['10.0.5.1/32', '10.0.5.2/32', '10.0.5.3/32']) {
      send({ payload: { mitigation: loadMasterMitigation(t) }, ttl: '60s' });
    }
    await until(() => out.length === 3, 'armed');
    await helper.unload();
    await closeRegistries();
    clock = sinon.useFakeTimers({ now: Date.now() + 5 * 60_000, toFake: ['Date'] }); // down for five minutes
    const startedAt = Date.now();
    await load();
    await until(() => control('lm').releases.length === 3, 'overdue releases', 10_000);
    for (const r of control('lm').releases) assert.ok(r.at - startedAt < 10_000);
    await until(() => registry().list().every((e) => e.state === 'released'), 'all released');
  });

  it('deleting the TTL node does not forget its entries: they are still released on time', async () => {
    await load();
    const c = fakeTime();
    send({ payload: { mitigation: loadMasterMitigation('10.0.6.1/32') }, ttl: '10s' });
    await until(() => out.length === 1, 'armed');
    await helper.unload();
    await load({}, false);
    assert.equal(registry().list()[0].state, 'active');
    await c.tickAsync(10_000);
    await until(() => control('lm').releases.length === 1, 'release without a TTL node');
    await until(() => registry().list()[0].state === 'released', 'released state');
  });

  it('reconcile re-applies entries missing on the appliance and reports tagged strangers', async () => {
    const c = fakeTime(); // before load: the node starts its reconcile timer when it starts
    await load({ reconcile: 1 });
    control('lm').listed = ['10.9.9.9/32'];
    send({ payload: { mitigation: loadMasterMitigation('10.0.7.1/32'), event: { id: 'ads-7' } } });
    await until(() => out.length === 1, 'armed');
    await c.tickAsync(60_000);
    await until(() => topics().includes('reconciled'), 'reconciled');
    const rep = out.find((m) => m.topic === 'reconciled')!.payload;
    assert.deepEqual(rep.reapplied, ['10.0.7.1/32']);
    assert.deepEqual(rep.unknown, ['10.9.9.9/32']);
    assert.ok(control('lm').reapplied[0].comment.startsWith(LOADMASTER_COMMENT_TAG));
  });
});
