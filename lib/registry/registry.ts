/**
 * The registry of mitigations this package applied: the single owner of entries. State changes are applied in
 * memory at once (so `isActive` answers immediately) and the returned promise resolves once the change is durable.
 * Every change is announced as a `change` event ({@link RegistryChange}); the release scheduler, the TTL nodes and
 * the sidebar listen to it.
 */
import { EventEmitter } from 'node:events';
import type { ApplianceKind, MitigationKey } from '../mitigation/types';
import { Journal, JournalLog } from '../durable/journal';
import {
  addEventId,
  boundEntry,
  copyEntry,
  entryId,
  errorText,
  isRegistryEntry,
  keyProblem,
  keyString,
  labelText,
  MAX_BLOCK_HISTORY,
  MAX_OWNER_LENGTH,
  RegistryEntry,
  ReleasedBy,
} from './entry';

export type ChangeType =
  | 'armed'
  | 'extended'
  | 'releasing'
  | 'released'
  | 'release-failed'
  | 'deferred'
  | 'orphaned'
  | 'forgotten'
  | 'pruned';

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

  /** Counts by state and the nearest expiry of an active entry (for status badges). */
  /** Counts of the entries (those `include` accepts, when given). */
  summary(include?: (e: RegistryEntry) => boolean): RegistrySummary {
    const s: RegistrySummary = { active: 0, pending: 0, orphaned: 0 };
    for (const e of this.byId.values()) {
      if (include && !include(e)) continue;
      if (e.state === 'active') {
        s.active++;
        if (s.nextExpiry === undefined || e.expiresAt < s.nextExpiry) s.nextExpiry = e.expiresAt;
      } else if (e.state === 'release-pending') s.pending++;
      else if (e.state === 'orphaned') s.orphaned++;
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
      const history = e ? e.blocks : [];
      e = {
        id,
        kind: req.kind,
        configId: req.key.configId,
        scope: req.key.scope,
        target: req.key.target,
        state: 'active',
        simulated,
        firstSeen: e ? e.firstSeen : now,
        lastSeen: now,
        hits: e ? e.hits : 0,
        eventIds: e ? e.eventIds : [],
        expiresAt,
        armedAt: now,
        ttlSeconds: req.ttlSeconds,
        blocks: [...history, now].slice(-MAX_BLOCK_HISTORY),
        attempts: 0,
      };
      touch(e, now, req);
      this.byId.set(id, e);
      result = { type: 'armed', entry: copyEntry(e) };
    }
    return this.commit(e, result.type, result.previousExpiresAt).then(() => result);
  }

  /** A release is about to be attempted: the entry no longer counts as active. */
  markReleasing(id: string): Promise<void> {
    const e = this.byId.get(id);
    if (!e || e.state === 'released' || e.state === 'orphaned') return Promise.resolve();
    e.state = 'release-pending';
    e.nextAttemptAt = undefined;
    return this.commit(e, 'releasing');
  }

  markReleased(id: string, by: ReleasedBy): Promise<void> {
    const e = this.byId.get(id);
    if (!e) return Promise.resolve();
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
    e.attempts++;
    e.lastError = errorText(error);
    e.nextAttemptAt = nextAttemptAt;
    return this.commit(e, 'release-failed');
  }

  /** The release cannot be tried yet (flows not started): try again at `at`, without counting a failure. */
  deferRelease(id: string, at: number): Promise<void> {
    const e = this.byId.get(id);
    if (!e) return Promise.resolve();
    e.state = 'release-pending';
    e.nextAttemptAt = at;
    return this.commit(e, 'deferred');
  }

  /** The config node that applied the block is gone: keep the entry visible, stop trying. */
  markOrphaned(id: string): Promise<void> {
    const e = this.byId.get(id);
    if (!e || e.state === 'orphaned') return Promise.resolve();
    e.state = 'orphaned';
    e.nextAttemptAt = undefined;
    e.lastError = errorText(`appliance config node ${e.configId} no longer exists`);
    return this.commit(e, 'orphaned');
  }

  /** An orphaned entry whose config node is back: release it through that node. */
  adopt(id: string): Promise<void> {
    const e = this.byId.get(id);
    if (!e || e.state !== 'orphaned') return Promise.resolve();
    e.state = 'release-pending';
    e.nextAttemptAt = this.now();
    return this.commit(e, 'releasing');
  }

  /** Drops an entry for good (an operator confirmed an orphaned block is gone). */
  forget(id: string): Promise<void> {
    const e = this.byId.get(id);
    if (!e) return Promise.resolve();
    this.byId.delete(id);
    this.emitChange('forgotten', e);
    return this.journal ? this.journal.deleteEntry(id) : Promise.resolve();
  }

  /** Removes released entries older than the retention period. Returns how many were removed. */
  prune(): Promise<number> {
    const cutoff = this.now() - this.retentionMs;
    const removed: RegistryEntry[] = [];
    for (const e of this.byId.values()) {
      if (e.state === 'released' && (e.releasedAt ?? 0) < cutoff) removed.push(e);
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

function touch(e: RegistryEntry, now: number, req: ArmRequest): void {
  e.lastSeen = now;
  e.hits++;
  if (req.owner && req.owner.length <= MAX_OWNER_LENGTH) e.owner = req.owner;
  const label = labelText(req.label);
  if (label) e.label = label;
  if (req.eventId !== undefined) addEventId(e.eventIds, req.eventId);
}

function sameKey(e: RegistryEntry, key: MitigationKey): boolean {
  return e.configId === key.configId && e.scope === key.scope && e.target === key.target;
}

export { keyString };
