import { createHash, timingSafeEqual } from 'node:crypto';
import { isUnsetEnv } from '../config/fields';

/** Constant-time comparison of a shared secret (SHA-256 digests, so unequal lengths leak nothing). */
export function secretMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = createHash('sha256').update(expected, 'utf8').digest();
  const b = createHash('sha256').update(given, 'utf8').digest();
  return timingSafeEqual(a, b);
}

export const SECRET_HEADER = 'x-ads-secret';

/**
 * The configured shared secret: `set` (usable), `none` (empty or only white space) or `unset-variable` (a `${VAR}`
 * that Node-RED left in place because the variable is not set). Only `set` can ever let an HTTP request in.
 */
export type SecretSetting = { kind: 'set'; value: string } | { kind: 'none' } | { kind: 'unset-variable'; name: string };

export function readSecret(configured: unknown): SecretSetting {
  if (typeof configured !== 'string' || configured.trim() === '') return { kind: 'none' };
  if (isUnsetEnv(configured)) return { kind: 'unset-variable', name: configured.trim() };
  return { kind: 'set', value: configured };
}

interface RequestHeaders {
  headers?: Record<string, unknown>;
  rawHeaders?: unknown;
}

/**
 * Takes the shared-secret header out of a request (msg.req): it is deleted from `headers` and `rawHeaders`, so that
 * nothing passed on (receipts, Catch nodes, debug) carries it. Returns the value it had.
 */
export function takeSecretHeader(req: unknown): unknown {
  if (req === null || typeof req !== 'object') return undefined;
  const { headers, rawHeaders } = req as RequestHeaders;
  let given: unknown;
  if (headers && typeof headers === 'object') {
    given = headers[SECRET_HEADER];
    delete headers[SECRET_HEADER];
  }
  if (Array.isArray(rawHeaders)) {
    for (let i = rawHeaders.length - 2; i >= 0; i -= 2) {
      if (String(rawHeaders[i]).toLowerCase() === SECRET_HEADER) rawHeaders.splice(i, 2);
    }
  }
  return given;
}
