/**
 * Reading config-node fields. Every field may be set as `${ENV_VAR}` in the editor; Node-RED substitutes it before
 * the node sees it, so an unset variable arrives as an empty string and falls back to the default here.
 */

export function readNumber(
  value: unknown,
  fallback: number,
  limits: { name: string; min?: number; max?: number; integer?: boolean },
): number {
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
  if (typeof value === 'boolean') return value;
  if (typeof value !== 'string' || value.trim() === '') return fallback;
  return /^(true|1|yes|on)$/i.test(value.trim());
}

/** A list typed one per line or separated by commas/semicolons; blanks dropped. */
export function readList(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String).map((s) => s.trim()).filter(Boolean);
  if (typeof value !== 'string') return [];
  return value
    .split(/[\n,;]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

export function readText(value: unknown, fallback = ''): string {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : fallback;
}
