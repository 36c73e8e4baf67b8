// The main example deployed on a Node-RED with adminAuth, against the LoadMaster and CryptoSpike simulators. One
// stack is shared by the tests that do not interfere (sharedStack); a test that needs other settings starts its own.
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startCryptoSpikeSimulator, type CryptoSpikeSimulator } from '../../../simulators/cryptospike';
import { startLoadMasterSimulator, type LoadMasterSimulator } from '../../../simulators/loadmaster';
import { fastSettings, nodeOfType, tap, waitFor, type FlowNode } from '../../faults/support/stack';
import { CommsListener } from './comms';
import { packageDir, SecureNodeRed, type Memory } from './secure-node-red';

export const SHARED_SECRET = 'ads-shared-secret-Zr8mW4qN';
export const ADS_PATH = '/flowmon/ads';
const EXAMPLE = 'ADS to LoadMaster and CryptoSpike.json';
const TAP_MARK = 'FAULTS-TAP ';

export interface Answer {
  status: number;
  ms: number;
  text: string;
  /** Set when no answer came (connection reset, timeout). */
  error?: string;
}

export interface StackOptions {
  /** The ADS_SHARED_SECRET of the Node-RED process (default SHARED_SECRET). */
  secret?: string;
  patch?: (flow: FlowNode[]) => void;
}

export class SecureStack {
  private constructor(
    readonly nr: SecureNodeRed,
    readonly lm: LoadMasterSimulator,
    readonly cs: CryptoSpikeSimulator,
    readonly flow: FlowNode[],
    readonly env: Record<string, string>,
    /** Every debug and status message the `viewer` received through the editor's websocket since the start. */
    readonly viewerComms: CommsListener,
  ) {}

  static async start(options: StackOptions = {}): Promise<SecureStack> {
    const lm = await startLoadMasterSimulator({ switches: { rateLimitCalls: 250, rateLimitWindowMs: 1000 } });
    const cs = await startCryptoSpikeSimulator();
    const env: Record<string, string> = {
      LOADMASTER_URL: lm.url,
      LOADMASTER_APIKEY: lm.apiKey,
      LOADMASTER_TLS_FINGERPRINT: lm.fingerprint,
      LOADMASTER_TLS_INSECURE: 'false',
      CRYPTOSPIKE_URL: cs.url,
      CRYPTOSPIKE_TOKEN: cs.apiToken,
      CRYPTOSPIKE_TLS_FINGERPRINT: cs.fingerprint,
      CRYPTOSPIKE_TLS_INSECURE: 'false',
      ADS_SHARED_SECRET: options.secret ?? SHARED_SECRET,
      BLOCK_TTL: '30m',
    };
    const flow = JSON.parse(readFileSync(join(packageDir, 'examples', EXAMPLE), 'utf8')) as FlowNode[];
    fastSettings(flow);
    const parser = nodeOfType(flow, 'flowmon-ads-event');
    tap(flow, parser, 0, 'event');
    tap(flow, parser, 1, 'rejected');
    options.patch?.(flow);
    let nr: SecureNodeRed | undefined;
    try {
      nr = await SecureNodeRed.start({ env });
      const comms = await CommsListener.connect(nr, 'viewer');
      await nr.deployFlows(flow);
      const stack = new SecureStack(nr, lm, cs, flow, env, comms);
      await waitFor(async () => (await stack.post('', { secret: null })).status !== 404, 20000, `the flow to serve POST ${ADS_PATH}`);
      return stack;
    } catch (err) {
      await nr?.stop();
      await Promise.all([lm.close(), cs.close()]);
      throw err;
    }
  }

  get adsUrl(): string {
    return `${this.nr.baseUrl}${ADS_PATH}`;
  }

  /** POST to the intake; secret null sends no X-ADS-Secret header. */
  async post(body: string, options: { secret?: string | null; contentType?: string; timeoutMs?: number } = {}): Promise<Answer> {
    const headers: Record<string, string> = { 'Content-Type': options.contentType ?? 'text/plain' };
    const secret = options.secret === undefined ? SHARED_SECRET : options.secret;
    if (secret !== null) headers['X-ADS-Secret'] = secret;
    const started = performance.now();
    try {
      const res = await fetch(this.adsUrl, { method: 'POST', headers, body, signal: AbortSignal.timeout(options.timeoutMs ?? 30000) });
      const text = await res.text();
      return { status: res.status, ms: performance.now() - started, text };
    } catch (err) {
      return { status: 0, ms: performance.now() - started, text: '', error: (err as Error).message };
    }
  }

