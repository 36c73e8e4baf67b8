import { createHash } from 'node:crypto';
import type { DecisionRecord, HoldInfo } from '../decisions/types';
import type { ApplianceKind, MitigationKey } from '../mitigation/types';
import { applianceText, plainText } from '../text/plain-text';
import { boundDecision, boundHold, isHoldInfo } from './hold-bounds';

/**
 * `held`: a block the package would make, waiting for a person (until `hold.decideBy`). `approving`: a decision to
 * apply it is journaled and the appliance is being asked (retried like a release). `discarded`: decided against, or
 * refused by the appliance (terminal). `approved`: an ambiguous CryptoSpike entry whose block now lives under the
 * chosen user's key (terminal). A non-ambiguous held entry that is applied becomes `active` itself.
 */
export type EntryState =
  | 'active'
  | 'release-pending'
  | 'released'
  | 'orphaned'
  | 'held'
  | 'approving'
  | 'discarded'
  | 'approved';
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
  /** ADS event ids: the first one ever recorded, then the most recent ones (MAX_EVENT_IDS in all); `hits` counts all. */
  eventIds: string[];
  /** Absolute expiry; never a "time left" counter. 0 while the block is not applied (held, approving, discarded). */
  expiresAt: number;
  /** Start of the current block (changes on every re-arm; used to detect a re-arm during a release); 0 when held. */
  armedAt: number;
  /** The TTL of the block (for a held entry: the TTL it gets when it is applied). */
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
  /** The editor user who asked for a manual release (adminAuth name, or "anonymous"). */
  releaseRequestedBy?: string;
  /** Why and since when the block waits for a person; kept after the decision (also once applied). */
  hold?: HoldInfo;
  /** The decision taken on the held block. */
  decision?: DecisionRecord;
}

/**
 * Bounds of an entry, so that neither memory nor the journal line written per change can be grown from outside (an
 * event id, a user name or an appliance error is whatever the event or the appliance said). With them a journal
 * line stays under MAX_RECORD_BYTES whatever the input.
 */
/** Event ids kept per entry: the first one and the 19 most recent. */
export const MAX_EVENT_IDS = 20;
/** Characters per event id (ADS ids are numbers; longer ones are cut). */
export const MAX_EVENT_ID_LENGTH = 128;
export const MAX_LABEL_LENGTH = 256;
export const MAX_ERROR_LENGTH = 512;
export const MAX_OWNER_LENGTH = 128;
/** The key fields (config node id, scope, target) cannot be cut without changing the key: longer ones are refused. */
export const MAX_KEY_FIELD_LENGTH = 512;
export const MAX_BLOCK_HISTORY = 32;
/** Upper bound of one entry as a journal line, in UTF-8 bytes (the sum of the bounds above and of hold-bounds.ts, with JSON's escapes). */
export const MAX_RECORD_BYTES = 64 * 1024;

/** Why a key cannot be recorded, or null. */
export function keyProblem(key: MitigationKey): string | null {
  for (const [name, value] of [['config id', key.configId], ['scope', key.scope], ['target', key.target]]) {
    if (typeof value !== 'string' || value.length === 0) return `the ${name} is missing`;
    if (value.length > MAX_KEY_FIELD_LENGTH) return `the ${name} is longer than ${MAX_KEY_FIELD_LENGTH} characters`;
  }
  return null;
}

/**
 * An event id as recorded: printable, without markup (the ids go into appliance comments when an entry is put back)
 * and at most MAX_EVENT_ID_LENGTH characters; "" when nothing is left.
 */
export function eventIdText(id: unknown): string {
  return applianceText(id, MAX_EVENT_ID_LENGTH);
}

/** Records an event id: the first id stays, the rest keeps the most recent; a repeated id is not added again. */
export function addEventId(ids: string[], id: unknown): void {
  const text = eventIdText(id);
  if (!text || ids.includes(text)) return;
  ids.push(text);
  if (ids.length > MAX_EVENT_IDS) ids.splice(1, ids.length - MAX_EVENT_IDS);
}

export function labelText(label: unknown): string | undefined {
  return plainText(label, MAX_LABEL_LENGTH) || undefined;
}

export function errorText(error: unknown): string {
  return plainText(error, MAX_ERROR_LENGTH) || 'unknown error';
}

/** Brings an entry read back from disk (written by an older version, or edited) within the bounds. */
export function boundEntry(e: RegistryEntry): RegistryEntry {
  const ids = e.eventIds.filter((id): id is string => typeof id === 'string');
  e.eventIds = [];
  if (ids.length > 0) addEventId(e.eventIds, ids[0]);
  for (const id of ids.slice(1).slice(-MAX_EVENT_IDS)) addEventId(e.eventIds, id);
  e.blocks = e.blocks.filter((t) => typeof t === 'number').slice(-MAX_BLOCK_HISTORY);
  if (e.label !== undefined) e.label = labelText(e.label);
  if (e.releaseRequestedBy !== undefined) e.releaseRequestedBy = labelText(e.releaseRequestedBy);
  if (e.lastError !== undefined) e.lastError = errorText(e.lastError);
  if (e.owner !== undefined && (typeof e.owner !== 'string' || e.owner.length > MAX_OWNER_LENGTH)) delete e.owner;
  if (e.hold !== undefined) e.hold = boundHold(e.hold);
  if (e.decision !== undefined) {
    const decision = boundDecision(e.decision);
    if (decision) e.decision = decision;
    else delete e.decision;
  }
  return e;
}

