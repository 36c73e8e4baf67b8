/**
 * What the registry announces and takes: its change types and events, and the shapes of its requests and results.
 */
import type { DecisionRecord, HoldInfo, HoldRequest } from '../decisions/types';
import type { JournalLog } from '../durable/journal';
import type { ApplianceKind, MitigationKey } from '../mitigation/types';
import type { EntryBackend, LiveRecords } from '../store/types';
import type { RegistryEntry } from './entry';

export type ChangeType =
  | 'armed'
  | 'extended'
  | 'releasing'
  | 'released'
  | 'release-failed'
  | 'deferred'
  | 'orphaned'
  | 'adopted'
  | 'forgotten'
  | 'pruned'
  /** A new held entry (waiting for a person). */
  | 'held'
  /** The key was held (or approving) already: a hit and an event id counted, the earliest decide-by kept. */
  | 'held-again'
  /** A decision to apply was journaled. */
  | 'approving'
  | 'apply-failed'
  /** The approved block is on the appliance: the held entry is active. */
  | 'applied'
  /** An ambiguous held entry whose block now lives under the chosen user's key. */
  | 'approved'
  | 'discarded';

export interface RegistryChange {
  type: ChangeType;
  /** A copy, safe to keep. */
  entry: RegistryEntry;
  /** For `extended`: the expiry before the repeat. */
  previousExpiresAt?: number;
  /** Made by another instance (shared store): listeners that act once per change leave it to that instance. */
  remote?: true;
}

export interface ArmRequest {
  key: MitigationKey;
  kind: ApplianceKind;
  ttlSeconds: number;
  simulated?: boolean;
  eventId?: string;
  owner?: string;
  /** A readable name of the target, e.g. the user name behind a SID. */
  label?: string;
  /** The block was held and approved (an ambiguous entry's chosen user): the entry keeps why and who decided. */
  decided?: { hold: HoldInfo; decision: DecisionRecord };
}

export interface HoldRegistration {
  key: MitigationKey;
  kind: ApplianceKind;
  hold: HoldRequest;
  /** The TTL the block gets when it is applied. */
  ttlSeconds: number;
  eventId?: string;
  /** The TTL node that records it (it gets the lifecycle messages). */
  owner?: string;
  /** The user name, or a summary of the candidates of an ambiguous user. */
  label?: string;
}

export interface HoldResult {
  /** `held`: a new held entry; `held-again`: counted on the entry already waiting; `already-active`: nothing held. */
  type: 'held' | 'held-again' | 'already-active';
  entry: RegistryEntry;
}

export interface ArmResult {
  type: 'armed' | 'extended';
  entry: RegistryEntry;
  previousExpiresAt?: number;
}

export interface RegistrySummary {
  active: number;
  pending: number;
  orphaned: number;
  /** Waiting for a person. */
  held: number;
  /** Decided to apply, being applied. */
  approving: number;
  nextExpiry?: number;
}

export interface RegistryOptions {
  /** Journal path; without it (and without a backend) the registry lives in memory only. */
  file?: string;
  /** Where the entries live (the store's, or a test's); takes precedence over `file`. */
  backend?: EntryBackend;
  /** Opens the backend with the registry's live entries (what a journal compaction writes out). */
  openBackend?: (live: LiveRecords<RegistryEntry>) => EntryBackend | undefined;
  now?: () => number;
  log?: JournalLog;
  /** How long released entries (and their escalation history) are kept. */
  retentionMs?: number;
  /** The journal's folder is the package's own (see Journal's `ownsDir`). */
  ownsDir?: boolean;
}

/** Every change type (a remote change of another type is not announced). */
export const CHANGE_TYPES: ReadonlySet<string> = new Set<ChangeType>([
  'armed', 'extended', 'releasing', 'released', 'release-failed', 'deferred', 'orphaned', 'adopted', 'forgotten',
  'pruned', 'held', 'held-again', 'approving', 'apply-failed', 'applied', 'approved', 'discarded',
]);
