// The main example deployed on a real Node-RED against the simulators.
import { startAppliances, type Appliances } from '../../../demo/appliances';
import { MAIN_EXAMPLE, readExample } from '../../../demo/examples';
import { NodeRed } from './node-red';

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
