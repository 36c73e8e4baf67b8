// A Kemp LoadMaster APIv2 (`POST /accessv2`) simulator over HTTPS on 127.0.0.1, for tests, benchmarks and the demo.
import { X509Certificate, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Server, createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { Body, CommandReply, WRITE_VERBS, aclVerb, runAclControl, runListVirtualServices } from './commands';
import { SimState, SimVirtualService, defaultVirtualServices } from './state';
import { SimSwitches, defaultSwitches } from './switches';

export type { SimState, SimAclEntry, SimVirtualService } from './state';
export type { SimSwitches, ListShape, InjectedReply } from './switches';

export interface SimCallRecord {
  cmd: string;
  /** The aclcontrol verb (list, add, del, listvs, addvs, delvs), or '' for other commands. */
  verb: string;
  list: string;
  addr: string;
  vs: string;
  /** HTTP status answered. */
  status: number;
  at: number;
}

/** Every API call the simulator answered (dropped ones are counted in droppedConnections instead). */
export class SimCallLog {
  readonly entries: SimCallRecord[] = [];

  /** Calls that change a list (add, del, addvs, delvs), whatever their outcome. */
  get writes(): number {
    return this.entries.filter((c) => WRITE_VERBS.has(c.verb)).length;
  }

  count(verb: string): number {
    return this.entries.filter((c) => c.verb === verb).length;
  }

  clear(): void {
    this.entries.length = 0;
  }
}

export interface LoadMasterSimulatorOptions {
  /** Default: a random key. */
  apiKey?: string;
  /** Users for apiuser/apipass authentication; default `{bal: 'secret'}`. */
  users?: Record<string, string>;
  virtualServices?: Record<string, SimVirtualService>;
  switches?: Partial<SimSwitches>;
  /** Default 0 (an ephemeral port). */
  port?: number;
}

export interface LoadMasterSimulator {
  url: string;
  port: number;
  apiKey: string;
  users: Record<string, string>;
  /** SHA-256 of simulators/tls/localhost.crt, lower-case hex without colons. */
  fingerprint: string;
  state: SimState;
  switches: SimSwitches;
  calls: SimCallLog;
  /** Connections destroyed by the 30-calls-in-3-s rule. */
  readonly droppedConnections: number;
  /** Empties the lists and the call log, resets the counters and the switches. */
  reset(): void;
  close(): Promise<void>;
}

const TLS_DIR = join(__dirname, '..', 'tls');

function str(value: unknown): string {
  return value === undefined || value === null ? '' : String(value);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The documented body is JSON whatever the Content-Type; GET carries the same fields in the query. */
function parseBody(req: IncomingMessage, text: string): Body | null {
  if (req.method === 'GET') return Object.fromEntries(new URL(req.url ?? '/', 'https://x').searchParams);
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Body) : null;
  } catch {
    return null;
  }
}

export async function startLoadMasterSimulator(options: LoadMasterSimulatorOptions = {}): Promise<LoadMasterSimulator> {
  const cert = readFileSync(join(TLS_DIR, 'localhost.crt'), 'utf8');
  const key = readFileSync(join(TLS_DIR, 'localhost.key'), 'utf8');
  const apiKey = options.apiKey ?? randomBytes(16).toString('hex');
  const users = options.users ?? { bal: 'secret' };
  const state: SimState = { lists: { block: [], allow: [] }, vs: options.virtualServices ?? defaultVirtualServices() };
  const switches: SimSwitches = { ...defaultSwitches(), ...options.switches };
  const calls = new SimCallLog();
  const recentCalls: number[] = [];
  const sockets = new Set<Socket>();
  let dropped = 0;

  const overRateLimit = (): boolean => {
    if (!switches.rateLimit) return false;
    const now = Date.now();
    while (recentCalls.length > 0 && recentCalls[0] <= now - switches.rateLimitWindowMs) recentCalls.shift();
    if (recentCalls.length >= switches.rateLimitCalls) return true;
    recentCalls.push(now);
    return false;
  };

  const answer = (res: ServerResponse, reply: CommandReply): number => {
    const httpStatus = reply.code !== 200 && switches.httpOkOnFail ? 200 : reply.code;
    const body =
      reply.code === 200
        ? { code: 200, message: reply.message, ...reply.data, status: 'ok' }
        : { code: reply.code, message: reply.message, status: 'fail' };
    res.writeHead(httpStatus, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    return httpStatus;
  };

  const authenticate = (body: Body): boolean => {
    if (body.apikey !== undefined) return str(body.apikey) === apiKey;
    const user = str(body.apiuser);
    return user !== '' && Object.prototype.hasOwnProperty.call(users, user) && users[user] === str(body.apipass);
  };

  const dispatch = (body: Body): CommandReply => {
    if (!authenticate(body)) return { code: 401, message: 'Authorization required' };
    const cmd = str(body.cmd);
    if (cmd === 'aclcontrol') return runAclControl(body, state, switches);
    if (cmd === 'listvs') return runListVirtualServices(state);
    if (cmd === 'aclcontrol.isenabled') return { code: 200, data: { aclstatus: switches.packetFilter ? 'enabled' : 'disabled' } };
    return { code: 405, message: 'Unknown command' };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (switches.outage) return void req.socket.destroy();
    if (overRateLimit()) {
      dropped++;
      return void req.socket.destroy();
    }
    const text = await readBody(req);
    if (switches.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, switches.latencyMs));
    const body = parseBody(req, text) ?? {};
    const record: SimCallRecord = {
      cmd: str(body.cmd),
      verb: str(aclVerb(body) ?? ''),
      list: str(body[aclVerb(body) ?? 'list']),
      addr: str(body.addr),
      vs: str(body.vs ?? body.vsip),
      status: 0,
      at: Date.now(),
    };
    const injected = switches.nextReplies.shift();
    if (injected === 'drop') return void req.socket.destroy();
    calls.entries.push(record);
    if (injected) {
      record.status = injected.httpStatus;
      res.writeHead(injected.httpStatus, { 'content-type': 'application/json' }).end(JSON.stringify(injected.body));
    } else if (!switches.apiEnabled) {
      record.status = 404;
      res.writeHead(404, { 'content-type': 'text/html' }).end('<html><body>Not Found</body></html>');
    } else if (!/^\/accessv2(\/|$|\?)/.test(req.url ?? '')) {
      record.status = 404;
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
    } else {
      record.status = answer(res, parseBody(req, text) ? dispatch(body) : { code: 400, message: 'Invalid JSON body' });
    }
  };

  const server: Server = createServer({ cert, key }, (req, res) => {
    handle(req, res).catch(() => req.socket.destroy());
  });
  server.on('secureConnection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `https://127.0.0.1:${port}`,
    port,
    apiKey,
    users,
    fingerprint: new X509Certificate(cert).fingerprint256.replace(/:/g, '').toLowerCase(),
    state,
    switches,
    calls,
    get droppedConnections() {
      return dropped;
    },
    reset() {
      state.lists.block.length = 0;
      state.lists.allow.length = 0;
      for (const vs of Object.values(state.vs)) vs.block.length = vs.allow.length = 0;
      Object.assign(switches, defaultSwitches(), options.switches);
      switches.nextReplies = [];
      calls.clear();
      recentCalls.length = 0;
      dropped = 0;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
