// Two Node-RED processes on one private PostgreSQL, both running the main example against the same LoadMaster and
// CryptoSpike simulators on 127.0.0.1: what an operator runs behind a load balancer. Observation only through HTTP
// (the ADS endpoint, the blocks and metrics admin routes), the simulators' call logs and the Node-RED logs.
import { NodeRed } from '../../e2e/support/node-red';
import { waitFor } from '../../e2e/support/main-example';
import { startPostgres, type PgServer } from '../../support/postgres';
import { loadExample, SHARED_SECRET, ADS_PATH, type FlowNode } from '../../faults/support/stack';
import { startAppliances } from '../../../demo/appliances';
import type { LoadMasterSimulator } from '../../../simulators/loadmaster';
import type { CryptoSpikeSimulator } from '../../../simulators/cryptospike';
import type { RegistryEntry } from '../../../lib/registry/entry';

/** The leadership lease of the PostgreSQL store (the default; renewals every 2 s). */
export const LEASE_MS = 10_000;

export interface ClusterOptions {
  blockTtl?: string;
  /** Changes to the deployed copy of the example (never the file). */
  patch?: (flow: FlowNode[]) => void;
}

export interface Delivery {
  /** 0 when no answer came (instance killed, connection reset). */
  status: number;
  body: { accepted?: number; rejected?: number; error?: string } | null;
}

export class Cluster {
  private constructor(
    readonly pg: PgServer,
    readonly storeUrl: string,
    readonly lm: LoadMasterSimulator,
    readonly cs: CryptoSpikeSimulator,
    readonly nodes: NodeRed[],
  ) {}

  static async start(options: ClusterOptions = {}): Promise<Cluster> {
    const pg = await startPostgres();
    const appliances = await startAppliances({ blockTtl: options.blockTtl ?? '20s', secret: SHARED_SECRET });
    const nodes: NodeRed[] = [];
    try {
      const storeUrl = await pg.createDatabase('flowmon_ha');
      const env = { ...appliances.env, FLOWMON_RESPONSE_STORE: storeUrl };
      const flow = loadExample();
      options.patch?.(flow);
      for (let i = 0; i < 2; i++) nodes.push(await NodeRed.start({ env }));
      for (const nr of nodes) {
        const from = nr.log.length;
        await nr.deployFlows(flow);
        await nr.waitForLog(/Started flows/, 30000, from);
      }
      const cluster = new Cluster(pg, storeUrl, appliances.loadMaster, appliances.cryptoSpike, nodes);
      await cluster.waitUntilServing();
      await cluster.leaderIndex();
      return cluster;
    } catch (err) {
      await Promise.all(nodes.map((nr) => nr.dispose()));
      await appliances.close();
      await pg.destroy();
      throw err;
    }
  }

  private async waitUntilServing(): Promise<void> {
    for (let i = 0; i < this.nodes.length; i++) {
      await until(`instance ${i} to serve ${ADS_PATH}`, 30000, async () => (await this.post(i, '', null)).status !== 404);
    }
  }

  /** POST to the ADS endpoint of instance `i`; `secret: null` sends none. */
  async post(i: number, body: string, secret: string | null = SHARED_SECRET): Promise<Delivery> {
    const headers: Record<string, string> = { 'Content-Type': 'text/plain' };
    if (secret !== null) headers['X-ADS-Secret'] = secret;
    try {
      const res = await fetch(`${this.nodes[i].baseUrl}${ADS_PATH}`, { method: 'POST', headers, body, signal: AbortSignal.timeout(30000) });
      const text = await res.text();
      return { status: res.status, body: parseJson(text) };
    } catch {
      return { status: 0, body: null };
    }
  }

  blocks(i: number): Promise<RegistryEntry[]> {
    return this.nodes[i].getJson<RegistryEntry[]>('/flowmon-response/blocks');
  }

