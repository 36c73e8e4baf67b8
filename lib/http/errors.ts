/** The appliance could not be reached or dropped the connection (retryable). */
export class ApplianceConnectionError extends Error {
  readonly retryable = true;
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'ApplianceConnectionError';
  }
}

/** The appliance's certificate was refused (not retryable: a retry would be refused the same way). */
export class ApplianceTlsError extends Error {
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'ApplianceTlsError';
  }
}

/** The appliance answered, but with an error (HTTP status or an error body). 5xx is retryable, 4xx is not. */
export class ApplianceResponseError extends Error {
  readonly retryable: boolean;
  constructor(
    message: string,
    readonly status: number,
    readonly body?: unknown,
  ) {
    super(message);
    this.name = 'ApplianceResponseError';
    this.retryable = status >= 500;
  }
}

export function isRetryable(err: unknown): boolean {
  return !!err && typeof err === 'object' && (err as { retryable?: unknown }).retryable === true;
}

const CONNECTION_FAILURES: Array<[RegExp, string]> = [
  [/^ECONNREFUSED$/, 'connection refused'],
  [/TIMEOUT|TIMEDOUT|Timeout/, 'timed out'],
  [/^(ENOTFOUND|EAI_AGAIN)$/, 'host name not found'],
  [/^(EHOSTUNREACH|ENETUNREACH)$/, 'host unreachable'],
  [/^(ECONNRESET|EPIPE|UND_ERR_SOCKET|SocketError|ClientClosedError)$/, 'connection dropped'],
];

/** The kind of a connection failure, from its error code (no host, no port). */
export function connectionFailure(code: string): string {
  return CONNECTION_FAILURES.find(([pattern]) => pattern.test(code))?.[1] ?? 'unreachable';
}

/**
 * A fixed text for a failed appliance call: what kind of failure it was, never a host, a URL, a credential or an
 * echoed reply body. For answers that may not carry anything read from the environment or a credential.
 */
export function failureCategory(err: unknown): string {
  if (err instanceof ApplianceTlsError) {
    return /fingerprint mismatch/.test(err.message)
      ? 'certificate fingerprint mismatch (the appliance presented another certificate than the pinned one)'
      : 'TLS certificate not trusted (pin its fingerprint or give its CA)';
  }
  if (err instanceof ApplianceConnectionError) return connectionFailure(err.code ?? '');
  if (err instanceof ApplianceResponseError) {
    if (err.status === 401) return 'HTTP 401: credentials rejected';
    if (err.status === 403) return 'HTTP 403: permission denied';
    return err.status >= 400 ? `HTTP ${err.status}` : `unexpected reply (HTTP ${err.status})`;
  }
  return 'unexpected error';
}
