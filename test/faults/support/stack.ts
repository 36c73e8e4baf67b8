// The system under fault: a real Node-RED child process running the main example flow (patched per scenario)
// against the LoadMaster and CryptoSpike simulators. Observation only through HTTP replies, the simulators, the
// registry admin API and file, and Node-RED's log (function taps that log each message as one JSON line).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../../demo/paths';
import { NodeRed } from '../../e2e/support/node-red';
import {
  CryptoSpikeSimulator,
  CryptoSpikeSimulatorOptions,
  startCryptoSpikeSimulator,
} from '../../../simulators/cryptospike';
import { LoadMasterSimulator, LoadMasterSimulatorOptions, startLoadMasterSimulator } from '../../../simulators/loadmaster';
import type { RegistryEntry } from '../../../lib/registry/entry';
import { DATA_DIR } from '../../../lib/durable/private-files';

export const EXAMPLE_FILE = join(repoRoot, 'examples', 'ADS to LoadMaster and CryptoSpike.json');
export const REGISTRY_FILE = join(DATA_DIR, 'flowmon-response-registry.jsonl');
export const SHARED_SECRET = 'ads-shared-secret-Q7vK2pX9';
export const ADS_PATH = '/flowmon/ads';
const TAP_MARK = 'FAULTS-TAP ';

export type FlowNode = Record<string, unknown> & { id: string; type: string; z?: string; wires?: string[][] };

export function loadExample(): FlowNode[] {
  return JSON.parse(readFileSync(EXAMPLE_FILE, 'utf8')) as FlowNode[];
}

export function nodeOfType(flow: FlowNode[], type: string): FlowNode {
  const found = flow.filter((n) => n.type === type);
  if (found.length !== 1) throw new Error(`the example flow has ${found.length} nodes of type ${type}, expected 1`);
  return found[0];
}

export function nodeNamed(flow: FlowNode[], type: string, name: RegExp): FlowNode {
  const found = flow.find((n) => n.type === type && name.test(String(n.name ?? '')));
  if (!found) throw new Error(`no ${type} node named ${name} in the example flow`);
  return found;
}

/** Adds a function node, wired from `from`'s output `output`, that logs every message it gets as one JSON line. */
export function tap(flow: FlowNode[], from: FlowNode, output: number, tag: string): void {
  const id = `faults-tap-${tag}`;
  if (!flow.some((n) => n.id === id)) {
    flow.push({
      id,
      type: 'function',
      z: from.z,
      name: `tap ${tag}`,
      func:
        // Everything but the HTTP request and response objects (not serialisable).
        'const { req, res, ...rest } = msg;\n' +
        `node.log(${JSON.stringify(TAP_MARK)} + JSON.stringify({ tag: ${JSON.stringify(tag)}, at: Date.now(), ...rest }));\nreturn null;`,
      outputs: 0,
      wires: [],
    });
  }
  const wires = (from.wires ??= []);
  while (wires.length <= output) wires.push([]);
  wires[output].push(id);
}

/** Taps the status of every node on the tab (a core status node). */
export function tapStatus(flow: FlowNode[], tag = 'status'): void {
  const tab = flow.find((n) => n.type === 'tab')!;
  const statusNode: FlowNode = { id: 'faults-status', type: 'status', z: tab.id, name: 'all status', scope: null, wires: [[]] };
  flow.push(statusNode);
  tap(flow, statusNode, 0, tag);
}

/** Taps every output of the parser, the appliance nodes, the TTL nodes and the catch node. */
export function tapEverything(flow: FlowNode[]): void {
  const parser = nodeOfType(flow, 'flowmon-ads-event');
  tap(flow, parser, 0, 'event');
  tap(flow, parser, 1, 'rejected');
  tap(flow, parser, 2, 'receipt');
  const acl = nodeOfType(flow, 'flowmon-loadmaster-acl');
  tap(flow, acl, 0, 'lm-done');
  tap(flow, acl, 1, 'lm-not-done');
  const user = nodeOfType(flow, 'flowmon-cryptospike-user');
  tap(flow, user, 0, 'cs-acted');
  tap(flow, user, 1, 'cs-not-acted');
  const ttls = flow.filter((n) => n.type === 'flowmon-mitigation-ttl');
  ttls.forEach((ttl, i) => tap(flow, ttl, 0, `ttl${i}`));
  for (const c of flow.filter((n) => n.type === 'catch')) tap(flow, c, 0, 'error');
}

/** Settings of the example that a scenario not about pacing or the storm cap lifts so that it runs in seconds. */
export function fastSettings(flow: FlowNode[]): void {
  Object.assign(nodeOfType(flow, 'flowmon-loadmaster-config'), { rateCalls: 200, rateWindow: 1, stormCap: 100000 });
  Object.assign(nodeOfType(flow, 'flowmon-cryptospike-config'), { stormCap: 100000, concurrency: 8 });
}

export interface TapRecord {
  tag: string;
  at: number;
  statusCode?: number;
  topic?: string;
  payload: Record<string, unknown> & { mitigation?: Record<string, unknown> };
  status?: { text?: string; fill?: string; source?: { id: string; type: string } };
}

export interface PostResult {
  status: number;
  ms: number;
  body: { accepted?: number; rejected?: number; filtered?: number; error?: string } | null;
  /** Set when the request never got an answer (Node-RED killed, connection reset). */
  error?: string;
}

export interface StackOptions {
  lm?: LoadMasterSimulatorOptions;
  cs?: CryptoSpikeSimulatorOptions;
  /** CryptoSpike sign-in: an API token (default) or user name and password. */
  csAuth?: 'token' | 'user';
  blockTtl?: string;
  /** Changes to the deployed copy of the example (never the file). */
  patch?: (flow: FlowNode[]) => void;
  /** Default true: every output of the flow is logged by a tap. */
  tapAll?: boolean;
}