  /** The `flowmon_releaser` gauge of instance `i` (1 on the instance that runs expiry and releases). */
  async isReleaser(i: number): Promise<boolean> {
    const res = await this.nodes[i].request('GET', '/flowmon-response/metrics', undefined, { Accept: 'text/plain' });
    if (!res.ok) throw new Error(`GET metrics of instance ${i}: HTTP ${res.status}`);
    return /^flowmon_releaser(\{[^}]*\})? 1$/m.test(await res.text());
  }

  /** Which running instance releases; waits until exactly one does. */
  async leaderIndex(timeoutMs = 20000): Promise<number> {
    return until('exactly one releasing instance', timeoutMs, async () => {
      const flags: boolean[] = [];
      for (let i = 0; i < this.nodes.length; i++) flags.push(this.nodes[i].running ? await this.isReleaser(i) : false);
      return flags.filter(Boolean).length === 1 ? flags.indexOf(true) : undefined;
    });
  }

  /** LoadMaster `add` calls on the global block list, by address (without the /32). */
  lmAdds(since = 0): Map<string, number> {
    return countCalls(this.lm, 'add', since);
  }

  lmDeletes(since = 0): Map<string, number> {
    return countCalls(this.lm, 'del', since);
  }

  lmBlocked(): string[] {
    return this.lm.state.lists.block.map((e) => bare(e.addr));
  }

  /** What the simulators and the instances show now, for a failed test's message. */
  async snapshot(): Promise<string> {
    const lines = [`LoadMaster: block list ${JSON.stringify(this.lmBlocked())}, calls ${JSON.stringify(this.lm.calls.entries.map((c) => `${c.verb} ${c.addr} ${c.status}`))}`];
    for (let i = 0; i < this.nodes.length; i++) {
      const nr = this.nodes[i];
      const blocks = nr.running ? (await this.blocks(i).catch(() => [])).map((e) => `${e.target} ${e.state}${e.hold ? ` ${JSON.stringify(e.hold).slice(0, 300)}` : ''}`) : [];
      const log = nr.log.split('\n').filter((l) => !l.includes('FAULTS-TAP')).slice(-25).join('\n');
      lines.push(`instance ${i} (${nr.running ? 'running' : 'stopped'}): blocks ${JSON.stringify(blocks)}\n${log}`);
    }
    return lines.join('\n');
  }

  /** Runs a test's body; a failure carries the snapshot. */
  async explained(body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (err) {
      if (err instanceof Error) err.message += `\n--- cluster now ---\n${await this.snapshot()}`;
      throw err;
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.map((nr) => nr.dispose()));
    await Promise.all([this.lm.close(), this.cs.close()]);
    await this.pg.destroy();
  }
}

function countCalls(lm: LoadMasterSimulator, verb: string, since: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const c of lm.calls.entries) {
    if (c.verb !== verb || c.at < since) continue;
    counts.set(bare(c.addr), (counts.get(bare(c.addr)) ?? 0) + 1);
  }
  return counts;
}

export function bare(addr: string): string {
  return addr.replace(/\/32$/, '');
}

function parseJson(text: string): Delivery['body'] {
  try {
    return JSON.parse(text) as Delivery['body'];
  } catch {
    return null;
  }
}

/** Polls `probe` (every 200 ms) until it gives something other than undefined or false. */
export function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  return waitFor(what, probe, timeoutMs);
}

export const sleep = (ms: number): Promise<void> => new Promise((ok) => setTimeout(ok, ms));

/** One cluster for the suite (describe block) it is called in: started before its tests, closed after them. */
export function clusterPerSuite(options: ClusterOptions = {}): () => Cluster {
  let cluster: Cluster | undefined;
  before(async () => {
    cluster = await Cluster.start(options);
  });
  after(async () => {
    await cluster?.close();
  });
  return () => {
    if (!cluster) throw new Error('the cluster did not start');
    return cluster;
  };
}

/** One measured figure of the suite, printed in the test output (the README quotes them). */
export function figure(text: string): void {
  console.log(`      HA figure: ${text}`);
}
