/** TTL parsing and repeat-offender escalation. All durations are whole seconds. */

export const MAX_TTL_SECONDS = 365 * 86_400;

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

export type TtlUnit = 's' | 'm' | 'h' | 'd';

export function toSeconds(value: number, unit: TtlUnit): number {
  return value * UNIT_SECONDS[unit];
}

/**
 * A TTL from a number (seconds) or text such as "30s", "15m", "24h", "7d" or "3600". Throws a clear error for
 * anything else, for 0 or less, and for more than one year.
 */
export function parseTtl(value: unknown): number {
  let seconds: number;
  if (typeof value === 'number') {
    seconds = value;
  } else if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$/i.exec(value);
    if (!m) throw new Error(`invalid TTL "${value}": use seconds or a number with s, m, h or d (e.g. "24h")`);
    seconds = Number(m[1]) * UNIT_SECONDS[(m[2] || 's').toLowerCase()];
  } else {
    throw new Error(`invalid TTL of type ${value === null ? 'null' : typeof value}: use seconds or text like "24h"`);
  }
  if (!Number.isFinite(seconds)) throw new Error(`invalid TTL ${String(value)}`);
  seconds = Math.round(seconds);
  if (seconds <= 0) throw new Error(`TTL must be positive (got ${String(value)}); a TTL of 0 would release at once`);
  if (seconds > MAX_TTL_SECONDS) throw new Error(`TTL ${String(value)} is longer than the maximum of 365 days`);
  return seconds;
}

export interface EscalationPolicy {
  /** Multiplier per earlier block in the lookback window (≤ 1 disables escalation). */
  factor: number;
  lookbackSeconds: number;
  /** Upper bound of an escalated TTL. */
  maxSeconds: number;
}

/** base × factor^earlierBlocks, never below base, capped at maxSeconds (and one year). */
export function escalate(baseSeconds: number, earlierBlocks: number, policy: EscalationPolicy | undefined): number {
  if (!policy || policy.factor <= 1 || earlierBlocks <= 0) return baseSeconds;
  const cap = Math.min(Math.max(policy.maxSeconds, baseSeconds), MAX_TTL_SECONDS);
  const raw = baseSeconds * Math.pow(policy.factor, Math.min(earlierBlocks, 20));
  return Math.round(Math.min(Math.max(raw, baseSeconds), cap));
}

export function formatDuration(ms: number): string {
  if (ms <= 0) return 'now';
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}
