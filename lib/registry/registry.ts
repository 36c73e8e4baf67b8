/**
 * The registry of mitigations this package applied: the single owner of entries. State changes are applied in
 * memory at once (so `isActive` answers immediately) and the returned promise resolves once the change is durable.
 * Every change is announced as a `change` event ({@link RegistryChange}); the release scheduler, the TTL nodes and
 * the sidebar listen to it.
 */
import { EventEmitter } from 'node:events';
import type { DecisionRecord } from '../decisions/types';
import type { MitigationKey } from '../mitigation/types';
import type { JournalLog } from '../durable/journal';
import type { EntryBackend, LiveRecords, RemoteEntryChange } from '../store/types';
import { JournalEntryBackend } from './journal-backend';
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
import { CHANGE_TYPES } from './changes';
import type { ArmRequest, ArmResult, ChangeType, HoldRegistration, HoldResult, RegistryChange, RegistryOptions, RegistrySummary } from './changes';

export type { ArmRequest, ArmResult, ChangeType, HoldRegistration, HoldResult, RegistryChange, RegistryOptions, RegistrySummary } from './changes';

const DAY = 86_400_000;
const LOAD_RETRY_MS = 5_000;
/** How often a change is made again on the fresh entry when another instance keeps changing it first. */
const MAX_ATTEMPTS = 5;

/** What a state change makes of the entry it is given: nothing (only a result), or the entry to store and its type. */
type Outcome<R> = { result: R } | { result: R; store: RegistryEntry; type: ChangeType; previousExpiresAt?: number };
/** A state change, applied to a copy of the current entry (undefined when there is none); may be applied again. */
type Mutation<R> = (current: RegistryEntry | undefined) => Outcome<R>;


export class MitigationRegistry extends EventEmitter {
  /** Resolves once the stored entries are in memory (at once for the journal; PostgreSQL loads asynchronously). */
  readonly ready: Promise<void>;
  private readonly byId = new Map<string, RegistryEntry>();
  private closed = false;
  private readonly backend: EntryBackend | undefined;
  private readonly now: () => number;
  private readonly log: JournalLog;
  private retentionMs: number;

  constructor(opts: RegistryOptions = {}) {
    super();
    this.setMaxListeners(0);
    this.now = opts.now ?? (() => Date.now());
    this.retentionMs = opts.retentionMs ?? 30 * DAY;
    this.log = opts.log ?? { warn: () => undefined };
    const live: LiveRecords<RegistryEntry> = { values: () => this.byId.values(), count: () => this.byId.size };
    this.backend =
      opts.backend ??
      opts.openBackend?.(live) ??
      (opts.file ? new JournalEntryBackend(opts.file, { live, log: this.log, ownsDir: opts.ownsDir }) : undefined);
    this.ready = this.load();
    this.backend?.onRemote?.((c) => this.applyRemote(c));
  }

  get durable(): boolean {
    return this.backend !== undefined;
  }

  /** True when other instances change the same entries (PostgreSQL). */
  get shared(): boolean {
    return this.backend?.shared === true;
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
    return this.change(entryId(req.key), (e) => this.armed(e, req));
  }

  /**
   * Records a block that waits for a person. An active key is answered `already-active` (nothing held, nothing
   * written); a key already held or approving counts the hit and the event id and keeps the earliest decide-by;
   * otherwise a new held entry (decide-by = now + decideWithinMs) takes the key's place.
   */
  hold(req: HoldRegistration): Promise<HoldResult> {
    const problem = keyProblem(req.key);
    if (problem) return Promise.reject(new Error(`cannot record the held block: ${problem}`));
    return this.change(entryId(req.key), (e) => this.held(e, req));
  }

  /** A person (or the decide-by default) decided to apply a held entry: journaled before the appliance is asked. */
  markApproving(id: string, decision: DecisionRecord): Promise<void> {
    return this.update(id, 'approving', (e) => e.state === 'held', (e) => {
      e.state = 'approving';
      e.decision = boundDecision(decision) ?? undefined;
      e.attempts = 0;
      e.nextAttemptAt = undefined;
      e.lastError = undefined;
    });
  }

