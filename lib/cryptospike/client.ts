import { ApplianceHttp, HttpReply, RequestOptions } from '../http/appliance-http';
import { ApplianceResponseError } from '../http/errors';
import { RetryOptions, withRetry } from '../http/retry';
import { classifyCallError, replyResult, timeApplianceCall } from '../metrics/signals';
import type { TlsSettings } from '../http/tls';
import { PacedQueue } from '../pacing/paced-queue';
import { Session, sessionFromLogin } from './session';
import { ActivityItem, StorageUser, activityItemFrom, storageUserFrom } from './records';

export type CryptoSpikeAuth = { apiToken: string } | { username: string; password: string };

export interface CryptoSpikeClientOptions {
  url: string;
  tls: TlsSettings;
  auth: CryptoSpikeAuth;
  timeoutMs?: number;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  maxQueued?: number;
  /** Rows asked for per file-activity page (default 500). */
  pageSize?: number;
  /** File-activity pages read at most per lookup (default 200). */
  maxPages?: number;
  retry?: RetryOptions;
  now?: () => number;
  /** The config node's id: each call is then signalled for the metrics (see lib/metrics/signals). */
  configId?: string;
}

export interface ActivityPage {
  items: ActivityItem[];
  pages: number;
  /** True when maxPages was reached before the last page. */
  truncated: boolean;
}

const PATHS = {
  login: '/api/v1/Server/auth/login',
  logout: '/api/v1/Server/auth/logout',
  fileActivity: '/api/v1/audit/dashboard/file-activity/table',
  users: '/api/v1/audit/users',
  access: '/api/v1/analyzer/events/users/access',
} as const;

/** The operation of each path, for the metrics. */
const OPERATIONS: Record<string, string> = {
  [PATHS.login]: 'login',
  [PATHS.fileActivity]: 'file-activity',
  [PATHS.users]: 'search-users',
  [PATHS.access]: 'set-access',
};

const LOGIN_PRIORITY = 10;
const LOGOUT_TIMEOUT_MS = 2_000;
const DEFAULT_RETRY: RetryOptions = { attempts: 3, baseDelayMs: 200, maxDelayMs: 2_000 };

/** Every filter key is sent, empty meaning "no filter", as the vendor's scripts do. */
function filterForAddress(ip: string): Record<string, unknown> {
  return {
    path: '',
    users: [],
    actions: [],
    fileType: [],
    extensions: [],
    clusters: [],
    servers: [],
    shares: [],
    volumes: [],
    ips: [ip],
    blocked: [],
  };
}

/**
 * One CryptoSpike appliance: a keep-alive pool, a queue bounding the requests in flight, and authentication by API
 * token (`x-auth-token`) or by a login session that is shared by concurrent requests, renewed before it expires and
 * renewed once on a 401. Secrets never appear in error messages.
 */
export class CryptoSpikeClient {
  readonly origin: string;
  private readonly http: ApplianceHttp;
  private readonly queue: PacedQueue;
  private readonly pageSize: number;
  private readonly maxPages: number;
  private readonly retry: RetryOptions;
  private readonly now: () => number;
  private session: Session | undefined;
  private loggingIn: Promise<Session> | undefined;
  private closed = false;
  /** Successful logins by this client. */
  logins = 0;

  constructor(private readonly options: CryptoSpikeClientOptions) {
    const concurrency = options.concurrency ?? 4;
    const timeout = options.timeoutMs ?? 15_000;
    this.http = new ApplianceHttp({
      baseUrl: options.url,
      tls: options.tls,
      connectTimeoutMs: Math.min(timeout, 5_000),
      requestTimeoutMs: timeout,
      connections: concurrency,
    });
    this.origin = this.http.origin;
    this.queue = new PacedQueue({ concurrency, maxQueued: options.maxQueued ?? 5_000 });
    this.pageSize = options.pageSize ?? 500;
    this.maxPages = options.maxPages ?? 200;
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.now = options.now ?? Date.now;
  }

  /** Calls waiting plus calls in flight (for the metrics). */
  get queueDepth(): number {
    return this.queue.depth;
  }

  get usesApiToken(): boolean {
    return 'apiToken' in this.options.auth;
  }

  /** Every file operation from `ip` between the epoch seconds `start` and `end`, all pages read. */
  async fileActivity(ip: string, start: number, end: number): Promise<ActivityPage> {
    const items: ActivityItem[] = [];
    let rowsSeen = 0;
    let firstPageLength = 0;
    for (let page = 0; page < this.maxPages; page++) {
      const reply = await this.send('POST', PATHS.fileActivity, {
        query: { page, size: this.pageSize, start, end },
        body: filterForAddress(ip),
      });
      const body = reply.json as { items?: unknown; total?: unknown; totalElements?: unknown; last?: unknown } | undefined;
      if (!body || !Array.isArray(body.items)) {
        throw new ApplianceResponseError('CryptoSpike file-activity reply has no "items" list', reply.status);
      }
      for (const raw of body.items) {
        const item = activityItemFrom(raw);
        if (item) items.push(item);
      }
      rowsSeen += body.items.length;
      if (page === 0) firstPageLength = body.items.length;
      const total = typeof body.total === 'number' ? body.total : body.totalElements;
      let done: boolean;
      if (body.items.length === 0) done = true;
      else if (typeof body.last === 'boolean') done = body.last;
      else if (typeof total === 'number') done = rowsSeen >= total;
      // No paging metadata: a short first page may be the server's own size cap, so only a page shorter than the
      // first one (or an empty one) ends the listing.
      else done = page > 0 && body.items.length < firstPageLength;
      if (done) return { items, pages: page + 1, truncated: false };
    }
    return { items, pages: this.maxPages, truncated: true };
  }

