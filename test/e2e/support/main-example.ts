// The example flows as files, and the main one deployed on a real Node-RED against the simulators.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAppliances, type Appliances } from './appliances';
import { NodeRed, repoRoot } from './node-red';

export const EXAMPLES_DIR = join(repoRoot, 'examples');
export const MAIN_EXAMPLE = 'ADS to LoadMaster and CryptoSpike';

export type FlowNode = Record<string, unknown> & { id: string; type: string };

export function exampleNames(): string[] {
  return readdirSync(EXAMPLES_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

export function readExample(name: string): FlowNode[] {
  return JSON.parse(readFileSync(join(EXAMPLES_DIR, `${name}.json`), 'utf8')) as FlowNode[];
}

export interface MainExample {
  nr: NodeRed;
  appliances: Appliances;
  /** POST /flowmon/ads on Node-RED. */
  adsUrl: string;
  secret: string;
  dispose(): Promise<void>;
}

export async function startMainExample(blockTtl: string): Promise<MainExample> {
  const appliances = await startAppliances({ blockTtl });
  let nr: NodeRed | undefined;
  try {
    nr = await NodeRed.start({ env: appliances.env });
    const from = nr.log.length;
    await nr.deployFlows(readExample(MAIN_EXAMPLE));
    await nr.waitForLog(/Started flows/, 15000, from);
  } catch (err) {
    await nr?.dispose();
    await appliances.close();
    throw err;
  }
  const started = nr;
  return {
    nr: started,
    appliances,
    adsUrl: `${started.baseUrl}/flowmon/ads`,
    secret: appliances.env.ADS_SHARED_SECRET,
    dispose: async () => {
      await started.dispose();
      await appliances.close();
    },
  };
}

export interface BlockEntry {
  id: string;
  kind: string;
  target: string;
  state: string;
  expiresAt: number;
  eventIds: string[];
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 200));
  }
}