  /** Decided against (held), or refused by the appliance when it was applied (approving; `reason` says why). */
  markDiscarded(id: string, decision: DecisionRecord, reason?: string): Promise<void> {
    const applies = (e: RegistryEntry) => e.state === 'held' || e.state === 'approving' || isUnappliedApproval(e);
    return this.update(id, 'discarded', applies, (e) => {
      e.state = 'discarded';
      e.decision = boundDecision(decision) ?? undefined;
      e.nextAttemptAt = undefined;
      e.lastError = reason === undefined ? undefined : errorText(reason);
    });
  }

  /** Applying an approved block failed: it stays approving and is tried again at `nextAttemptAt`. */
  markApproveFailed(id: string, error: string, nextAttemptAt: number): Promise<void> {
    return this.update(id, 'apply-failed', isApproving, (e) => attemptFailed(e, error, nextAttemptAt));
  }

  /** The approved block cannot be applied yet (flows not started): try again at `at`, without counting a failure. */
  deferApproval(id: string, at: number): Promise<void> {
    return this.update(id, 'deferred', isApproving, (e) => {
      e.nextAttemptAt = at;
    });
  }

  /**
   * The approved block is on the appliance (or simulated): the entry becomes active and its TTL starts now. The
   * hold and the decision stay on the entry. Resolves with the entry, or undefined when it was not approving.
   */
  markApplied(id: string, simulated: boolean): Promise<RegistryEntry | undefined> {
    return this.change(id, (e): Outcome<RegistryEntry | undefined> => {
      if (!e || !isApproving(e)) return { result: undefined };
      const now = this.now();
      e.state = 'active';
      e.simulated = simulated;
      e.armedAt = now;
      e.expiresAt = now + e.ttlSeconds * 1000;
      e.blocks = [...e.blocks, now].slice(-MAX_BLOCK_HISTORY);
      e.attempts = 0;
      e.nextAttemptAt = undefined;
      e.lastError = undefined;
      return { result: copyEntry(e), store: e, type: 'applied' };
    });
  }

  /** An ambiguous held entry whose block was applied under the chosen user's key: it ends here. */
  markApproved(id: string): Promise<void> {
    return this.update(id, 'approved', isApproving, (e) => {
      e.state = 'approved';
      e.nextAttemptAt = undefined;
      e.lastError = undefined;
    });
  }

  /**
   * A release is about to be attempted: the entry no longer counts as active. With `armedAt`, only the block armed
   * then: one re-armed meanwhile (on another instance) is left as it is.
   */
  markReleasing(id: string, armedAt?: number): Promise<void> {
    const applies = (e: RegistryEntry) => isApplied(e) && (armedAt === undefined || e.armedAt === armedAt);
    return this.update(id, 'releasing', applies, (e) => {
      e.state = 'release-pending';
      e.nextAttemptAt = undefined;
    });
  }

  /** Who asked for a manual release; kept on the entry (journaled with the release) for the history. */
  noteReleaseRequester(id: string, name: string): void {
    const e = this.byId.get(id);
    if (!e) return;
    const noted = copyEntry(e);
    noted.releaseRequestedBy = labelText(name);
    this.byId.set(id, noted);
  }

  markReleased(id: string, by: ReleasedBy): Promise<void> {
    // A held block was never applied under its key: there is nothing to release.
    const applies = (e: RegistryEntry) => !isPendingHold(e) && !isDecidedHold(e);
    return this.update(id, 'released', applies, (e) => {
      e.state = 'released';
      e.releasedAt = this.now();
      e.releasedBy = by;
      e.nextAttemptAt = undefined;
      e.lastError = undefined;
      // An operator's release says "this was wrong": the next block of this target starts again at the base TTL.
      if (by === 'manual') e.blocks = [];
    });
  }

  markReleaseFailed(id: string, error: string, nextAttemptAt: number): Promise<void> {
    return this.update(id, 'release-failed', () => true, (e) => {
      e.state = 'release-pending';
      attemptFailed(e, error, nextAttemptAt);
    });
  }

  /** The release cannot be tried yet (flows not started): try again at `at`, without counting a failure. */
  deferRelease(id: string, at: number): Promise<void> {
    return this.update(id, 'deferred', isApplied, (e) => {
      e.state = 'release-pending';
      e.nextAttemptAt = at;
    });
  }

  /** The config node that applied (or is to apply) the block is gone: keep the entry visible, stop trying. */
  markOrphaned(id: string): Promise<void> {
    return this.update(id, 'orphaned', (e) => isApplied(e) || isApproving(e), (e) => {
      e.state = 'orphaned';
      e.nextAttemptAt = undefined;
      e.lastError = errorText(`appliance config node ${e.configId} no longer exists`);
    });
  }