export class Stack {
  private constructor(
    readonly nr: NodeRed,
    readonly lm: LoadMasterSimulator,
    readonly cs: CryptoSpikeSimulator,
    readonly flow: FlowNode[],
    readonly env: Record<string, string>,
  ) {}

  static async start(options: StackOptions = {}): Promise<Stack> {
    const lm = await startLoadMasterSimulator({
      ...options.lm,
      // Default: the appliance's own limit stays above the lifted pacing of fastSettings.
      switches: { rateLimitCalls: 250, rateLimitWindowMs: 1000, ...options.lm?.switches },
    });
    const cs = await startCryptoSpikeSimulator(options.cs);
    const env: Record<string, string> = {
      LOADMASTER_URL: lm.url,
      LOADMASTER_APIKEY: lm.apiKey,
      LOADMASTER_TLS_FINGERPRINT: lm.fingerprint,
      LOADMASTER_TLS_INSECURE: 'false',
      CRYPTOSPIKE_URL: cs.url,
      CRYPTOSPIKE_TLS_FINGERPRINT: cs.fingerprint,
      CRYPTOSPIKE_TLS_INSECURE: 'false',
      ADS_SHARED_SECRET: SHARED_SECRET,
      BLOCK_TTL: options.blockTtl ?? '20s',
      // CRYPTOSPIKE_TOKEN is set empty: left unset, the example's token credential is not empty and wins.
      ...(options.csAuth === 'user'
        ? { CRYPTOSPIKE_TOKEN: '', CRYPTOSPIKE_USERNAME: cs.username, CRYPTOSPIKE_PASSWORD: cs.password }
        : { CRYPTOSPIKE_TOKEN: cs.apiToken }),
    };
    const flow = loadExample();
    if (options.tapAll !== false) tapEverything(flow);
    options.patch?.(flow);
    let nr: NodeRed | undefined;
    try {
      nr = await NodeRed.start({ env });
      await nr.deployFlows(flow);
      const stack = new Stack(nr, lm, cs, flow, env);
      await stack.waitUntilServing();
      return stack;
    } catch (err) {
      await nr?.dispose();
      await Promise.all([lm.close(), cs.close()]);
      throw err;
    }
  }

  /**
   * The parser's route answers (it is registered when the flow starts). Asked without the secret: the 401 comes
   * before the body is read, so the probe leaves no reject behind to be counted by a scenario.
   */
  async waitUntilServing(timeoutMs = 20000): Promise<void> {
    await waitFor(async () => (await this.post('', { secret: null })).status !== 404, timeoutMs, 'the flow to serve POST /flowmon/ads');
  }

  async post(body: string | Buffer, options: { secret?: string | null; contentType?: string } = {}): Promise<PostResult> {
    const headers: Record<string, string> = { 'Content-Type': options.contentType ?? 'text/plain' };
    const secret = options.secret === undefined ? SHARED_SECRET : options.secret;
    if (secret !== null) headers['X-ADS-Secret'] = secret;
    const started = performance.now();
    try {
      const res = await fetch(`${this.nr.baseUrl}${ADS_PATH}`, { method: 'POST', headers, body: typeof body === 'string' ? body : new Uint8Array(body), signal: AbortSignal.timeout(60000) });
      const text = await res.text();
      let parsed: PostResult['body'] = null;
      try {
        parsed = JSON.parse(text) as PostResult['body'];
      } catch {
        parsed = null;
      }
      return { status: res.status, ms: performance.now() - started, body: parsed };
    } catch (err) {
      return { status: 0, ms: performance.now() - started, body: null, error: (err as Error).message };
    }
  }

  /** Every tap record logged since `fromIndex` of the log (all of them by default). */
  taps(tag?: string, fromIndex = 0): TapRecord[] {
    const out: TapRecord[] = [];
    const log = this.nr.log.slice(fromIndex);
    let at = log.indexOf(TAP_MARK);
    while (at >= 0) {
      const end = log.indexOf('\n', at);
      const line = log.slice(at + TAP_MARK.length, end < 0 ? undefined : end);
      try {
        const record = JSON.parse(line) as TapRecord;
        if (!tag || record.tag === tag) out.push(record);
      } catch {
        // a line still being written
      }
      at = log.indexOf(TAP_MARK, at + TAP_MARK.length);
    }
    return out;
  }

  async blocks(): Promise<RegistryEntry[]> {
    return this.nr.getJson<RegistryEntry[]>('/flowmon-response/blocks');
  }

  registryFile(): string {
    try {
      return readFileSync(join(this.nr.userDir, REGISTRY_FILE), 'utf8');
    } catch {
      return '';
    }
  }

  /** Addresses on the simulated LoadMaster's global block list, without the /32. */
  lmBlocked(): string[] {
    return this.lm.state.lists.block.map((e) => e.addr.replace(/\/32$/, ''));
  }

  csBlocked(): string[] {
    return this.cs.state.blockedUsers().map((u) => u.userId);
  }

  async close(): Promise<void> {
    await this.nr.dispose();
    await Promise.all([this.lm.close(), this.cs.close()]);
  }
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 100));
  }
}

export const sleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms));

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function figures(scenario: number, text: string): void {
  console.log(`      scenario ${scenario}: ${text}`);
}

/** Runs `work` over `items` with at most `limit` at once, keeping the order of results. */
export async function pool<T, R>(items: T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export function countBy<T>(items: T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}
