// A real Node-RED in a child process, loading this repository (its built dist/) through nodesDir.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { repoRoot, tmpRoot } from '../../../demo/paths';

export interface NodeRedOptions {
  /** red.js to run; defaults to FLOWMON_TEST_RED_JS, else the dev dependency. */
  redJs?: string;
  /** Node binary for Node-RED; defaults to FLOWMON_TEST_NODE, else the one running the tests. */
  nodeBinary?: string;
  /** Extra environment for the Node-RED process (added to this process's environment). */
  env?: Record<string, string>;
  /** Extra settings.js entries (JSON-serialisable), merged over the defaults. */
  settings?: Record<string, unknown>;
  /** Reuse a userDir (flows, credentials, our registry file) instead of a fresh one. */
  userDir?: string;
  /** Reuse a port (a restart keeps the address the browser and tests know). */
  port?: number;
  startTimeoutMs?: number;
}

export interface Flows {
  rev: string;
  flows: Record<string, unknown>[];
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', ok);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise((ok) => server.close(ok));
  return port;
}

export function freshDir(prefix: string): string {
  mkdirSync(tmpRoot, { recursive: true });
  return mkdtempSync(join(tmpRoot, `${prefix}-`));
}

/**
 * The Node-RED child processes of the end-to-end, fault and security suites: FLOWMON_TEST_RED_JS (a red.js) and
 * FLOWMON_TEST_NODE (a Node binary) run them on another Node-RED or Node; unset, the dev dependency on the Node
 * that runs the tests. The tests themselves keep running on that Node.
 */
export function defaultRedJs(): string {
  return process.env.FLOWMON_TEST_RED_JS || join(repoRoot, 'node_modules', 'node-red', 'red.js');
}

export function defaultNodeBinary(): string {
  return process.env.FLOWMON_TEST_NODE || process.execPath;
}

// A test run that ends abruptly (mocha --exit, a crash) must not leave Node-RED processes behind.
const liveChildren = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

function closedConnection(err: unknown): boolean {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code === 'UND_ERR_SOCKET' || cause?.code === 'ECONNRESET' || /other side closed/.test(cause?.message ?? '');
}

export class NodeRed {
  private child?: ChildProcess;
  private exited?: Promise<number | null>;
  private output = '';

  private constructor(
    readonly options: NodeRedOptions,
    readonly userDir: string,
    readonly port: number,
  ) {}

  static async start(options: NodeRedOptions = {}): Promise<NodeRed> {
    const userDir = options.userDir ?? freshDir('node-red-user');
    const instance = new NodeRed(options, userDir, options.port ?? (await freePort()));
    await instance.launch();
    return instance;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Everything Node-RED printed since it was first started (restarts append). */
  get log(): string {
    return this.output;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** The Node-RED process id (e.g. for its memory figures). */
  get pid(): number {
    if (!this.child?.pid) throw new Error('Node-RED is not running');
    return this.child.pid;
  }

  private writeSettings(): string {
    const settings = {
      uiPort: this.port,
      uiHost: '127.0.0.1',
      flowFile: 'flows.json',
      credentialSecret: 'e2e-credential-secret',
      nodesDir: [repoRoot],
      editorTheme: { tours: false },
      telemetry: { enabled: false },
      logging: { console: { level: 'info', metrics: false, audit: false } },
      ...this.options.settings,
    };
    const file = join(this.userDir, 'settings.js');
    writeFileSync(file, `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
    return file;
  }

  private async launch(): Promise<void> {
    const settingsFile = this.writeSettings();
    const redJs = this.options.redJs ?? defaultRedJs();
    const child = spawn(this.options.nodeBinary ?? defaultNodeBinary(), [redJs, '-u', this.userDir, '-s', settingsFile], {
      cwd: this.userDir,
      env: { ...process.env, ...this.options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    liveChildren.add(child);
    const collect = (chunk: Buffer): void => {
      this.output += chunk.toString();
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    this.exited = new Promise((ok) =>
      child.once('exit', (code, signal) => {
        this.output += `\n[node-red exited: code ${code}, signal ${signal}]\n`;
        this.child = undefined;
        liveChildren.delete(child);
        ok(code);
      }),
    );
    await this.waitUntilReady(this.options.startTimeoutMs ?? 60000);
  }

  private async waitUntilReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.child) throw new Error(`Node-RED exited during start-up:\n${this.output}`);
      try {
        const res = await fetch(`${this.baseUrl}/settings`, { signal: AbortSignal.timeout(2000) });
        // 401: the admin API answers, behind adminAuth.
        if (res.ok || res.status === 401) return;
      } catch {
        // not listening yet
      }
      await new Promise((ok) => setTimeout(ok, 200));
    }
    await this.kill9();
    throw new Error(`Node-RED did not answer GET /settings within ${timeoutMs} ms:\n${this.output}`);
  }

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    const send = () =>
      fetch(`${this.baseUrl}${path.startsWith('/') ? path : `/${path}`}`, {
        method,
        headers: { Accept: 'application/json', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    try {
      return await send();
    } catch (err) {
      // A GET may meet a kept-alive connection the server closed while this process was busy (a long wait that
      // parses the log): sent again once on a new connection, as a browser does. Anything else is the answer.
      if (method !== 'GET' || !closedConnection(err)) throw err;
      return send();
    }
  }

  async getJson<T>(path: string): Promise<T> {
    const res = await this.request('GET', path);
    if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  async getFlows(): Promise<Flows> {
    const res = await this.request('GET', '/flows', undefined, { 'Node-RED-API-Version': 'v2' });
    if (!res.ok) throw new Error(`GET /flows: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as Flows;
  }

  /** Full deployment; config nodes may carry a `credentials` object. Returns the new revision. */
  async deployFlows(flows: Record<string, unknown>[]): Promise<string> {
    const { rev } = await this.getFlows();
    const res = await this.request('POST', '/flows', { rev, flows }, {
      'Node-RED-API-Version': 'v2',
      'Node-RED-Deployment-Type': 'full',
    });
    if (!res.ok) throw new Error(`POST /flows: HTTP ${res.status} ${await res.text()}`);
    return ((await res.json()) as { rev: string }).rev;
  }

  /** Resolves when the log (from `fromIndex`, default: everything so far) matches. */
  async waitForLog(pattern: RegExp, timeoutMs = 15000, fromIndex = 0): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = pattern.exec(this.output.slice(fromIndex));
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`log never matched ${pattern}:\n${this.output.slice(fromIndex)}`);
      await new Promise((ok) => setTimeout(ok, 100));
    }
  }

  /** SIGTERM (node close handlers run), then wait for the exit; SIGKILL after the timeout. */
  async stop(timeoutMs = 20000): Promise<number | null> {
    const child = this.child;
    if (!child) return null;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited!;
    } finally {
      clearTimeout(timer);
    }
  }

  /** A crash: no close handlers run. */
  async kill9(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGKILL');
    await this.exited;
  }

  /** Stops it and deletes the userDir when the harness created it. */
  async dispose(): Promise<void> {
    await this.stop();
    if (!this.options.userDir) rmSync(this.userDir, { recursive: true, force: true });
  }

  /** Starts again with the same userDir and port (after stop or kill9). */
  async restart(): Promise<void> {
    if (this.child) await this.stop();
    await this.launch();
  }
}