  /**
   * An orphaned entry whose config node is back: release it through that node, or, when its approved block was never
   * applied, apply it.
   */
  adopt(id: string): Promise<void> {
    return this.update(id, 'adopted', (e) => e.state === 'orphaned', (e) => {
      e.state = isUnappliedApproval(e) ? 'approving' : 'release-pending';
      e.nextAttemptAt = this.now();
    });
  }

  /** Drops an entry for good (an operator confirmed an orphaned block is gone). */
  forget(id: string): Promise<void> {
    const e = this.byId.get(id);
    if (!e) return Promise.resolve();
    return this.drop(e, 'forgotten');
  }

  /** Removes finished entries (released, discarded, approved) older than the retention period. Returns how many. */
  prune(): Promise<number> {
    const cutoff = this.now() - this.retentionMs;
    const removed: RegistryEntry[] = [];
    for (const e of this.byId.values()) {
      const ended = endedAt(e);
      if (ended !== undefined && ended < cutoff) removed.push(e);
    }
    return Promise.all(removed.map((e) => this.drop(e, 'pruned'))).then(() => removed.length);
  }

  /** Resolves once every change made so far is durable. */
  flush(): Promise<void> {
    return this.backend ? this.backend.flush() : Promise.resolve();
  }

  close(): Promise<void> {
    this.closed = true;
    return this.backend ? this.backend.close() : Promise.resolve();
  }

  get journalLines(): number {
    return this.backend ? this.backend.lineCount : 0;
  }

  private armed(current: RegistryEntry | undefined, req: ArmRequest): Outcome<ArmResult> {
    const now = this.now();
    const expiresAt = now + req.ttlSeconds * 1000;
    const simulated = req.simulated === true;
    let e: RegistryEntry;
    let result: ArmResult;
    if (current && current.state === 'active') {
      e = current;
      const previousExpiresAt = e.expiresAt;
      e.expiresAt = Math.max(e.expiresAt, expiresAt);
      if (e.expiresAt !== previousExpiresAt) e.ttlSeconds = req.ttlSeconds;
      e.simulated = e.simulated && simulated;
      touch(e, now, req);
      result = { type: 'extended', entry: e, previousExpiresAt };
    } else {
      // An approved block that an event blocked before its own apply returned: the entry keeps who decided.
      const decided =
        current?.state === 'approving' && current.hold && current.decision
          ? { hold: current.hold, decision: current.decision }
          : undefined;
      e = freshEntry(req.key, req.kind, current, now);
      if (decided) Object.assign(e, decided);
      e.simulated = simulated;
      e.expiresAt = expiresAt;
      e.armedAt = now;
      e.ttlSeconds = req.ttlSeconds;
      e.blocks = [...e.blocks, now].slice(-MAX_BLOCK_HISTORY);
      touch(e, now, req);
      result = { type: 'armed', entry: e };
    }
    if (req.decided) {
      e.hold = req.decided.hold;
      e.decision = req.decided.decision;
    }
    result.entry = copyEntry(e);
    return { result, store: e, type: result.type, previousExpiresAt: result.previousExpiresAt };
  }

  private held(current: RegistryEntry | undefined, req: HoldRegistration): Outcome<HoldResult> {
    if (current && current.state === 'active') return { result: { type: 'already-active', entry: current } };
    const now = this.now();
    const hold = holdInfo(req.hold, now);
    let e: RegistryEntry;
    let type: 'held' | 'held-again';
    if (current && isPendingHold(current) && current.hold) {
      e = current;
      if (hold.decideBy < current.hold.decideBy) current.hold.decideBy = hold.decideBy;
      type = 'held-again';
    } else {
      e = freshEntry(req.key, req.kind, current, now);
      e.state = 'held';
      e.ttlSeconds = req.ttlSeconds;
      e.hold = hold;
      type = 'held';
    }
    touch(e, now, req);
    return { result: { type, entry: copyEntry(e) }, store: e, type };
  }

