// Registry figures: durable registrations per second (group commit), and loading 100,000 active entries, measured in
// a child process so time and resident memory are the registry's alone.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MitigationRegistry } from '../lib/registry/registry';
import { BenchRow, perSecond } from './table';

const ENTRIES = 100_000;
const IN_FLIGHT = 1000;

function key(i: number) {
  return { configId: 'lm-bench', scope: 'global:block', target: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32` };
}

async function registerAll(reg: MitigationRegistry, count: number, inFlight: number): Promise<number> {
  const t0 = performance.now();
  let batch: Array<Promise<unknown>> = [];
  for (let i = 0; i < count; i++) {
    batch.push(reg.arm({ key: key(i), kind: 'loadmaster', ttlSeconds: 86_400, eventId: `ads-${i}` }));
    if (batch.length >= inFlight) {
      await Promise.all(batch);
      batch = [];
    }
  }
  await Promise.all(batch);
  return performance.now() - t0;
}

function loadInChild(file: string): { ms: number; rssMb: number; baseRssMb: number; size: number } {
  const registryModule = path.join(__dirname, '..', 'lib', 'registry', 'registry.ts');
  const code = `
    const base = process.memoryUsage().rss;
    const { MitigationRegistry } = require(${JSON.stringify(registryModule)});
    const t0 = performance.now();
    const reg = new MitigationRegistry({ file: ${JSON.stringify(file)} });
    const ms = performance.now() - t0;
    const rss = process.memoryUsage().rss;
    console.log(JSON.stringify({ ms, rssMb: rss / 1048576, baseRssMb: base / 1048576, size: reg.size }));
  `;
  const out = execFileSync(process.execPath, ['--require', 'tsx/cjs', '-e', code], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop() as string);
}

export async function run(): Promise<BenchRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowmon-bench-registry-'));
  const file = path.join(dir, 'registry.jsonl');
  try {
    const reg = new MitigationRegistry({ file });
    const ms = await registerAll(reg, ENTRIES, IN_FLIGHT);
    const single = new MitigationRegistry({ file: path.join(dir, 'single.jsonl') });
    const singleMs = await registerAll(single, 500, 1);
    await Promise.all([reg.close(), single.close()]);
    const sizeMb = fs.statSync(file).size / 1048576;
    const load = loadInChild(file);
    return [
      {
        area: 'registry',
        metric: `durable registrations (write+fsync, ${IN_FLIGHT} in flight)`,
        value: perSecond(ENTRIES, ms),
        target: '>= 5,000/s',
        ok: (ENTRIES * 1000) / ms >= 5000,
      },
      { area: 'registry', metric: 'durable registrations, one at a time', value: perSecond(500, singleMs) },
      {
        area: 'registry',
        metric: `load ${load.size.toLocaleString('en-US')} active entries (${sizeMb.toFixed(1)} MB journal)`,
        value: `${Math.round(load.ms)} ms`,
        target: '< 2,000 ms',
        ok: load.ms < 2000 && load.size === ENTRIES,
      },
      {
        area: 'registry',
        metric: `resident memory after load (process start ${Math.round(load.baseRssMb)} MB)`,
        value: `${Math.round(load.rssMb)} MB`,
        target: '< 200 MB',
        ok: load.rssMb < 200,
      },
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
