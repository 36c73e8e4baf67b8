import type { TLSSocket } from 'node:tls';
import { Pool, buildConnector, errors as undiciErrors } from 'undici';
import { ApplianceConnectionError, ApplianceTlsError, connectionFailure } from './errors';
import { TlsSettings, normaliseFingerprint } from './tls';

export interface ApplianceHttpOptions {
  /** `https://host[:port]`, optionally with a path prefix. */
  baseUrl: string;
  tls: TlsSettings;
  connectTimeoutMs?: number;
  /** Time allowed for the response headers, and again for the body. */
  requestTimeoutMs?: number;
  /** Keep-alive connections in the pool. */
  connections?: number;
}

export interface RequestOptions {
  /** JSON-encoded when given. */
  body?: unknown;
  headers?: Record<string, string>;
  query?: Record<string, string | number | boolean>;
}

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The body as JSON, or undefined when it is empty or not JSON. */
  json: unknown;
}

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

const TLS_ERROR_CODES = /^(CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|ERR_TLS_CERT|ERR_SSL|HOSTNAME_MISMATCH)/;

/**
 * HTTPS to one appliance over an undici keep-alive pool, with connect and request timeouts and the TLS checks of
 * TlsSettings. Throws ApplianceConnectionError / ApplianceTlsError; HTTP error statuses are returned, not thrown,
 * because appliances put the useful error text in the body.
 */
export class ApplianceHttp {
  readonly origin: string;
  private readonly pathPrefix: string;
  private readonly pool: Pool;
  private readonly requestTimeoutMs: number;

  constructor(options: ApplianceHttpOptions) {
    const url = new URL(options.baseUrl);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new Error('the appliance URL must be https://host[:port]');
    }
    this.origin = url.origin;
    this.pathPrefix = url.pathname.replace(/\/+$/, '');
    this.requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
    this.pool = new Pool(this.origin, {
      connections: options.connections ?? 4,
      headersTimeout: this.requestTimeoutMs,
      bodyTimeout: this.requestTimeoutMs,
      keepAliveTimeout: 10_000,
      connect: connectorFor(options.tls, options.connectTimeoutMs ?? 5_000),
    });
  }

  async request(method: 'GET' | 'POST' | 'DELETE', path: string, options: RequestOptions = {}): Promise<HttpReply> {
    const query = options.query
      ? '?' + new URLSearchParams(Object.entries(options.query).map(([k, v]): [string, string] => [k, String(v)])).toString()
      : '';
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    try {
      const reply = await this.pool.request({ method, path: this.pathPrefix + path + query, headers, body });
      const text = await reply.body.text();
      return { status: reply.statusCode, headers: reply.headers, text, json: parseJson(text) };
    } catch (err) {
      throw describeTransportError(err);
    }
  }

  async close(): Promise<void> {
    await this.pool.close().catch(() => this.pool.destroy());
  }
}

function parseJson(text: string): unknown {
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function connectorFor(tls: TlsSettings, timeout: number): buildConnector.connector {
  const connect = buildConnector({
    timeout,
    rejectUnauthorized: tls.mode === 'system' || tls.mode === 'ca',
    ...(tls.mode === 'ca' ? { ca: tls.ca } : {}),
    // A resumed TLS session would skip the certificate we pin, so pinned connections never resume.
    ...(tls.mode === 'fingerprint' ? { maxCachedSessions: 0 } : {}),
  });
  if (tls.mode !== 'fingerprint') return connect;
  const pinned = normaliseFingerprint(tls.fingerprint ?? '');
  return (options, callback) =>
    connect(options, (err, socket) => {
      if (err || !socket) return callback(err ?? new Error('no socket'), null);
      const presented = normaliseFingerprint((socket as TLSSocket).getPeerCertificate?.().fingerprint256 ?? '');
      if (presented !== pinned) {
        socket.destroy();
        return callback(
          new ApplianceTlsError(
            `certificate fingerprint mismatch: the appliance presented SHA-256 ${presented || '(none)'}, ` +
              `but ${pinned} is pinned`,
          ),
          null,
        );
      }
      callback(null, socket);
    });
}

/**
 * Transport failures as fixed texts: the kind and the error code, never the host, port or URL (which may come from
 * an environment variable) — the node that logs it names its configuration node.
 */
function describeTransportError(err: unknown): Error {
  if (err instanceof ApplianceTlsError || err instanceof ApplianceConnectionError) return err;
  const e = err as Error & { code?: string; cause?: Error & { code?: string } };
  if (e?.cause instanceof ApplianceTlsError) return e.cause;
  const code = e?.code ?? e?.cause?.code ?? '';
  const detail = e?.cause?.message ?? e?.message ?? String(err);
  if (TLS_ERROR_CODES.test(code) || /certificate|self[- ]signed|TLS/i.test(detail)) {
    return new ApplianceTlsError(`TLS check of the appliance failed: certificate not trusted (${code || 'tls'})`);
  }
  if (
    CONNECTION_ERROR_CODES.has(code) ||
    err instanceof undiciErrors.ConnectTimeoutError ||
    err instanceof undiciErrors.HeadersTimeoutError ||
    err instanceof undiciErrors.BodyTimeoutError ||
    err instanceof undiciErrors.SocketError ||
    err instanceof undiciErrors.ClientClosedError
  ) {
    return new ApplianceConnectionError(`the appliance is unreachable: ${connectionFailure(code || e?.name || '')}`, code || e?.name);
  }
  return e instanceof Error ? e : new Error(String(err));
}