  /** Storage users matching `search` (the appliance's own matching; callers filter exactly). */
  async searchUsers(search: string): Promise<StorageUser[]> {
    const reply = await this.send('GET', PATHS.users, {
      query: { page: 0, size: 50, search, orderBy: '', sortDescending: false },
    });
    const body = reply.json as { items?: unknown } | undefined;
    if (!body || !Array.isArray(body.items)) {
      throw new ApplianceResponseError('CryptoSpike user search reply has no "items" list', reply.status);
    }
    return body.items.map(storageUserFrom).filter((u): u is StorageUser => u !== null);
  }

  /**
   * Sets a user's access state (`BLOCKED`, or the configured unblock value) with an audit comment. `priority`: the
   * queue's (higher first; lookups go at 0).
   */
  async setAccess(userId: string, userIdType: string, userAccessState: string, comment: string, priority = 1): Promise<void> {
    await this.send('POST', PATHS.access, { body: { userId, userIdType, userAccessState, comment } }, priority);
  }

  /** An authenticated read that needs the StorageUser READ permission; returns a sentence for the editor. */
  async testConnection(): Promise<string> {
    await this.send('GET', PATHS.users, { query: { page: 0, size: 1 } });
    const how = 'apiToken' in this.options.auth ? 'with the API token' : `as user "${this.options.auth.username}"`;
    return `Connected to CryptoSpike at ${this.origin} ${how}; the user list is readable.`;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queue.close();
    const session = this.session;
    this.session = undefined;
    if (session) {
      const logout = this.http.request('GET', PATHS.logout, { headers: { authorization: `Bearer ${session.token}` } });
      await Promise.race([logout.catch(() => undefined), new Promise((r) => setTimeout(r, LOGOUT_TIMEOUT_MS).unref())]);
    }
    await this.http.close();
  }

  private async send(method: 'GET' | 'POST', path: string, options: RequestOptions, priority = 0): Promise<HttpReply> {
    const first = await this.attempt(method, path, options, priority);
    let reply = first.reply;
    if (reply.status === 401) {
      if (this.usesApiToken) {
        throw new ApplianceResponseError('CryptoSpike: API token rejected (expired or mistyped)', 401);
      }
      if (this.session?.token === first.token) this.session = undefined;
      reply = (await this.attempt(method, path, options, priority)).reply;
      if (reply.status === 401) {
        throw new ApplianceResponseError('CryptoSpike refused a freshly issued login token (HTTP 401)', 401);
      }
    }
    if (reply.status >= 400) throw this.responseError(method, path, reply);
    return reply;
  }

  /** One call with retries of transport failures and 5xx; every attempt goes through the queue. */
  private attempt(method: 'GET' | 'POST', path: string, options: RequestOptions, priority: number) {
    return withRetry(async () => {
      const { headers, token } = await this.authHeaders();
      const reply = await this.queue.run(
        () => this.request(method, path, { ...options, headers: { ...options.headers, ...headers } }),
        priority,
      );
      if (reply.status >= 500) throw this.responseError(method, path, reply);
      return { reply, token };
    }, this.retry);
  }

  private async authHeaders(): Promise<{ headers: Record<string, string>; token?: string }> {
    const auth = this.options.auth;
    if ('apiToken' in auth) return { headers: { 'x-auth-token': auth.apiToken } };
    let session = this.session;
    if (!session || this.now() >= session.renewAt) {
      this.loggingIn ??= this.login().finally(() => (this.loggingIn = undefined));
      session = await this.loggingIn;
    }
    return { headers: { authorization: `Bearer ${session.token}` }, token: session.token };
  }

  private async login(): Promise<Session> {
    const auth = this.options.auth as { username: string; password: string };
    const reply = await withRetry(async () => {
      const r = await this.queue.run(
        () => this.request('POST', PATHS.login, { body: { username: auth.username, password: auth.password } }),
        LOGIN_PRIORITY,
      );
      if (r.status >= 500) throw this.responseError('POST', PATHS.login, r);
      return r;
    }, this.retry);
    if (reply.status === 401 || reply.status === 403) {
      throw new ApplianceResponseError(
        `CryptoSpike refused the login of user "${auth.username}" (HTTP ${reply.status}): check the user name and password`,
        reply.status,
      );
    }
    if (reply.status !== 200) throw this.responseError('POST', PATHS.login, reply);
    const session = sessionFromLogin(reply.json, this.now());
    this.session = session;
    this.logins++;
    return session;
  }

  /** One HTTP exchange, signalled for the metrics. */
  private request(method: 'GET' | 'POST', path: string, options: RequestOptions): Promise<HttpReply> {
    const call = { configId: this.options.configId ?? '', kind: 'cryptospike' as const, operation: OPERATIONS[path] ?? 'other' };
    return timeApplianceCall(call, () => this.http.request(method, path, options), classifyCallError, replyResult);
  }

  private responseError(method: string, path: string, reply: HttpReply): ApplianceResponseError {
    const detail = this.redact(reply.text.replace(/\s+/g, ' ').trim().slice(0, 200));
    return new ApplianceResponseError(
      `CryptoSpike ${method} ${path} failed: HTTP ${reply.status}${detail ? ` ${detail}` : ''}`,
      reply.status,
    );
  }

  /** Removes every secret this client knows from a text that leaves it. */
  private redact(text: string): string {
    const auth = this.options.auth;
    const secrets = ['apiToken' in auth ? auth.apiToken : auth.password, this.session?.token ?? ''];
    return secrets.filter((s) => s.length >= 4).reduce((t, s) => t.split(s).join('***'), text);
  }
}