  /** A change of an existing entry that `applies` accepts (otherwise nothing happens). */
  private update(
    id: string,
    type: ChangeType,
    applies: (e: RegistryEntry) => boolean,
    change: (e: RegistryEntry) => void,
  ): Promise<void> {
    return this.change(id, (e): Outcome<void> => {
      if (!e || !applies(e)) return { result: undefined };
      change(e);
      return { result: undefined, store: e, type };
    });
  }

  /**
   * Copy, change, commit: the mutation's entry replaces the current one in memory at once, then is stored. When
   * another instance changed the entry first, memory takes the stored entry and the mutation decides again from it.
   * Listeners hear of the stored attempt once it is durable (or failed to be).
   */
  private change<R>(id: string, mutate: Mutation<R>, attempt = 1): Promise<R> {
    const current = this.byId.get(id);
    let outcome: Outcome<R>;
    try {
      outcome = mutate(current && copyEntry(current));
    } catch (err) {
      return Promise.reject(err);
    }
    if (!('store' in outcome)) return Promise.resolve(outcome.result);
    const { store: e, type, result } = outcome;
    this.byId.set(id, e);
    const change = this.makeChange(type, e, outcome.previousExpiresAt);
    if (!this.backend) {
      this.announce(change);
      return Promise.resolve(result);
    }
    return this.backend.put(e, type).then(
      (stored) => {
        if (!stored) {
          this.emit('change', change);
          return result;
        }
        this.takeStored(id, stored.current);
        if (attempt >= MAX_ATTEMPTS) {
          throw new Error(`${e.target} kept being changed by another instance: gave up "${type}" after ${attempt} attempts`);
        }
        return this.change(id, mutate, attempt + 1);
      },
      (err: unknown) => {
        this.emit('change', change);
        throw err;
      },
    );
  }

  private drop(e: RegistryEntry, type: 'forgotten' | 'pruned'): Promise<void> {
    this.byId.delete(e.id);
    this.announce(this.makeChange(type, e));
    return this.backend ? this.backend.delete(e.id, type) : Promise.resolve();
  }

  /** Loads the stored entries; an asynchronous load that fails is tried again (ready resolves once one succeeds). */
  private load(): Promise<void> {
    const loaded = this.backend?.load();
    if (loaded === undefined) return Promise.resolve();
    if (Array.isArray(loaded)) {
      for (const e of loaded) this.byId.set(e.id, e);
      return Promise.resolve();
    }
    return loaded.then(
      (entries) => {
        // An entry changed here while the load ran is newer than the loaded one.
        for (const e of entries) if (isRegistryEntry(e) && !this.byId.has(e.id)) this.byId.set(e.id, boundEntry(e));
      },
      async (err: unknown) => {
        this.log.warn(`the registry could not load its entries (trying again in 5 s): ${errorText(err instanceof Error ? err.message : err)}`);
        await new Promise((resolve) => setTimeout(resolve, LOAD_RETRY_MS).unref());
        return this.closed ? undefined : this.load();
      },
    );
  }

  /** Another instance changed or deleted an entry: memory follows, and listeners hear of it as `remote`. */
  private applyRemote(c: RemoteEntryChange): void {
    const before = this.byId.get(c.id);
    const entry = isRegistryEntry(c.entry) ? boundEntry(copyEntry(c.entry)) : undefined;
    this.takeStored(c.id, entry);
    const announced = entry ?? before;
    if (!announced || !CHANGE_TYPES.has(c.type)) return;
    const change = this.makeChange(c.type as ChangeType, announced);
    change.remote = true;
    this.announce(change);
  }

  private takeStored(id: string, entry: RegistryEntry | undefined): void {
    if (entry) this.byId.set(id, entry);
    else this.byId.delete(id);
  }

  private announce(change: RegistryChange): void {
    if (this.listenerCount('change') > 0) this.emit('change', change);
  }

  private makeChange(type: ChangeType, e: RegistryEntry, previousExpiresAt?: number): RegistryChange {
    const change: RegistryChange = { type, entry: copyEntry(e) };
    if (previousExpiresAt !== undefined) change.previousExpiresAt = previousExpiresAt;
    return change;
  }
}

/** A release or an apply failed: counted, with the error, and tried again at `nextAttemptAt`. */
function attemptFailed(e: RegistryEntry, error: string, nextAttemptAt: number): void {
  e.attempts++;
  e.lastError = errorText(error);
  e.nextAttemptAt = nextAttemptAt;
}

function isApproving(e: RegistryEntry): boolean {
  return e.state === 'approving';
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
