import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimContext } from './index';
import type { CallRecord, SimActivity, SimUser } from './state';

type Reply = { status: number; body?: unknown; text?: string };

const API = '/api/v1';

export async function handleRequest(ctx: SimContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://127.0.0.1');
  const method = req.method ?? 'GET';
  const raw = await readBody(req);
  if (ctx.switches.latencyMs > 0) await new Promise((r) => setTimeout(r, ctx.switches.latencyMs));
  const auth = authOf(ctx, req);
  const record: CallRecord = {
    method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    status: 0,
    auth: auth.kind,
  };
  ctx.calls.log.push(record);
  const reply = injectedError(ctx, url.pathname) ?? route(ctx, method, url, raw, auth);
  record.status = reply.status;
  const payload = reply.text ?? (reply.body === undefined ? '' : JSON.stringify(reply.body));
  res.writeHead(reply.status, {
    'content-type': reply.text !== undefined ? 'text/plain' : 'application/json',
    'content-length': Buffer.byteLength(payload),
  });
  res.end(payload);
}

interface Auth {
  kind: CallRecord['auth'];
  valid: boolean;
  token?: string;
}

function authOf(ctx: SimContext, req: IncomingMessage): Auth {
  const apiToken = req.headers['x-auth-token'];
  if (typeof apiToken === 'string') return { kind: 'api-token', valid: apiToken === ctx.credentials.apiToken };
  const header = req.headers.authorization;
  if (typeof header !== 'string') return { kind: 'none', valid: false };
  // The vendor's scripts send both "Bearer <token>" and the bare token.
  const token = header.replace(/^Bearer\s+/i, '').trim();
  const expiresAt = ctx.sessions.get(token);
  const valid = expiresAt !== undefined && expiresAt > Date.now();
  if (!valid) ctx.sessions.delete(token);
  return { kind: 'session', valid, token };
}

function injectedError(ctx: SimContext, path: string): Reply | null {
  const rule = ctx.switches.errors.find((r) => r.times > 0 && (!r.pathIncludes || path.includes(r.pathIncludes)));
  if (!rule) return null;
  rule.times--;
  return { status: rule.status, text: rule.body ?? `simulated error ${rule.status}` };
}

function unauthorized(ctx: SimContext): Reply {
  switch (ctx.switches.unauthorizedBody) {
    case 'json':
      return { status: 401, body: { message: 'Token invalid' } };
    case 'empty':
      return { status: 401, text: '' };
    default:
      return { status: 401, text: 'Token invalid' };
  }
}

function route(ctx: SimContext, method: string, url: URL, raw: string, auth: Auth): Reply {
  const path = url.pathname;
  if (method === 'POST' && path === `${API}/Server/auth/login`) return login(ctx, raw);
  if (!auth.valid) return unauthorized(ctx);
  if (method === 'GET' && path === `${API}/Server/auth/logout`) {
    if (auth.token) ctx.sessions.delete(auth.token);
    return { status: 200 };
  }
  if (method === 'POST' && path === `${API}/audit/dashboard/file-activity/table`) return fileActivity(ctx, url, raw);
  if (method === 'GET' && path === `${API}/audit/users`) return users(ctx, url);
  if (method === 'POST' && path === `${API}/analyzer/events/users/access`) return access(ctx, raw);
  if (method === 'GET' && path === `${API}/cluster/clusters`) return { status: 200, body: [] };
  return { status: 404, body: { message: `no route ${method} ${path}` } };
}

function login(ctx: SimContext, raw: string): Reply {
  const body = parse(raw) as { username?: unknown; password?: unknown } | null;
  if (!body || body.username !== ctx.credentials.username || body.password !== ctx.credentials.password) {
    return { status: 401, body: { message: 'Bad credentials' } };
  }
  const token = `eyJ${randomBytes(24).toString('base64url')}`;
  const seconds = ctx.switches.tokenLifetimeSeconds;
  ctx.sessions.set(token, Date.now() + seconds * 1000);
  ctx.counters.logins++;
  const reported = ctx.switches.lifetimeReportedAs;
  if (reported === 'absent') return { status: 200, body: { token } };
  return { status: 200, body: { token, lifetime: reported === 'milliseconds' ? seconds * 1000 : seconds } };
}

function fileActivity(ctx: SimContext, url: URL, raw: string): Reply {
  const filter = parse(raw) as { ips?: unknown } | null;
  if (!filter || typeof filter !== 'object') return { status: 400, body: { message: 'filter body required' } };
  const ips = Array.isArray(filter.ips) ? filter.ips.map(String) : [];
  const start = Number(url.searchParams.get('start') ?? 0);
  const end = Number(url.searchParams.get('end') ?? Number.MAX_SAFE_INTEGER);
  const rows = ctx.state.fileActivity.filter(
    (a: SimActivity) => (ips.length === 0 || ips.includes(a.ip)) && a.time >= start && a.time <= end,
  );
  return { status: 200, body: page(rows, url, 50, ctx.switches.maxPageSize) };
}

function users(ctx: SimContext, url: URL): Reply {
  const search = (url.searchParams.get('search') ?? '').toLowerCase();
  const blocked = url.searchParams.get('blocked');
  const rows = [...ctx.state.users.values()].filter((u: SimUser) => {
    if (blocked === 'true' && u.accessState !== 'BLOCKED') return false;
    if (blocked === 'false' && u.accessState === 'BLOCKED') return false;
    if (!search) return true;
    return [u.username, u.userPrincipalName ?? '', u.userId].some((v) => v.toLowerCase().includes(search));
  });
  const items = rows.map(({ comments: _c, accessState, domain: _d, ...u }) => ({ ...u, blocked: accessState === 'BLOCKED' }));
  return { status: 200, body: page(items, url, 20, ctx.switches.maxPageSize) };
}

function access(ctx: SimContext, raw: string): Reply {
  const body = parse(raw) as { userId?: unknown; userIdType?: unknown; userAccessState?: unknown; comment?: unknown } | null;
  const user = body && typeof body.userId === 'string' ? ctx.state.users.get(body.userId) : undefined;
  if (!body || !user) return { status: 400, body: { message: 'unknown user' } };
  if (body.userIdType !== user.userIdType) return { status: 400, body: { message: 'bad userIdType' } };
  const state = body.userAccessState;
  if (state !== 'BLOCKED' && state !== ctx.switches.unblockValue) {
    return { status: 400, body: { message: `bad userAccessState ${String(state)}` } };
  }
  user.accessState = state;
  if (typeof body.comment === 'string') user.comments.push(body.comment);
  return { status: 200, body: {} };
}

function page<T>(rows: T[], url: URL, defaultSize: number, maxSize: number): { items: T[]; page: number; size: number; total: number } {
  const pageNo = Math.max(0, Number(url.searchParams.get('page') ?? 0) || 0);
  const size = Math.min(maxSize, Math.max(1, Number(url.searchParams.get('size') ?? defaultSize) || defaultSize));
  return { items: rows.slice(pageNo * size, pageNo * size + size), page: pageNo, size, total: rows.length };
}

function parse(raw: string): unknown {
  try {
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
