import { createHash } from 'node:crypto';
import type { ApplianceKind, MitigationKey } from '../mitigation/types';

export type EntryState = 'active' | 'release-pending' | 'released' | 'orphaned';
export type ReleasedBy = 'expiry' | 'manual' | 'flow';

/** One mitigation the package applied, keyed by (config node id, scope, target). Times are epoch milliseconds. */
export interface RegistryEntry {
  /** Stable, URL-safe hash of the key (used by the admin API). */
  id: string;
  kind: ApplianceKind;
  configId: string;
  scope: string;
  target: string;
  /** A readable name of the target, e.g. the CryptoSpike user name behind a SID. */
  label?: string;
  state: EntryState;
  /** Armed from a `simulated` result: nothing is on the appliance, so release never calls it. */
  simulated: boolean;
  firstSeen: number;
  lastSeen: number;
  hits: number;
  /** Most recent ADS event ids (bounded). */
  eventIds: string[];
  /** Absolute expiry; never a "time left" counter. */
  expiresAt: number;
  /** Start of the current block (changes on every re-arm; used to detect a re-arm during a release). */
  armedAt: number;
  ttlSeconds: number;
  /** Start times of recent blocks (escalation history, bounded). */
  blocks: number[];
  /** Id of the TTL node that last armed the entry (it gets the lifecycle messages). */
  owner?: string;
  /** Failed release attempts since the block started. */
  attempts: number;
  nextAttemptAt?: number;
  lastError?: string;
  releasedAt?: number;
  releasedBy?: ReleasedBy;
}

export const MAX_EVENT_IDS = 20;
export const MAX_BLOCK_HISTORY = 32;

export function keyString(key: MitigationKey): string {
  return `${key.configId}\u0000${key.scope}\u0000${key.target}`;
}

export function entryId(key: MitigationKey): string {
  return createHash('sha256').update(keyString(key)).digest('base64url').slice(0, 16);
}

export function entryKey(e: RegistryEntry): MitigationKey {
  return { configId: e.configId, scope: e.scope, target: e.target };
}

/** A copy that listeners and API callers may keep or mutate without touching the registry. */
export function copyEntry(e: RegistryEntry): RegistryEntry {
  return { ...e, eventIds: [...e.eventIds], blocks: [...e.blocks] };
}

/** The moment the scheduler must act on an entry, or undefined when nothing is due. */
export function dueAt(e: RegistryEntry): number | undefined {
  if (e.state === 'active') return e.expiresAt;
  if (e.state === 'release-pending') return e.nextAttemptAt ?? e.expiresAt;
  return undefined;
}

const STATES: ReadonlySet<string> = new Set(['active', 'release-pending', 'released', 'orphaned']);

/** Shape check for records read back from disk. */
export function isRegistryEntry(v: unknown): v is RegistryEntry {
  const e = v as Partial<RegistryEntry> | null;
  return (
    !!e &&
    typeof e.id === 'string' &&
    typeof e.configId === 'string' &&
    typeof e.scope === 'string' &&
    typeof e.target === 'string' &&
    typeof e.state === 'string' &&
    STATES.has(e.state) &&
    typeof e.expiresAt === 'number' &&
    Number.isFinite(e.expiresAt) &&
    Array.isArray(e.eventIds) &&
    Array.isArray(e.blocks)
  );
}
