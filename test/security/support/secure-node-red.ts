// A real Node-RED child process with adminAuth (users `admin`: "*" and `viewer`: "read"), loading the package under
// test through nodesDir. SECURITY_PACKAGE_DIR points the suite at another checkout of the package (built), e.g. an
// older commit, to show that each test fails on the behaviour it guards against. FLOWMON_TEST_RED_JS and
// FLOWMON_TEST_NODE choose the Node-RED and the Node it runs on, as for the end-to-end harness.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { repoRoot } from '../../../demo/paths';
import { defaultNodeBinary, defaultRedJs, freePort, freshDir } from '../../e2e/support/node-red';

const bcrypt = require('bcryptjs') as { hashSync(password: string, rounds: number): string };

/** The package under test: this checkout, or SECURITY_PACKAGE_DIR. */
export const packageDir = process.env.SECURITY_PACKAGE_DIR ? resolve(process.env.SECURITY_PACKAGE_DIR) : repoRoot;

export type UserName = 'admin' | 'viewer';
export const PASSWORDS: Record<UserName, string> = { admin: 'admin-pass-Hq3vZ8', viewer: 'viewer-pass-Lk5wT2' };
const HASHES = Object.fromEntries(Object.entries(PASSWORDS).map(([u, p]) => [u, bcrypt.hashSync(p, 8)])) as Record<UserName, string>;

export interface SecureNodeRedOptions {
  env?: Record<string, string>;
  settings?: Record<string, unknown>;
  startTimeoutMs?: number;
}

export interface Memory {
  rssKb: number;
  hwmKb: number;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export class SecureNodeRed {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private output = '';
  private tokens = new Map<UserName, string>();

  private constructor(
    readonly userDir: string,
    readonly port: number,
    private readonly options: SecureNodeRedOptions,
  ) {}

  static async start(options: SecureNodeRedOptions = {}): Promise<SecureNodeRed> {
    const nr = new SecureNodeRed(freshDir('security-node-red'), await freePort(), options);
    await nr.launch();
    return nr;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get log(): string {
    return this.output;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** The Node-RED process id (for its memory figures). */
  get pid(): number {
    if (!this.child?.pid) throw new Error('Node-RED is not running');
    return this.child.pid;
  }

  /** VmRSS and VmHWM of the Node-RED process, in kB. */
  memory(): Memory {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
  }

  private async launch(): Promise<void> {
    const settings = {
      uiPort: this.port,
      uiHost: '127.0.0.1',
      flowFile: 'flows.json',
      credentialSecret: 'security-credential-secret',
      nodesDir: [packageDir],
      editorTheme: { tours: false },
      telemetry: { enabled: false },
      logging: { console: { level: 'info', metrics: false, audit: false } },
      adminAuth: {
        type: 'credentials',
        users: [
          { username: 'admin', password: HASHES.admin, permissions: '*' },
          { username: 'viewer', password: HASHES.viewer, permissions: 'read' },
        ],
      },
      ...this.options.settings,
    };
    const settingsFile = join(this.userDir, 'settings.js');
    writeFileSync(settingsFile, `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
    const child = spawn(defaultNodeBinary(), [defaultRedJs(), '-u', this.userDir, '-s', settingsFile], {
      cwd: this.userDir,
      env: { ...process.env, ...this.options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    live.add(child);
    const collect = (chunk: Buffer): void => {
      this.output += chunk.toString();
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    this.exited = new Promise((ok) =>
      child.once('exit', (code, signal) => {
        this.output += `\n[node-red exited: code ${code}, signal ${signal}]\n`;
        this.child = undefined;
        live.delete(child);
        ok();
      }),
    );
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 60000);
    while (Date.now() < deadline) {
      if (!this.child) throw new Error(`Node-RED exited during start-up:\n${this.output}`);
      try {
        // Public with adminAuth: it says which login scheme the editor uses.
        const res = await fetch(`${this.baseUrl}/auth/login`, { signal: AbortSignal.timeout(2000) });
        if (res.ok && /"credentials"/.test(await res.text())) return;
      } catch {
        // not listening yet
      }
      await new Promise((ok) => setTimeout(ok, 200));
    }
    child.kill('SIGKILL');
    throw new Error(`Node-RED did not start:\n${this.output}`);
  }

  /** An access token for the user (POST /auth/token, as node-red-admin gets one). */
  async token(user: UserName): Promise<string> {
    const known = this.tokens.get(user);
    if (known) return known;
    const res = await fetch(`${this.baseUrl}/auth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: 'node-red-admin', grant_type: 'password', scope: user === 'admin' ? '*' : 'read', username: user, password: PASSWORDS[user] }),
    });
    if (!res.ok) throw new Error(`POST /auth/token for ${user}: HTTP ${res.status} ${await res.text()}`);
    const token = ((await res.json()) as { access_token: string }).access_token;
    this.tokens.set(user, token);
    return token;
  }

  /** An admin API request as `user` (or anonymous with null). */
  async request(user: UserName | null, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    const auth: Record<string, string> = user ? { Authorization: `Bearer ${await this.token(user)}` } : {};
    return fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { Accept: 'application/json', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...auth, ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30000),
    });
  }

  async getJson<T>(user: UserName, path: string, headers: Record<string, string> = {}): Promise<T> {
    const res = await this.request(user, 'GET', path, undefined, headers);
    if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  /** Full deployment as admin; config nodes may carry a `credentials` object. */
  async deployFlows(flows: Record<string, unknown>[]): Promise<void> {
    const v2 = { 'Node-RED-API-Version': 'v2' };
    const { rev } = await this.getJson<{ rev: string }>('admin', '/flows', v2);
    const res = await this.request('admin', 'POST', '/flows', { rev, flows }, { ...v2, 'Node-RED-Deployment-Type': 'full' });
    if (!res.ok) throw new Error(`POST /flows: HTTP ${res.status} ${await res.text()}`);
  }

  async waitForLog(pattern: RegExp, timeoutMs = 15000, fromIndex = 0): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.output.slice(fromIndex))) {
      if (Date.now() > deadline) throw new Error(`log never matched ${pattern}:\n${this.output.slice(fromIndex)}`);
      await new Promise((ok) => setTimeout(ok, 100));
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
    await this.exited;
    clearTimeout(timer);
  }
}
