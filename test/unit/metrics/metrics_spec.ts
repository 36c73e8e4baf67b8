import assert from 'node:assert/strict';
import { HistoryRecorder } from '../../../lib/history/recorder';
import { HistoryStore } from '../../../lib/history/store';
import { connectLoadMaster } from '../../../lib/loadmaster/create';
import { readLoadMasterSettings } from '../../../lib/loadmaster/settings';
import { BLOCK_STATES, FlowmonMetrics } from '../../../lib/metrics/metrics';
import { signalIntake } from '../../../lib/metrics/signals';
import type { MitigationAppliance } from '../../../lib/mitigation/types';
import { startLoadMasterSimulator } from '../../../simulators/loadmaster';
import { holdRequest, runtime } from '../decisions/support';
import { NamedAppliance } from '../history/support';
import { parseExposition } from './exposition';

const kind = 'loadmaster' as const;
const key = (configId: string, target: string) => ({ configId, scope: 'global:block', target });

describe('Prometheus metrics', () => {
  const lm1 = new NamedAppliance('edge LM');
  const lm2 = new NamedAppliance('core "LM"');
  lm2.releaseError = new Error('LoadMaster answered 500');
  const appliances = new Map<string, MitigationAppliance>([['lm1', lm1], ['lm2', lm2]]);
  const name = (id: string) => (appliances.get(id) as NamedAppliance | undefined)?.name ?? id;
  let rt: ReturnType<typeof runtime>;
  let store: HistoryStore;
  let recorder: HistoryRecorder;
  let metrics: FlowmonMetrics;
  const depths = new Map<string, number>();

  beforeEach(() => {
    rt = runtime(undefined, appliances);
    store = new HistoryStore();
    recorder = new HistoryRecorder(store, rt.registry, { applianceName: name });
    recorder.start();
    metrics = new FlowmonMetrics({
      entries: () => rt.registry.values(),
      queues: () => [...depths].map(([configId, depth]) => ({ configId, depth })),
      applianceName: name,
      history: store,
    });
    metrics.start();
  });
  afterEach(async () => {
    metrics.stop();
    recorder.stop();
    await rt.registry.shutdown();
  });

  it('reports the registry counts by appliance and state, and the decisions from the history', async () => {
    const reg = rt.registry;
    for (let i = 1; i <= 3; i++) await reg.arm({ key: key('lm1', `10.0.0.${i}/32`), kind, ttlSeconds: 600 });
    await reg.arm({ key: key('lm1', '10.0.0.9/32'), kind, ttlSeconds: 600, simulated: true });
    await reg.hold({ key: key('lm1', '10.0.1.1/32'), kind, hold: holdRequest(), ttlSeconds: 600 });
    await reg.hold({ key: key('lm1', '10.0.1.2/32'), kind, hold: holdRequest(), ttlSeconds: 600 });
    const pending = (await reg.arm({ key: key('lm2', '10.0.2.1/32'), kind, ttlSeconds: 600 })).entry;
    await reg.releaseNow(pending.id);
    await reg.arm({ key: key('lm2', '10.0.2.2/32'), kind, ttlSeconds: 600 });
    const orphan = (await reg.arm({ key: key('gone', '10.0.3.1/32'), kind, ttlSeconds: 600 })).entry;
    await reg.releaseNow(orphan.id);
    const released = (await reg.arm({ key: key('lm1', '10.0.4.1/32'), kind, ttlSeconds: 600 })).entry;
    await reg.releaseNow(released.id);
    depths.set('lm1', 7).set('lm2', 0);
    await recorder.idle();

    const { types, samples } = parseExposition(await metrics.text());
    assert.equal(metrics.contentType.split(';')[0], 'text/plain');
    assert.equal(types.get('flowmon_blocks'), 'gauge');
    for (const [configId, appliance] of [['lm1', 'edge LM'], ['lm2', 'core \\"LM\\"'], ['gone', 'gone']]) {
      const s = reg.summary((e) => e.configId === configId);
      const want: Record<string, number> = { active: s.active, held: s.held, approving: s.approving, 'release-pending': s.pending, orphaned: s.orphaned };
      for (const state of BLOCK_STATES) {
        assert.equal(samples.get(`flowmon_blocks{appliance="${appliance}",state="${state}"}`), want[state], `${configId} ${state}`);
      }
    }
    assert.equal(samples.get('flowmon_blocks{appliance="edge LM",state="active"}'), 4);
    assert.equal(samples.get('flowmon_blocks{appliance="edge LM",state="held"}'), 2);
    assert.equal(samples.get('flowmon_blocks{appliance="core \\"LM\\"",state="release-pending"}'), 1);
    assert.equal(samples.get('flowmon_blocks{appliance="gone",state="orphaned"}'), 1);
    assert.equal(samples.get('flowmon_queue_depth{appliance="edge LM"}'), 7);
    assert.equal(samples.get('flowmon_queue_depth{appliance="core \\"LM\\""}'), 0);

    assert.equal(types.get('flowmon_decisions_total'), 'counter');
    const decisions = (action: string, appliance = 'edge LM') => samples.get(`flowmon_decisions_total{action="${action}",appliance="${appliance}"}`);
    assert.equal(decisions('blocked'), 4);
    assert.equal(decisions('simulated'), 1);
    assert.equal(decisions('held'), 2);
    assert.equal(decisions('released'), 1);
    assert.equal(decisions('release-failed', 'core \\"LM\\"'), 1);
    const recorded = store.query({ limit: 1000 }).records.length;
    const counted = [...samples].filter(([k]) => k.startsWith('flowmon_decisions_total{')).reduce((a, [, v]) => a + v, 0);
    assert.equal(counted, recorded, 'one count per history record');
  });

  it('counts ADS intake outcomes, every one reported from the start', async () => {
    signalIntake('accepted', 5);
    signalIntake('filtered', 2);
    signalIntake('unauthorized');
    signalIntake('rejected', 0);
    const { samples } = parseExposition(await metrics.text());
    const got = ['accepted', 'rejected', 'filtered', 'unauthorized', 'too_large'].map((o) => samples.get(`flowmon_events_total{outcome="${o}"}`));
    assert.deepEqual(got, [5, 0, 2, 1, 0]);
  });

  it('counts and times each real LoadMaster call by operation and result', async function () {
    this.timeout(30_000);
    const sim = await startLoadMasterSimulator();
    const fields = { url: sim.url, tlsFingerprint: sim.fingerprint, timeout: 5, outageRetry: 0 };
    const good = connectLoadMaster(readLoadMasterSettings(fields, { apiKey: sim.apiKey }), 'lm1');
    const wrongKey = connectLoadMaster(readLoadMasterSettings(fields, { apiKey: 'not-the-key' }), 'lm2');
    try {
      await good.client.add('block', 'global', '192.0.2.7/32', '[flowmon-nr] test');
      await good.client.list('block', 'global');
      await assert.rejects(wrongKey.client.list('block', 'global'));
      const { types, samples } = parseExposition(await metrics.text());
      assert.equal(samples.get('flowmon_appliance_calls_total{appliance="edge LM",operation="add",result="ok"}'), 1);
      assert.equal(samples.get('flowmon_appliance_calls_total{appliance="edge LM",operation="list",result="ok"}'), 1);
      assert.equal(samples.get('flowmon_appliance_calls_total{appliance="core \\"LM\\"",operation="list",result="error"}'), 1);
      assert.equal(types.get('flowmon_appliance_call_duration_seconds'), 'histogram');
      assert.equal(samples.get('flowmon_appliance_call_duration_seconds_count{appliance="edge LM",operation="add"}'), 1);
      const sum = samples.get('flowmon_appliance_call_duration_seconds_sum{appliance="edge LM",operation="add"}') as number;
      assert.ok(sum > 0 && sum < 5, `duration ${sum} s`);
      assert.equal(samples.get('flowmon_appliance_call_duration_seconds_bucket{appliance="edge LM",le="+Inf",operation="add"}'), 1);
    } finally {
      await good.close();
      await wrongKey.close();
      await sim.close();
    }
  });

  it('reports whether the store answers and whether this instance is the releaser, read at each scrape', async () => {
    const state = { up: true, releaser: true };
    const own = new FlowmonMetrics({ entries: () => [], queues: () => [], applianceName: name, store: () => state });
    const read = async () => {
      const { types, samples } = parseExposition(await own.text());
      assert.equal(types.get('flowmon_store_up'), 'gauge');
      assert.equal(types.get('flowmon_releaser'), 'gauge');
      return [samples.get('flowmon_store_up{}'), samples.get('flowmon_releaser{}')];
    };
    assert.deepEqual(await read(), [1, 1]);
    state.up = false;
    state.releaser = false;
    assert.deepEqual(await read(), [0, 0]);
  });

  it('uses a registry of its own: the global prom-client registry stays empty', async () => {
    const promClient = await import('prom-client');
    assert.deepEqual(promClient.register.getMetricsAsArray(), []);
  });
});
