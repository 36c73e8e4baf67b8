// A real Node-RED child process with adminAuth (users `admin`: "*" and `viewer`: "read"), loading the package under
// test through nodesDir. SECURITY_PACKAGE_DIR points the suite at another checkout of the package (built), e.g. an
// older commit, to show that each test fails on the behaviour it guards against. FLOWMON_TEST_RED_JS and
// FLOWMON_TEST_NODE choose the Node-RED and the Node it runs on, as for the end-to-end harness.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { repoRoot } from '../../../demo/paths';
import { NodeRed } from '../../e2e/support/node-red';

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

/** The Node-RED process (start, log, stop) is the end-to-end harness's; this adds adminAuth and its tokens. */
export class SecureNodeRed {
  private tokens = new Map<UserName, string>();

  private constructor(private readonly nr: NodeRed) {}

  static async start(options: SecureNodeRedOptions = {}): Promise<SecureNodeRed> {
    const nr = await NodeRed.start({
      env: options.env,
      startTimeoutMs: options.startTimeoutMs,
      settings: {
        credentialSecret: 'security-credential-secret',
        nodesDir: [packageDir],
        adminAuth: {
          type: 'credentials',
          users: [
            { username: 'admin', password: HASHES.admin, permissions: '*' },
            { username: 'viewer', password: HASHES.viewer, permissions: 'read' },
          ],
        },
        ...options.settings,
      },
    });
    return new SecureNodeRed(nr);
  }

  get baseUrl(): string {
    return this.nr.baseUrl;
  }

  get port(): number {
    return this.nr.port;
  }

  get userDir(): string {
    return this.nr.userDir;
  }

  get log(): string {
    return this.nr.log;
  }

  get running(): boolean {
    return this.nr.running;
  }

  /** VmRSS and VmHWM of the Node-RED process, in kB. */
  memory(): Memory {
    const status = readFileSync(`/proc/${this.nr.pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
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
    await this.nr.waitForLog(pattern, timeoutMs, fromIndex);
  }

  async stop(): Promise<void> {
    await this.nr.stop(15000);
  }
}
