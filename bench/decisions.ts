// Approving 1,000 held blocks: 1,000 events through the LoadMaster ACL node with approval "always" (each held) and
// the TTL node (recorded in the real registry, journaled in a user directory), then one decideMany approving them
// all. Measures the time until all 1,000 are on the simulated LoadMaster against what its pacing allows, the add
// calls (one per block) and the order (by priority, highest first). Runs at 200 calls per 1 s; set
// BENCH_DECISIONS_FULL=1 for the default pacing (25 calls per 3 s, about 120 s more).
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import configNode = require('../nodes/flowmon-loadmaster-config/flowmon-loadmaster-config');
import aclNode = require('../nodes/flowmon-loadmaster-acl/flowmon-loadmaster-acl');
import ttlNode = require('../nodes/flowmon-mitigation-ttl/flowmon-mitigation-ttl');
import { PRIORITIES, type AdsEvent, type Priority } from '../lib/ads/event';
import { closeRegistries, getRegistry, registryFile } from '../lib/registry';
import { queuePriority } from '../lib/safety/approval';
import { startLoadMasterSimulator } from '../simulators/loadmaster';
import type { BenchRow } from './table';

const BLOCKS = 1000;
const LATENCY_MS = 20;

interface Pace {
  calls: number;
  windowS: number;
}

function event(source: string, n: number, priority: Priority): AdsEvent {
  return {
    kind: 'ads', format: 'json-ads', id: String(n), detectedAt: null, firstFlowAt: null, method: 'SCANS', subtype: null,
    mitre: null, description: 'port scan', perspective: null, priority, detail: '', ports: null, protocol: null, source,
    sourceName: null, targets: [], dataFeed: null, userIdentity: null, raw: '',
  };
}

const sourceAddress = (i: number) => `198.18.${Math.floor(i / 250)}.${(i % 250) + 1}`;

/** The shortest time the pacing allows for `calls` calls: full windows between the first and last start, plus one reply. */
function pacingFloorMs(calls: number, p: Pace): number {
  return Math.floor((calls - 1) / p.calls) * p.windowS * 1000 + LATENCY_MS;
}

function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = () => {
      if (cond()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`bench decisions: timed out waiting for ${what}`));
      setTimeout(check, 5);
    };
    check();
  });
}

