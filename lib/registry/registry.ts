/**
 * The registry of mitigations this package applied: the single owner of entries. State changes are applied in
 * memory at once (so `isActive` answers immediately) and the returned promise resolves once the change is durable.
 * Every change is announced as a `change` event ({@link RegistryChange}); the release scheduler, the TTL nodes and
 * the sidebar listen to it.
 */
import { EventEmitter } from 'node:events';
import type { DecisionRecord, HoldInfo, HoldRequest } from '../decisions/types';
import type { ApplianceKind, MitigationKey } from '../mitigation/types';
import { Journal, JournalLog } from '../durable/journal';
import {
  addEventId,
  boundEntry,
  copyEntry,
  endedAt,
  entryId,
  errorText,
  freshEntry,
  isDecidedHold,
  isPendingHold,
  isRegistryEntry,
  isUnappliedApproval,
  keyProblem,
  keyString,
  labelText,
  MAX_BLOCK_HISTORY,
  MAX_OWNER_LENGTH,
  RegistryEntry,
  ReleasedBy,
} from './entry';
import { boundDecision, holdInfo } from './hold-bounds';

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
  /** Journal path; without it the registry lives in memory only. */
  file?: string;
  now?: () => number;
  log?: JournalLog;
  /** How long released entries (and their escalation history) are kept. */
  retentionMs?: number;
  /** The journal's folder is the package's own (see Journal's `ownsDir`). */
  ownsDir?: boolean;
}

const DAY = 86_400_000;

export class MitigationRegistry extends EventEmitter {
  private readonly byId = new Map<string, RegistryEntry>();
  private readonly journal: Journal<RegistryEntry> | undefined;
  private readonly now: () => number;
  private retentionMs: number;

  constructor(opts: RegistryOptions = {}) {
    super();
    this.setMaxListeners(0);
    this.now = opts.now ?? (() => Date.now());
    this.retentionMs = opts.retentionMs ?? 30 * DAY;
    const log = opts.log ?? { warn: () => undefined };
    if (opts.file) {
      this.journal = new Journal<RegistryEntry>(opts.file, {
        liveEntries: () => this.byId.values(),
        liveCount: () => this.byId.size,
        log,
        isRecord: isRegistryEntry,
        intern: (e, shared) => {
          e.configId = shared(e.configId);
          e.scope = shared(e.scope);
        },
        label: 'registry journal',
        ownsDir: opts.ownsDir,
      });
      // Records written before the bounds existed are brought within them (and written so at the next compaction).
      for (const [id, e] of this.journal.load().entries) this.byId.set(id, boundEntry(e));
    }
  }

  get durable(): boolean {
    return this.journal !== undefined;
  }

  get size(): number {
    return this.byId.size;
  }

  /** True while a real (not simulated) block for this key is active and not yet due. */
  isActive(key: MitigationKey): boolean {
    const e = this.byId.get(entryId(key));
    return !!e && e.state === 'active' && !e.simulated && e.expiresAt > this.now() && sameKey(e, key);
  }

  get(id: string): RegistryEntry | undefined {
    const e = this.byId.get(id);
    return e && copyEntry(e);
  }

  getByKey(key: MitigationKey): RegistryEntry | undefined {
    return this.get(entryId(key));
  }

  list(): RegistryEntry[] {
    return [...this.byId.values()].map(copyEntry);
  }

  /** Live entries without copying; callers must not mutate them. */
  values(): IterableIterator<Readonly<RegistryEntry>> {
    return this.byId.values();
  }

  /** Counts by state and the nearest expiry of an active entry (for status badges); only those `include` accepts. */
  summary(include?: (e: RegistryEntry) => boolean): RegistrySummary {
    const s: RegistrySummary = { active: 0, pending: 0, orphaned: 0, held: 0, approving: 0 };
    for (const e of this.byId.values()) {
      if (include && !include(e)) continue;
      if (e.state === 'active') {
        s.active++;
        if (s.nextExpiry === undefined || e.expiresAt < s.nextExpiry) s.nextExpiry = e.expiresAt;
      } else if (e.state === 'release-pending') s.pending++;
      else if (e.state === 'orphaned') s.orphaned++;
      else if (e.state === 'held') s.held++;
      else if (e.state === 'approving') s.approving++;
    }
    return s;
  }

  /** Keeps released entries at least this long (the escalation window must not outlive the history). */
  ensureRetention(ms: number): void {
    if (ms > this.retentionMs) this.retentionMs = ms;
  }

