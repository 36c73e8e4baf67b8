/**
 * Reading config-node fields. Every field may be set as `${ENV_VAR}` in the editor; Node-RED substitutes it before
 * the node sees it, but leaves the text `${ENV_VAR}` as it is when the variable is not set. Such a field counts as
 * empty here, so it falls back to its default (or, for a required field, is reported missing).
 */

const ENV_REFERENCE = /^\$(\{\S+\}|\(\S+\))$/;

/** True for a whole-field `${VAR}` (or old-style `$(VAR)`): the form Node-RED substitutes when it deploys a node. */
export function isEnvReference(value: unknown): boolean {
  return typeof value === 'string' && ENV_REFERENCE.test(value.trim());
}

/** True when a deployed field names an environment variable that is not set (Node-RED left the reference). */
export const isUnsetEnv = isEnvReference;

/** '' for a `${VAR}` (or old-style `$(VAR)`) that Node-RED left in place because the variable is unset. */
export function unlessUnsetEnv<T>(value: T): T | '' {
  return isUnsetEnv(value) ? '' : value;
}

/**
 * Error texts of the connection fields. They name the field, never its value: a value may come from the
 * environment, and these texts reach logs and the editor.
 */
export const FIELD_ERRORS = {
  url: 'the URL field is not a valid URL (https://host[:port])',
  urlMissing: 'the URL field is empty (https://host[:port])',
  urlScheme: 'the URL field must start with https://',
  authType: 'the sign-in field is not a known choice',
  tlsMode: 'the TLS mode field is not a known mode',
  tlsCaMissing: 'TLS mode "CA certificate" needs the CA certificate (PEM)',
  tlsCa: 'the CA certificate field is not valid PEM',
  tlsFingerprint: 'the fingerprint field is not a SHA-256 fingerprint (64 hex digits)',
  tlsInsecure: 'the accept-any field must be true or false',
} as const;

export function readNumber(
  value: unknown,
  fallback: number,
  limits: { name: string; min?: number; max?: number; integer?: boolean },
): number {
  value = unlessUnsetEnv(value);
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return fallback;
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  const { name, min = -Infinity, max = Infinity, integer = true } = limits;
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
    const range = [min > -Infinity ? `≥ ${min}` : '', max < Infinity ? `≤ ${max}` : ''].filter(Boolean).join(' and ');
    throw new Error(`${name} must be ${integer ? 'a whole number' : 'a number'}${range ? ' ' + range : ''}`);
  }
  return n;
}

export function readBool(value: unknown, fallback = false): boolean {
  value = unlessUnsetEnv(value);
  if (typeof value === 'boolean') return value;
  if (typeof value !== 'string' || value.trim() === '') return fallback;
  return /^(true|1|yes|on)$/i.test(value.trim());
}

/** A list typed one per line or separated by commas/semicolons; blanks dropped. */
export function readList(value: unknown): string[] {
  value = unlessUnsetEnv(value);
  if (Array.isArray(value)) return value.map(String).map((s) => s.trim()).filter(Boolean);
  if (typeof value !== 'string') return [];
  return value
    .split(/[\n,;]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

export function readText(value: unknown, fallback = ''): string {
  value = unlessUnsetEnv(value);
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : fallback;
}
