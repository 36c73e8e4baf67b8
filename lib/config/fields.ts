/**
 * Reading config-node fields. Every field may be set as `${ENV_VAR}` in the editor; Node-RED substitutes it before
 * the node sees it, but leaves the text `${ENV_VAR}` as it is when the variable is not set. Such a field counts as
 * empty here, so it falls back to its default (or, for a required field, is reported missing).
 */

const UNSET_ENV_VAR = /^\$(\{\S+\}|\(\S+\))$/;

/** '' for a `${VAR}` (or old-style `$(VAR)`) that Node-RED left in place because the variable is unset. */
export function unlessUnsetEnv<T>(value: T): T | '' {
  return typeof value === 'string' && UNSET_ENV_VAR.test(value.trim()) ? '' : value;
}

/** True when the field names an environment variable that is not set. */
export function isUnsetEnv(value: unknown): boolean {
  return typeof value === 'string' && UNSET_ENV_VAR.test(value.trim());
}

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
    throw new Error(`${name} must be ${integer ? 'a whole number' : 'a number'}${range ? ' ' + range : ''}, got "${String(value)}"`);
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
