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