  /** Blocks of this key that started within the lookback window, not counting the one currently active. */
  earlierBlocks(key: MitigationKey, lookbackMs: number): number {
    const e = this.byId.get(entryId(key));
    if (!e) return 0;
    const since = this.now() - lookbackMs;
    let n = e.blocks.filter((t) => t >= since).length;
    if (e.state === 'active' && e.blocks.length > 0 && e.blocks[e.blocks.length - 1] >= since) n--;
    return Math.max(0, n);
  }

  /**
   * Starts a block or extends an active one to the later of the two expiries (never shortens). A key field longer
   * than MAX_KEY_FIELD_LENGTH is refused (a key cannot be cut); every other field is cut to its bound.
   */
  arm(req: ArmRequest): Promise<ArmResult> {
    const problem = keyProblem(req.key);
    if (problem) return Promise.reject(new Error(`cannot record the block: ${problem}`));
    const now = this.now();
    const id = entryId(req.key);
    const expiresAt = now + req.ttlSeconds * 1000;
    const simulated = req.simulated === true;
    let e = this.byId.get(id);
    let result: ArmResult;
    if (e && e.state === 'active') {
      const previousExpiresAt = e.expiresAt;
      e.expiresAt = Math.max(e.expiresAt, expiresAt);
      if (e.expiresAt !== previousExpiresAt) e.ttlSeconds = req.ttlSeconds;
      e.simulated = e.simulated && simulated;
      touch(e, now, req);
      result = { type: 'extended', entry: copyEntry(e), previousExpiresAt };
    } else {
      // An approved block that an event blocked before its own apply returned: the entry keeps who decided.
      const decided = e?.state === 'approving' && e.hold && e.decision ? { hold: e.hold, decision: e.decision } : undefined;
      e = freshEntry(req.key, req.kind, e, now);
      if (decided) Object.assign(e, decided);
      e.simulated = simulated;
      e.expiresAt = expiresAt;
      e.armedAt = now;
      e.ttlSeconds = req.ttlSeconds;
      e.blocks = [...e.blocks, now].slice(-MAX_BLOCK_HISTORY);
      touch(e, now, req);
      this.byId.set(id, e);
      result = { type: 'armed', entry: copyEntry(e) };
    }
    if (req.decided) {
      e.hold = req.decided.hold;
      e.decision = req.decided.decision;
      result.entry = copyEntry(e);
    }
    return this.commit(e, result.type, result.previousExpiresAt).then(() => result);
  }

  /**
   * Records a block that waits for a person. An active key is answered `already-active` (nothing held, nothing
   * written); a key already held or approving counts the hit and the event id and keeps the earliest decide-by;
   * otherwise a new held entry (decide-by = now + decideWithinMs) takes the key's place.
   */
  hold(req: HoldRegistration): Promise<HoldResult> {
    const problem = keyProblem(req.key);
    if (problem) return Promise.reject(new Error(`cannot record the held block: ${problem}`));
    const now = this.now();
    const id = entryId(req.key);
    let e = this.byId.get(id);
    if (e && e.state === 'active') return Promise.resolve({ type: 'already-active', entry: copyEntry(e) });
    let hold: HoldInfo;
    try {
      hold = holdInfo(req.hold, now);
    } catch (err) {
      return Promise.reject(err);
    }
    let type: 'held' | 'held-again';
    if (e && (e.state === 'held' || e.state === 'approving') && e.hold) {
      if (hold.decideBy < e.hold.decideBy) e.hold.decideBy = hold.decideBy;
      type = 'held-again';
    } else {
      e = freshEntry(req.key, req.kind, e, now);
      e.state = 'held';
      e.ttlSeconds = req.ttlSeconds;
      e.hold = hold;
      this.byId.set(id, e);
      type = 'held';
    }
    touch(e, now, req);
    const result: HoldResult = { type, entry: copyEntry(e) };
    return this.commit(e, type).then(() => result);
  }

  /** A person (or the decide-by default) decided to apply a held entry: journaled before the appliance is asked. */
  markApproving(id: string, decision: DecisionRecord): Promise<void> {
    const e = this.byId.get(id);
    if (!e || e.state !== 'held') return Promise.resolve();
    e.state = 'approving';
    e.decision = boundDecision(decision) ?? undefined;
    e.attempts = 0;
    e.nextAttemptAt = undefined;
    e.lastError = undefined;
    return this.commit(e, 'approving');
  }

