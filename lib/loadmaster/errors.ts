import { ApplianceResponseError } from '../http/errors';

export type LoadMasterAuthKind = 'apikey' | 'user';

const MEANINGS: Record<number, (auth: LoadMasterAuthKind) => string> = {
  400: () => 'a mandatory parameter is missing',
  401: (auth) => (auth === 'apikey' ? 'API key rejected' : 'user name or password rejected'),
  403: () =>
    'permission denied (the API user needs "All Permissions" for the global lists, ' +
    'or "Virtual Service" permission for a virtual service list)',
  404: () =>
    'API interface disabled on the LoadMaster (enable it under Certificates & Security > Remote Access; ' +
    'the JSON API also needs Session Management)',
  405: () => 'unknown command (the LoadMaster firmware does not offer this API call; APIv2 needs 7.2.52 or later)',
  422: () => 'the LoadMaster refused the operation',
};

/**
 * The LoadMaster answered with an error: an HTTP error status, or `status != "ok"` in the body (even with HTTP 200).
 * `status` is the HTTP status, or the body's `code` when the HTTP status was 200. The message is meant for a person
 * and never contains credentials.
 */
export class LoadMasterError extends ApplianceResponseError {
  constructor(
    status: number,
    /** The LoadMaster's own error text (credentials removed), or '' when it sent none. */
    readonly applianceText: string,
    auth: LoadMasterAuthKind,
    body?: unknown,
  ) {
    super(describeFailure(status, applianceText, auth), status, body);
    this.name = 'LoadMasterError';
  }

  /**
   * True when the refusal may mean "already in the desired state" (duplicate add, delete of a missing entry), so
   * a list call can confirm it. Authentication, permission and API errors are never that.
   */
  get confirmableByListing(): boolean {
    return this.status === 422 || this.status === 200;
  }
}

export function describeFailure(status: number, applianceText: string, auth: LoadMasterAuthKind): string {
  const meaning =
    MEANINGS[status]?.(auth) ??
    (status >= 500 ? 'internal error on the LoadMaster' : status === 200 ? 'the LoadMaster reported a failure' : 'unexpected reply');
  const text = applianceText ? `: ${applianceText}` : '';
  return `LoadMaster: ${meaning} (HTTP ${status})${text}`;
}

/** Removes every occurrence of the given secrets from an appliance text before it reaches a message or a log. */
export function redact(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = text;
  for (const secret of secrets) if (secret && secret.length >= 3) out = out.split(secret).join('***');
  return out;
}
