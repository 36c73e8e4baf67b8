/**
 * How long a CryptoSpike login token may be reused. The unit of the login reply's `lifetime` is not documented, so:
 * - a number up to 1,000,000 is seconds (1,000,000 s is 11.6 days, longer than any sensible session);
 * - a larger number is milliseconds (3,600,000 = one hour);
 * - anything else (absent, zero, negative, not a number) is taken as 5 minutes.
 * The token is renewed once 80 % of that time has passed; a 401 before then still triggers one re-login.
 */
export const DEFAULT_LIFETIME_MS = 5 * 60_000;
export const RENEW_AT_FRACTION = 0.8;
const SECONDS_LIMIT = 1_000_000;

export function lifetimeMs(lifetime: unknown): number {
  const n = typeof lifetime === 'string' && lifetime.trim() !== '' ? Number(lifetime) : lifetime;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) return DEFAULT_LIFETIME_MS;
  return n <= SECONDS_LIMIT ? n * 1000 : n;
}

export interface Session {
  token: string;
  /** Epoch ms after which the token is renewed before use. */
  renewAt: number;
}

export function sessionFromLogin(reply: unknown, now: number): Session {
  const body = reply as { token?: unknown; lifetime?: unknown } | null;
  if (!body || typeof body.token !== 'string' || body.token === '') {
    throw new Error('CryptoSpike login reply carries no token');
  }
  return { token: body.token, renewAt: now + lifetimeMs(body.lifetime) * RENEW_AT_FRACTION };
}
