// Prints the package's metrics exposition from a real run, for `promtool check metrics` in CI: a runtime registry
// in a temporary user directory with blocks in every state, its history recorder and metrics as the observability
// plugin starts them, ADS intake counts and real calls to the LoadMaster simulator.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EventEmitter } from 'node:events';
import { closeHistories } from '../../../lib/history';
import { connectLoadMaster } from '../../../lib/loadmaster/create';
import { readLoadMasterSettings } from '../../../lib/loadmaster/settings';
import { closeMetrics, getMetrics } from '../../../lib/metrics/runtime';
import { signalIntake } from '../../../lib/metrics/signals';
import type { MitigationAppliance } from '../../../lib/mitigation/types';
import { closeRegistries, getRegistry } from '../../../lib/registry';
import { startLoadMasterSimulator } from '../../../simulators/loadmaster';
import { holdRequest } from '../decisions/support';
import { NamedAppliance } from '../history/support';

async function main(): Promise<void> {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowmon-metrics-'));
  // Deployed config nodes as the metrics find them: each with the depth of its call queue.
  const edge = Object.assign(new NamedAppliance('edge LM'), { loadMaster: { queueDepth: 3 } });
  const core = Object.assign(new NamedAppliance('core LM'), { loadMaster: { queueDepth: 0 } });
  const appliances = new Map<string, MitigationAppliance>([['lm1', edge], ['lm2', core]]);
  const eachNode = (fn: (def: { id: string; type: string }) => void) => {
    for (const id of appliances.keys()) fn({ id, type: 'flowmon-loadmaster-config' });
  };
  const events = new EventEmitter();
  const red = {
    settings: { userDir },
    nodes: { getNode: (id: string) => appliances.get(id) ?? null, eachNode },
    events,
    log: { warn: (m: unknown) => process.stderr.write(`${String(m)}\n`) },
  };
  const metrics = getMetrics(red);
  const registry = getRegistry(red);
  events.emit('flows:started');
  const kind = 'loadmaster' as const;
  for (let i = 1; i <= 5; i++) await registry.arm({ key: { configId: 'lm1', scope: 'global:block', target: `10.0.0.${i}/32` }, kind, ttlSeconds: 600, eventId: String(i) });
  await registry.hold({ key: { configId: 'lm2', scope: 'global:block', target: '10.0.1.1/32' }, kind, hold: holdRequest(), ttlSeconds: 600 });
  const gone = await registry.arm({ key: { configId: 'gone', scope: 'global:block', target: '10.0.2.1/32' }, kind, ttlSeconds: 600 });
  await registry.releaseNow(gone.entry.id);
  signalIntake('accepted', 12);
  signalIntake('rejected', 1);
  signalIntake('too_large');

  const sim = await startLoadMasterSimulator();
  const lm = connectLoadMaster(readLoadMasterSettings({ url: sim.url, tlsFingerprint: sim.fingerprint, timeout: 5 }, { apiKey: sim.apiKey }), 'lm1');
  try {
    await lm.client.add('block', 'global', '192.0.2.1/32', '[flowmon-nr] ci');
    await lm.client.list('block', 'global');
  } finally {
    await lm.close();
    await sim.close();
  }
  process.stdout.write(await metrics.text());
  closeMetrics();
  await closeHistories();
  await closeRegistries();
  fs.rmSync(userDir, { recursive: true, force: true });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