  /** The parser's outputs as the flow's taps logged them: `event` (output 1) and `rejected` (output 2). */
  taps(tag: 'event' | 'rejected'): Array<{ payload: Record<string, unknown> }> {
    const out: Array<{ payload: Record<string, unknown> }> = [];
    for (const line of this.nr.log.split('\n')) {
      const at = line.indexOf(TAP_MARK);
      if (at < 0) continue;
      try {
        const record = JSON.parse(line.slice(at + TAP_MARK.length)) as { tag: string; payload: Record<string, unknown> };
        if (record.tag === tag) out.push(record);
      } catch {
        // a line still being written
      }
    }
    return out;
  }

  lmBlocked(): string[] {
    return this.lm.state.lists.block.map((e) => e.addr.replace(/\/(32|128)$/, ''));
  }

  csBlocked(): Array<{ userId: string; username: string }> {
    return this.cs.state.blockedUsers().map((u) => ({ userId: u.userId, username: u.username }));
  }

  /** The package's journal files anywhere under the userDir, with their sizes. */
  journals(): Array<{ path: string; size: number }> {
    return journalFiles(this.nr.userDir).map((path) => ({ path, size: statSync(path).size }));
  }

  journalBytes(): number {
    return this.journals().reduce((sum, j) => sum + j.size, 0);
  }

  async close(): Promise<void> {
    this.viewerComms.close();
    await this.nr.stop();
    await Promise.all([this.lm.close(), this.cs.close()]);
    rmSync(this.nr.userDir, { recursive: true, force: true });
  }
}

/** Files under `dir` whose name starts with `flowmon-response` or that lie in a folder so named. */
export function journalFiles(dir: string, inside = false): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const ours = inside || entry.name.startsWith('flowmon-response');
    if (entry.isDirectory() && entry.name !== 'node_modules') out.push(...journalFiles(path, ours));
    else if (entry.isFile() && ours) out.push(path);
  }
  return out;
}

let shared: Promise<SecureStack> | undefined;

/**
 * The stack most tests share; closed by the root hook after the last test. When an earlier test left its Node-RED
 * dead, a fresh stack starts, so that each test is judged on its own attack.
 */
export async function sharedStack(): Promise<SecureStack> {
  const current = await shared?.catch(() => undefined);
  if (current && !current.nr.running) {
    console.log('      (the shared Node-RED had exited; starting a fresh one)');
    await current.close();
    shared = undefined;
  }
  shared ??= SecureStack.start();
  return shared;
}

export async function closeSharedStack(): Promise<void> {
  if (!shared) return;
  const s = await shared.catch(() => undefined);
  shared = undefined;
  await s?.close();
}

/** One line per measured figure, the same shape everywhere: `figure: attack N: …`. */
export function figure(attack: number | string, text: string): void {
  console.log(`      figure: attack ${attack}: ${text}`);
}

export const mb = (kb: number): string => `${(kb / 1024).toFixed(1)} MB`;

/**
 * Samples the Node-RED process's memory while `work` runs. Growth = the highest resident size seen (sampled every
 * 20 ms, and VmHWM when it rose during the work) minus the resident size before.
 */
export async function measureMemory<T>(nr: SecureNodeRed, work: () => Promise<T>): Promise<{ result: T; growthKb: number; before: Memory }> {
  const before = nr.memory();
  let peak = before.rssKb;
  const timer = setInterval(() => {
    try {
      const { rssKb } = nr.memory();
      if (Number.isFinite(rssKb)) peak = Math.max(peak, rssKb);
    } catch {
      // the process is gone; the test says so
    }
  }, 20);
  try {
    const result = await work();
    let after = before;
    try {
      after = nr.memory();
    } catch {
      // as above
    }
    if (after.hwmKb > before.hwmKb) peak = Math.max(peak, after.hwmKb);
    if (Number.isFinite(after.rssKb)) peak = Math.max(peak, after.rssKb);
    return { result, growthKb: Math.max(0, peak - before.rssKb), before };
  } finally {
    clearInterval(timer);
  }
}

export { waitFor, sleep, nodeOfType, type FlowNode } from '../../faults/support/stack';
