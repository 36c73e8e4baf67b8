/**
 * A ProLion CryptoSpike simulator over HTTPS on 127.0.0.1 for tests, the demo and the benchmarks. It implements the
 * calls of the Flowmon integration (login/logout, API tokens, file activity with paging, user search, block/unblock)
 * and turns every unknown of the real API into a switch.
 */
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CallLog, NewUser, SimState, SimSwitches, SimUser } from './state';
import { handleRequest } from './routes';

export type { CallRecord, ErrorRule, NewUser, SimActivity, SimSwitches, SimUser } from './state';
export { CallLog, SimState } from './state';

export interface CryptoSpikeSimulatorOptions {
  username?: string;
  password?: string;
  apiToken?: string;
  switches?: Partial<SimSwitches>;
}

export interface CryptoSpikeSimulator {
  url: string;
  port: number;
  apiToken: string;
  username: string;
  password: string;
  /** SHA-256 of the simulator's certificate, lowercase hex without colons. */
  fingerprint: string;
  state: SimState;
  switches: SimSwitches;
  calls: CallLog;
  /** Successful logins so far. */
  readonly logins: number;
  seedActivity(ip: string, userId: string, username: string, count: number): void;
  addUser(user: NewUser): SimUser;
  /** Makes every current session token invalid (as after an appliance restart). */
  expireSessions(): void;
  close(): Promise<void>;
}

export interface SimContext {
  state: SimState;
  switches: SimSwitches;
  calls: CallLog;
  credentials: { username: string; password: string; apiToken: string };
  /** Session token → expiry (epoch ms). */
  sessions: Map<string, number>;
  counters: { logins: number };
}

const TLS_DIR = join(__dirname, '..', 'tls');

export const DEFAULT_SWITCHES: SimSwitches = {
  unblockValue: 'UNBLOCKED',
  unauthorizedBody: 'text',
  tokenLifetimeSeconds: 3600,
  lifetimeReportedAs: 'seconds',
  latencyMs: 0,
  errors: [],
  maxPageSize: 1000,
};

export async function startCryptoSpikeSimulator(options: CryptoSpikeSimulatorOptions = {}): Promise<CryptoSpikeSimulator> {
  const cert = readFileSync(join(TLS_DIR, 'localhost.crt'));
  const key = readFileSync(join(TLS_DIR, 'localhost.key'));
  const ctx: SimContext = {
    state: new SimState(),
    switches: { ...DEFAULT_SWITCHES, errors: [], ...options.switches },
    calls: new CallLog(),
    credentials: {
      username: options.username ?? 'flowmon',
      password: options.password ?? 'simulated-password',
      apiToken: options.apiToken ?? `xapp-${randomBytes(24).toString('base64url')}`,
    },
    sessions: new Map(),
    counters: { logins: 0 },
  };
  const server: Server = createServer({ cert, key }, (req, res) => {
    handleRequest(ctx, req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const fingerprint = createHash('sha256').update(new X509Certificate(cert).raw).digest('hex');
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    ...ctx.credentials,
    fingerprint,
    state: ctx.state,
    switches: ctx.switches,
    calls: ctx.calls,
    get logins() {
      return ctx.counters.logins;
    },
    seedActivity: (ip, userId, username, count) => ctx.state.seedActivity(ip, userId, username, count),
    addUser: (user) => ctx.state.addUser(user),
    expireSessions: () => ctx.sessions.clear(),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