  /** Decided against (held), or refused by the appliance when it was applied (approving; `reason` says why). */
  markDiscarded(id: string, decision: DecisionRecord, reason?: string): Promise<void> {
    const e = this.byId.get(id);
    if (!e || (e.state !== 'held' && e.state !== 'approving' && !isUnappliedApproval(e))) return Promise.resolve();
    e.state = 'discarded';
    e.decision = boundDecision(decision) ?? undefined;
    e.nextAttemptAt = undefined;
    e.lastError = reason === undefined ? undefined : errorText(reason);
    return this.commit(e, 'discarded');
  }

  /** Applying an approved block failed: it stays approving and is tried again at `nextAttemptAt`. */
  markApproveFailed(id: string, error: string, nextAttemptAt: number): Promise<void> {
    const e = this.byId.get(id);
    if (!e || e.state !== 'approving') return Promise.resolve();
    return this.attemptFailed(e, error, nextAttemptAt, 'apply-failed');
  }

  /** The approved block cannot be applied yet (flows not started): try again at `at`, without counting a failure. */
  deferApproval(id: string, at: number): Promise<void> {
    const e = this.byId.get(id);
    if (!e || e.state !== 'approving') return Promise.resolve();
    return this.deferAttempt(e, at);
  }

  /**
   * The approved block is on the appliance (or simulated): the entry becomes active and its TTL starts now. The
   * hold and the decision stay on the entry. Resolves with the entry, or undefined when it was not approving.
   */
  markApplied(id: string, simulated: boolean): Promise<RegistryEntry | undefined> {
    const e = this.byId.get(id);
    if (!e || e.state !== 'approving') return Promise.resolve(undefined);
    const now = this.now();
    e.state = 'active';
    e.simulated = simulated;
    e.armedAt = now;
    e.expiresAt = now + e.ttlSeconds * 1000;
    e.blocks = [...e.blocks, now].slice(-MAX_BLOCK_HISTORY);
    e.attempts = 0;
    e.nextAttemptAt = undefined;
    e.lastError = undefined;
    const entry = copyEntry(e);
    return this.commit(e, 'applied').then(() => entry);
  }

  /** An ambiguous held entry whose block was applied under the chosen user's key: it ends here. */
  markApproved(id: string): Promise<void> {
    const e = this.byId.get(id);
    if (!e || e.state !== 'approving') return Promise.resolve();
    e.state = 'approved';
    e.nextAttemptAt = undefined;
    e.lastError = undefined;
    return this.commit(e, 'approved');
  }

  /** A release is about to be attempted: the entry no longer counts as active. */
  markReleasing(id: string): Promise<void> {
    const e = this.byId.get(id);
    if (!e || !isApplied(e)) return Promise.resolve();
    e.state = 'release-pending';
    e.nextAttemptAt = undefined;
    return this.commit(e, 'releasing');
  }

  /** Who asked for a manual release; kept on the entry (journaled with the release) for the history. */
  noteReleaseRequester(id: string, name: string): void {
    const e = this.byId.get(id);
    if (e) e.releaseRequestedBy = labelText(name);
  }

  markReleased(id: string, by: ReleasedBy): Promise<void> {
    const e = this.byId.get(id);
    // A held block was never applied under its key: there is nothing to release.
    if (!e || isPendingHold(e) || isDecidedHold(e)) return Promise.resolve();
    e.state = 'released';
    e.releasedAt = this.now();
    e.releasedBy = by;
    e.nextAttemptAt = undefined;
    e.lastError = undefined;
    // An operator's release says "this was wrong": the next block of this target starts again at the base TTL.
    if (by === 'manual') e.blocks = [];
    return this.commit(e, 'released');
  }

  markReleaseFailed(id: string, error: string, nextAttemptAt: number): Promise<void> {
    const e = this.byId.get(id);
    if (!e) return Promise.resolve();
    e.state = 'release-pending';
    return this.attemptFailed(e, error, nextAttemptAt, 'release-failed');
  }

  /** The release cannot be tried yet (flows not started): try again at `at`, without counting a failure. */
  deferRelease(id: string, at: number): Promise<void> {
    const e = this.byId.get(id);
    if (!e || !isApplied(e)) return Promise.resolve();
    e.state = 'release-pending';
    return this.deferAttempt(e, at);
  }

