// A LoadMaster's call budget and storm gate from a shared store: named so that every instance and every config node
// pointing at one LoadMaster count together.
import assert from 'node:assert/strict';
import { connectLoadMaster, createLoadMasterRuntime, loadMasterCallBudgetName } from '../../../lib/loadmaster/create';
import { readLoadMasterSettings } from '../../../lib/loadmaster/settings';
import { FakeSharedBudgets } from '../lib/fake-shared-budget';
import { simulatorPerSuite } from './support';

describe('LoadMaster: shared call budget and storm gate', () => {
  const simulator = simulatorPerSuite();

  it('names the call budget by the normalised base URL, hashed', () => {
    const name = loadMasterCallBudgetName('https://LM.example.org:443/');
    assert.match(name, /^loadmaster-calls:[0-9a-f]{16}$/);
    assert.equal(loadMasterCallBudgetName('https://lm.example.org'), name);
    assert.notEqual(loadMasterCallBudgetName('https://lm.example.org:8443'), name);
    assert.doesNotMatch(name, /example/);
  });

  it('two config nodes on one LoadMaster share its call budget; each has its own storm count', async () => {
    const budgets = new FakeSharedBudgets();
    const settings = readLoadMasterSettings({ url: 'https://192.0.2.1', rateCalls: 20, rateWindow: 2, stormCap: 7 }, { apiKey: 'k' });
    const runtimes = ['lm1', 'lm2'].map((configId) => createLoadMasterRuntime(settings, { configId, budgets }));
    try {
      assert.deepEqual(budgets.asked, [
        { name: loadMasterCallBudgetName('https://192.0.2.1'), max: 20, windowMs: 2_000 },
        { name: 'storm:lm1', max: 7, windowMs: 60_000 },
        { name: loadMasterCallBudgetName('https://192.0.2.1'), max: 20, windowMs: 2_000 },
        { name: 'storm:lm2', max: 7, windowMs: 60_000 },
      ]);
    } finally {
      await Promise.all(runtimes.map((r) => r.close()));
    }
  });

  it('every appliance call of both connections takes a slot of the one budget', async () => {
    const sim = simulator();
    const budgets = new FakeSharedBudgets();
    const settings = readLoadMasterSettings({ url: sim.url, tlsFingerprint: sim.fingerprint, timeout: 5, outageRetry: 0 }, { apiKey: sim.apiKey });
    const connections = [connectLoadMaster(settings, 'lm1', budgets), connectLoadMaster(settings, 'lm2', budgets)];
    try {
      await Promise.all(connections.flatMap((c) => [c.client.list('block', 'global'), c.client.list('block', 'global'), c.client.list('allow', 'global')]));
      assert.equal(budgets.takes.get(loadMasterCallBudgetName(sim.url))?.length, 6);
    } finally {
      await Promise.all(connections.map((c) => c.close()));
    }
  });
});