export function keyString(key: MitigationKey): string {
  return `${key.configId}\u0000${key.scope}\u0000${key.target}`;
}

export function entryId(key: MitigationKey): string {
  return createHash('sha256').update(keyString(key)).digest('base64url').slice(0, 16);
}

export function entryKey(e: RegistryEntry): MitigationKey {
  return { configId: e.configId, scope: e.scope, target: e.target };
}

/**
 * A new entry for `key`, not yet armed or held: an earlier entry of the key (released, discarded, …) passes on its
 * first-seen time, hits, event ids and escalation history.
 */
export function freshEntry(key: MitigationKey, kind: ApplianceKind, prev: RegistryEntry | undefined, now: number): RegistryEntry {
  return {
    id: entryId(key),
    kind,
    configId: key.configId,
    scope: key.scope,
    target: key.target,
    state: 'active',
    simulated: false,
    firstSeen: prev ? prev.firstSeen : now,
    lastSeen: now,
    hits: prev ? prev.hits : 0,
    eventIds: prev ? prev.eventIds : [],
    expiresAt: 0,
    armedAt: 0,
    ttlSeconds: 0,
    blocks: prev ? prev.blocks : [],
    attempts: 0,
  };
}

/** A copy that listeners and API callers may keep or mutate without touching the registry. */
export function copyEntry(e: RegistryEntry): RegistryEntry {
  const copy: RegistryEntry = { ...e, eventIds: [...e.eventIds], blocks: [...e.blocks] };
  if (e.hold) copy.hold = copyHold(e.hold);
  if (e.decision) copy.decision = { ...e.decision, by: { ...e.decision.by } };
  return copy;
}

function copyHold(h: HoldInfo): HoldInfo {
  const copy: HoldInfo = { ...h, event: h.event && { ...h.event } };
  if (h.candidates) copy.candidates = h.candidates.map((c) => ({ ...c }));
  return copy;
}

/** The moment the scheduler must act on an entry, or undefined when nothing is due. */
export function dueAt(e: RegistryEntry): number | undefined {
  if (e.state === 'active') return e.expiresAt;
  if (e.state === 'release-pending') return e.nextAttemptAt ?? e.expiresAt;
  // A held entry's decide-by is its expiry: the default decision is taken then.
  if (e.state === 'held') return e.hold?.decideBy;
  if (e.state === 'approving') return e.nextAttemptAt ?? e.decision?.at ?? 0;
  return undefined;
}

/** Held or approving: a block that is not on the appliance yet, with a question asked or answered. */
export function isPendingHold(e: Pick<RegistryEntry, 'state'>): boolean {
  return e.state === 'held' || e.state === 'approving';
}

/** A state that ends a held block without the block being applied under this key (discarded, approved). */
export function isDecidedHold(e: Pick<RegistryEntry, 'state'>): boolean {
  return e.state === 'discarded' || e.state === 'approved';
}

/** An orphaned entry whose approved block was never applied (its config node was gone when it was to be). */
export function isUnappliedApproval(e: Readonly<RegistryEntry>): boolean {
  return e.armedAt === 0 && e.decision?.action === 'approve';
}

/** When a finished entry (released, discarded, approved) ended: its retention runs from then. */
export function endedAt(e: Readonly<RegistryEntry>): number | undefined {
  if (e.state === 'released') return e.releasedAt ?? 0;
  if (isDecidedHold(e)) return e.decision?.at ?? e.lastSeen;
  return undefined;
}

const STATES: ReadonlySet<string> = new Set([
  'active',
  'release-pending',
  'released',
  'orphaned',
  'held',
  'approving',
  'discarded',
  'approved',
]);

/** Shape check for records read back from disk. */
export function isRegistryEntry(v: unknown): v is RegistryEntry {
  const e = v as Partial<RegistryEntry> | null;
  return (
    !!e &&
    typeof e.id === 'string' &&
    e.id.length <= MAX_KEY_FIELD_LENGTH &&
    keyProblem(e as MitigationKey) === null &&
    typeof e.state === 'string' &&
    STATES.has(e.state) &&
    typeof e.expiresAt === 'number' &&
    Number.isFinite(e.expiresAt) &&
    Array.isArray(e.eventIds) &&
    Array.isArray(e.blocks) &&
    // A question cannot be asked again without what it was about.
    (!isPendingHold(e as RegistryEntry) || isHoldInfo(e.hold))
  );
}