async function runScenario(p: Pace): Promise<BenchRow[]> {
  const name = `approve ${BLOCKS.toLocaleString('en-US')} held blocks, ${p.calls} calls/${p.windowS} s`;
  const sim = await startLoadMasterSimulator({
    // The appliance's own limit stays above the pacing, as on a real LoadMaster (30 calls per 3 s).
    switches: { latencyMs: LATENCY_MS, rateLimit: true, rateLimitCalls: Math.ceil(p.calls * 1.2), rateLimitWindowMs: p.windowS * 1000 },
  });
  const userDir = mkdtempSync(join(tmpdir(), 'flowmon-bench-decisions-'));
  helper.settings({ userDir });
  await new Promise<void>((resolve) => helper.startServer(() => resolve()));
  const flow = [
    { id: 'f1', type: 'tab' },
    {
      id: 'c1', type: 'flowmon-loadmaster-config', url: sim.url, tlsFingerprint: sim.fingerprint,
      rateCalls: String(p.calls), rateWindow: String(p.windowS), approval: 'always', decideWithin: '60',
    },
    { id: 'acl', z: 'f1', type: 'flowmon-loadmaster-acl', config: 'c1', action: 'add', list: 'block', scope: 'global', wires: [['ttl'], ['nok']] },
    { id: 'ttl', z: 'f1', type: 'flowmon-mitigation-ttl', ttl: 1, ttlUnit: 'h', reconcile: 0, wires: [['life']] },
    { id: 'life', z: 'f1', type: 'helper' },
    { id: 'nok', z: 'f1', type: 'helper' },
  ];
  await helper.load([configNode, aclNode, ttlNode], flow, { c1: { apiKey: sim.apiKey } });
  const registry = getRegistry({ settings: { userDir } });
  let held = 0;
  let applied = 0;
  let notDone = 0;
  (helper.getNode('life') as unknown as NodeJS.EventEmitter).on('input', (m: { topic?: string }) => {
    if (m.topic === 'held') held++;
    if (m.topic === 'applied') applied++;
  });
  (helper.getNode('nok') as unknown as NodeJS.EventEmitter).on('input', () => notDone++);
  const priorityOf = new Map<string, number>();
  const acl = helper.getNode('acl');
  for (let n = 0; n < BLOCKS; n++) {
    const priority = PRIORITIES[n % PRIORITIES.length];
    priorityOf.set(`${sourceAddress(n)}/32`, queuePriority(priority));
    acl.receive({ payload: event(sourceAddress(n), n, priority) } as never);
  }
  await until(() => held + notDone >= BLOCKS, 60_000, 'every block held');
  const ids = registry.list().filter((e) => e.state === 'held').map((e) => e.id);
  const journalBytes = statSync(registryFile(userDir)).size;

  const started = Date.now();
  const results = await registry.decisions.decideMany(ids, { action: 'approve', by: { kind: 'flow', node: 'bench' } });
  const journaledMs = Date.now() - started;
  const timeoutMs = pacingFloorMs(BLOCKS, p) * 2 + 30_000;
  await until(() => sim.state.lists.block.length >= BLOCKS, timeoutMs, 'every block on the LoadMaster');
  const elapsed = Date.now() - started;
  await until(() => applied >= BLOCKS, 30_000, 'every applied message');

  const adds = sim.calls.entries.filter((c) => c.verb === 'add');
  let outOfOrder = 0;
  for (let i = 1; i < adds.length; i++) {
    if ((priorityOf.get(adds[i].addr) ?? 0) > (priorityOf.get(adds[i - 1].addr) ?? 0)) outOfOrder++;
  }
  const approved = results.filter((r) => r.status === 'approved').length;
  const floor = pacingFloorMs(BLOCKS, p);
  const defaultPace = p.calls === 25 && p.windowS === 3;
  const rows: BenchRow[] = [
    { area: 'decisions', metric: `${name}: held / approved`, value: `${ids.length} / ${approved}`, target: `${BLOCKS} / ${BLOCKS}`, ok: ids.length === BLOCKS && approved === BLOCKS },
    { area: 'decisions', metric: `${name}: decideMany answered (all journaled; ${(journalBytes / 1e6).toFixed(1)} MB journal)`, value: `${journaledMs} ms`, target: 'informational' },
    {
      area: 'decisions',
      metric: `${name}: all on the LoadMaster (pacing allows ${(floor / 1000).toFixed(2)} s)`,
      value: `${(elapsed / 1000).toFixed(2)} s`,
      // Held to +10 % at the default pacing; at a faster one the calls in flight and the replies' latency count too.
      target: defaultPace ? `<= ${((floor * 1.1) / 1000).toFixed(2)} s (+10 %)` : 'informational',
      ok: defaultPace ? elapsed <= floor * 1.1 : undefined,
    },
    { area: 'decisions', metric: `${name}: add calls`, value: String(adds.length), target: String(BLOCKS), ok: adds.length === BLOCKS },
    { area: 'decisions', metric: `${name}: adds out of priority order`, value: String(outOfOrder), target: '0', ok: outOfOrder === 0 },
    { area: 'decisions', metric: `${name}: dropped connections`, value: String(sim.droppedConnections), target: '0', ok: sim.droppedConnections === 0 },
  ];
  if (!defaultPace) {
    const ceiling = pacingFloorMs(BLOCKS, { calls: 25, windowS: 3 });
    rows.push({
      area: 'decisions',
      metric: `approve ${BLOCKS.toLocaleString('en-US')} held blocks at the default 25 calls/3 s: pacing allows`,
      value: `${(ceiling / 1000).toFixed(2)} s`,
      target: 'ceiling (BENCH_DECISIONS_FULL=1 measures it)',
    });
  }
  await helper.unload();
  await closeRegistries();
  await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
  await sim.close();
  rmSync(userDir, { recursive: true, force: true });
  return rows;
}

export async function run(): Promise<BenchRow[]> {
  helper.init(require.resolve('node-red'));
  const paces: Pace[] = [{ calls: 200, windowS: 1 }];
  if (process.env.BENCH_DECISIONS_FULL === '1') paces.push({ calls: 25, windowS: 3 });
  const rows: BenchRow[] = [];
  for (const p of paces) rows.push(...(await runScenario(p)));
  return rows;
}