  /** The config node that applied (or is to apply) the block is gone: keep the entry visible, stop trying. */
  markOrphaned(id: string): Promise<void> {
    const e = this.byId.get(id);
    if (!e || !(isApplied(e) || e.state === 'approving')) return Promise.resolve();
    e.state = 'orphaned';
    e.nextAttemptAt = undefined;
    e.lastError = errorText(`appliance config node ${e.configId} no longer exists`);
    return this.commit(e, 'orphaned');
  }

  /**
   * An orphaned entry whose config node is back: release it through that node, or, when its approved block was never
   * applied, apply it.
   */
  adopt(id: string): Promise<void> {
    const e = this.byId.get(id);
    if (!e || e.state !== 'orphaned') return Promise.resolve();
    e.state = isUnappliedApproval(e) ? 'approving' : 'release-pending';
    e.nextAttemptAt = this.now();
    return this.commit(e, 'adopted');
  }

  /** Drops an entry for good (an operator confirmed an orphaned block is gone). */
  forget(id: string): Promise<void> {
    const e = this.byId.get(id);
    if (!e) return Promise.resolve();
    this.byId.delete(id);
    this.emitChange('forgotten', e);
    return this.journal ? this.journal.deleteEntry(id) : Promise.resolve();
  }

  /** Removes finished entries (released, discarded, approved) older than the retention period. Returns how many. */
  prune(): Promise<number> {
    const cutoff = this.now() - this.retentionMs;
    const removed: RegistryEntry[] = [];
    for (const e of this.byId.values()) {
      const ended = endedAt(e);
      if (ended !== undefined && ended < cutoff) removed.push(e);
    }
    const writes = removed.map((e) => {
      this.byId.delete(e.id);
      this.emitChange('pruned', e);
      return this.journal ? this.journal.deleteEntry(e.id) : Promise.resolve();
    });
    return Promise.all(writes).then(() => removed.length);
  }

  /** Resolves once every change made so far is durable. */
  flush(): Promise<void> {
    return this.journal ? this.journal.flush() : Promise.resolve();
  }

  close(): Promise<void> {
    return this.journal ? this.journal.close() : Promise.resolve();
  }

  get journalLines(): number {
    return this.journal ? this.journal.lineCount : 0;
  }

  /** A release or an apply failed: counted, with the error, and tried again at `nextAttemptAt`. */
  private attemptFailed(e: RegistryEntry, error: string, nextAttemptAt: number, type: ChangeType): Promise<void> {
    e.attempts++;
    e.lastError = errorText(error);
    e.nextAttemptAt = nextAttemptAt;
    return this.commit(e, type);
  }

  /** A release or an apply cannot be tried yet: again at `at`, without counting a failure. */
  private deferAttempt(e: RegistryEntry, at: number): Promise<void> {
    e.nextAttemptAt = at;
    return this.commit(e, 'deferred');
  }

  /** Journals the entry; listeners hear of the change once it is durable (or failed to be). */
  private commit(e: RegistryEntry, type: ChangeType, previousExpiresAt?: number): Promise<void> {
    if (!this.journal) {
      this.emitChange(type, e, previousExpiresAt);
      return Promise.resolve();
    }
    const change = this.makeChange(type, e, previousExpiresAt);
    return this.journal.putEntry(e).finally(() => this.emit('change', change));
  }

  private emitChange(type: ChangeType, e: RegistryEntry, previousExpiresAt?: number): void {
    if (this.listenerCount('change') > 0) this.emit('change', this.makeChange(type, e, previousExpiresAt));
  }

  private makeChange(type: ChangeType, e: RegistryEntry, previousExpiresAt?: number): RegistryChange {
    const change: RegistryChange = { type, entry: copyEntry(e) };
    if (previousExpiresAt !== undefined) change.previousExpiresAt = previousExpiresAt;
    return change;
  }
}

function touch(e: RegistryEntry, now: number, req: Pick<ArmRequest, 'owner' | 'label' | 'eventId'>): void {
  e.lastSeen = now;
  e.hits++;
  if (req.owner && req.owner.length <= MAX_OWNER_LENGTH) e.owner = req.owner;
  const label = labelText(req.label);
  if (label) e.label = label;
  if (req.eventId !== undefined) addEventId(e.eventIds, req.eventId);
}

/** Active or being released: the block is (still) on the appliance. */
function isApplied(e: RegistryEntry): boolean {
  return e.state === 'active' || e.state === 'release-pending';
}

function sameKey(e: RegistryEntry, key: MitigationKey): boolean {
  return e.configId === key.configId && e.scope === key.scope && e.target === key.target;
}

export { keyString };
