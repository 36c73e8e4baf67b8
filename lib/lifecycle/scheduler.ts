/**
 * Releases registry entries when they fall due. One timer for the nearest due time, clamped to `maxWaitMs` so no
 * wait exceeds what setTimeout can hold (24.8 days); a TTL of a year is reached by hourly re-checks against the
 * absolute `expiresAt`. A release goes through the appliance config node that applied the block; failures stay
 * `release-pending` and are retried with exponential backoff; a missing config node makes the entry `orphaned`.
 * Releases are started at most `concurrency` at a time per appliance, so a start-up backlog is paced.
 * Held entries fall due at their decide-by and approving entries when their apply is to be tried (again): both are
 * handed to the decisions (see DueDecisions), the most urgent hold first.
 *
 * With a shared store only the instance that leads (see Leadership) does any of this; a person's release runs on
 * whichever instance was asked. Before each appliance call of its own, and before handing due holds to the decisions,
 * the leader confirms at the store that it still leads (fencing), so one that lost the lock unnoticed does nothing.
 */
import { entryKey, RegistryEntry, ReleasedBy, dueAt, isDecidedHold, isPendingHold } from '../registry/entry';
import type { MitigationRegistry, RegistryChange } from '../registry/registry';
import { SoleLeadership } from '../store/sole-leadership';
import type { Leadership } from '../store/types';
import { LOADMASTER_COMMENT_TAG, MitigationAppliance } from '../mitigation/types';
import { retryDelay } from './backoff';
import { DueQueue } from './due-queue';

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Reads the globals at call time, so fake timers installed later (tests) are honoured. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    (t as { unref?: () => void }).unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface ApplianceResolver {
  /** The appliance config node, or null when it does not exist (or is not an appliance). */
  resolve(configId: string): MitigationAppliance | null;
  /**
   * True once flows have started, false while they stop or (re)start, undefined when not known. Only when true does
   * a missing config node mean "gone" (orphaned); otherwise the release is deferred.
   */
  flowsRunning(): boolean | undefined;
}

/** What the scheduler asks of the decisions when a held or approving entry falls due (DecisionService). */
export interface DueDecisions {
  /** A held entry's decide-by passed: take its default decision. */
  timeout(id: string): void;
  /** An approving entry is due: apply it (after a start, a failure or a deferral). */
  resume(id: string): void;
}

export interface SchedulerOptions {
  clock?: Clock;
  /** Without it, held and approving entries are left alone. */
  decisions?: DueDecisions;
  maxWaitMs?: number;
  concurrency?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  pruneEveryMs?: number;
  log?: { warn(msg: string): void };
  /** Whether this instance releases (a shared store); without it, always. */
  leadership?: Leadership;
}

/** `not-a-block`: the entry is a held block (held, approving, discarded, approved), decided, never released. */
export type ReleaseStatus = 'released' | 'orphaned' | 'failed' | 'unknown' | 'deferred' | 'not-a-block';

export interface ReleaseResult {
  status: ReleaseStatus;
  entry?: RegistryEntry;
  error?: string;
}

export class ReleaseScheduler {
  private readonly clock: Clock;
  private readonly maxWaitMs: number;
  private readonly concurrency: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly pruneEveryMs: number;
  private readonly logger: { warn(msg: string): void };
  private readonly decisions: DueDecisions | undefined;
  private readonly leadership: Leadership;
  /** The loss of leadership found by a fencing check was logged (once per loss). */
  private fenceLogged = false;
  private readonly queue = new DueQueue();
  private timer: unknown;
  private timerDue = Infinity;
  private timerToken = 0;
  private running = false;
  private lastPrune: number;
  private readonly inFlight = new Map<string, Promise<ReleaseResult>>();
  private readonly waiting = new Map<string, string[]>();
  private readonly active = new Map<string, number>();
  private readonly onChange = (c: RegistryChange) => this.noteChange(c);
  private readonly onLeadership = (leading: boolean) => (leading ? this.takeCharge() : this.standDown());

  constructor(
    private readonly registry: MitigationRegistry,
    private readonly appliances: ApplianceResolver,
    opts: SchedulerOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.maxWaitMs = opts.maxWaitMs ?? 3_600_000;
    this.concurrency = opts.concurrency ?? 4;
    this.retryBaseMs = opts.retryBaseMs ?? 5_000;
    this.retryMaxMs = opts.retryMaxMs ?? 300_000;
    this.pruneEveryMs = opts.pruneEveryMs ?? 3_600_000;
    this.logger = opts.log ?? console;
    this.decisions = opts.decisions;
    this.leadership = opts.leadership ?? new SoleLeadership();
    this.lastPrune = this.clock.now();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.registry.on('change', this.onChange);
    this.leadership.on('change', this.onLeadership);
    if (this.leadership.isLeader) {
      this.rebuild();
      this.tick();
    }
    // Entries a shared store loads asynchronously arrive when the registry is ready.
    this.registry.ready.then(
      () => this.takeCharge(),
      () => undefined,
    );
  }

  stop(): void {
    this.running = false;
    this.registry.off('change', this.onChange);
    this.leadership.off('change', this.onLeadership);
    this.standDown();
  }

  /** Runs everything due now (used at flow start, when overdue entries may be waiting). */
  sweep(): void {
    if (this.running) this.tick();
  }

  /** Releases an entry now, by the same path as expiry. */
  releaseNow(id: string, by: ReleasedBy = 'manual'): Promise<ReleaseResult> {
    const e = this.registry.get(id);
    if (!e) return Promise.resolve({ status: 'unknown' });
    if (e.state === 'released') return Promise.resolve({ status: 'released', entry: e });
    if (isPendingHold(e) || isDecidedHold(e)) return Promise.resolve({ status: 'not-a-block', entry: e });
    return this.release(id, by);
  }

  /** Orphaned entries whose config node exists again are released through it (by the instance that leads). */
  adoptOrphans(): void {
    if (!this.leadership.isLeader) return;
    for (const e of this.registry.values()) {
      if (e.state === 'orphaned' && this.appliances.resolve(e.configId)) void this.registry.adopt(e.id);
    }
  }

  /**
   * True when this instance leads and the store confirms it right now (fencing, as before every release): for other
   * work of the releasing role that calls the appliances, such as reconcile.
   */
  async confirmLeading(): Promise<boolean> {
    return this.leadership.isLeader && this.stillLeading();
  }

  /** The nearest due time the scheduler knows of (for status display). */
  get nextDue(): number | undefined {
    this.dropStale();
    return this.queue.peek()?.due;
  }

  /** This instance leads (again), or its entries arrived: everything due is found anew. */
  private takeCharge(): void {
    if (!this.running || !this.leadership.isLeader) return;
    this.fenceLogged = false;
    this.rebuild();
    if (this.appliances.flowsRunning() === true) this.adoptOrphans();
    this.tick();
  }

  /** Another instance leads: nothing is due here until this one leads again. */
  private standDown(): void {
    this.cancelTimer();
    this.queue.clear();
    this.waiting.clear();
  }

  /** Fencing: false (logged once per loss, and the scheduler stands down) when this instance no longer leads. */
  private async stillLeading(): Promise<boolean> {
    let leading = false;
    try {
      leading = await this.leadership.confirm();
    } catch {
      leading = false;
    }
    if (leading) return true;
    if (!this.fenceLogged) {
      this.fenceLogged = true;
      this.log(`this instance no longer leads (${this.leadership.describe()}): it leaves releases and decide-by defaults to the leader`);
    }
    this.standDown();
    return false;
  }

  private noteChange(c: RegistryChange): void {
    if (!this.running || !this.leadership.isLeader) return;
    const due = dueAt(c.entry);
    // A release or an approval just started is already being carried out by whoever started it.
    if (due === undefined || c.type === 'releasing' || c.type === 'approving') return;
    this.queue.push({ due, id: c.entry.id });
    if (due < this.timerDue) this.arm();
  }

  /** A due time noted while the release was in flight was skipped by tick(): queue it again. */
  private requeue(id: string): void {
    const e = this.registry.get(id);
    const due = e && dueAt(e);
    if (!this.running || !this.leadership.isLeader || due === undefined) return;
    this.queue.push({ due, id });
    if (due < this.timerDue) this.arm();
  }

  private rebuild(): void {
    this.queue.clear();
    for (const e of this.registry.values()) {
      const due = dueAt(e);
      if (due !== undefined) this.queue.push({ due, id: e.id });
    }
  }

  private dropStale(): void {
    for (let top = this.queue.peek(); top; top = this.queue.peek()) {
      const e = this.registry.get(top.id);
      if (e && dueAt(e) === top.due) return;
      this.queue.pop();
    }
  }

  private tick(): void {
    if (!this.running || !this.leadership.isLeader) return;
    const now = this.clock.now();
    if (this.appliances.flowsRunning() === false) {
      this.arm(); // waits for sweep() at flow start
      return;
    }
    const holds: RegistryEntry[] = [];
    for (let top = this.queue.peek(); top && top.due <= now; top = this.queue.peek()) {
      this.queue.pop();
      const e = this.registry.get(top.id);
      if (!e || dueAt(e) !== top.due || this.inFlight.has(top.id)) continue;
      if (isPendingHold(e)) holds.push(e);
      else this.enqueue(e);
    }
    this.dispatchHolds(holds);
    if (now - this.lastPrune >= this.pruneEveryMs) {
      this.lastPrune = now;
      void this.registry.prune();
    }
    if (this.queue.size > 4 * Math.max(this.registry.size, 1000)) this.rebuild();
    this.arm();
  }

  private arm(): void {
    this.cancelTimer();
    if (!this.running || !this.leadership.isLeader) return;
    this.dropStale();
    const now = this.clock.now();
    const next = this.queue.peek()?.due ?? Infinity;
    const paused = this.appliances.flowsRunning() === false;
    const wait = paused ? this.maxWaitMs : Math.min(Math.max(next - now, 0), this.maxWaitMs);
    const token = ++this.timerToken;
    this.timerDue = now + wait;
    this.timer = this.clock.setTimeout(() => {
      if (token !== this.timerToken) return;
      this.timer = undefined;
      this.timerDue = Infinity;
      this.tick();
    }, wait);
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDue = Infinity;
    this.timerToken++;
  }

  /**
   * Due held and approving entries go to the decisions all at once, the highest hold priority first: the decisions
   * only journal, and applies queue at the appliance, which paces them in that order.
   */
  private dispatchHolds(holds: RegistryEntry[]): void {
    const decisions = this.decisions;
    if (!decisions || holds.length === 0) return;
    void this.stillLeading().then((leading) => {
      if (leading) this.decide(decisions, holds);
    });
  }

  private decide(decisions: DueDecisions, holds: RegistryEntry[]): void {
    holds.sort((a, b) => (b.hold?.priority ?? 0) - (a.hold?.priority ?? 0));
    for (const e of holds) {
      if (e.state === 'held') decisions.timeout(e.id);
      else decisions.resume(e.id);
    }
  }

  /** Per-appliance pacing: at most `concurrency` releases in flight for one config node. */
  private enqueue(e: RegistryEntry): void {
    const list = this.waiting.get(e.configId) ?? [];
    list.push(e.id);
    this.waiting.set(e.configId, list);
    this.pump(e.configId);
  }

  private pump(configId: string): void {
    const list = this.waiting.get(configId);
    while (list && list.length > 0 && (this.active.get(configId) ?? 0) < this.concurrency) {
      const id = list.shift() as string;
      const e = this.registry.get(id);
      // Skip entries re-armed or released while they waited for a slot.
      if (!e || this.inFlight.has(id) || (dueAt(e) ?? Infinity) > this.clock.now()) continue;
      void this.release(id, 'expiry');
    }
    if (list && list.length === 0) this.waiting.delete(configId);
  }

  private release(id: string, by: ReleasedBy): Promise<ReleaseResult> {
    const running = this.inFlight.get(id);
    if (running) return running;
    const e = this.registry.get(id);
    if (!e) return Promise.resolve({ status: 'unknown' });
    this.active.set(e.configId, (this.active.get(e.configId) ?? 0) + 1);
    const p = this.attempt(e, by).finally(() => {
      this.inFlight.delete(id);
      this.active.set(e.configId, (this.active.get(e.configId) ?? 1) - 1);
      this.requeue(id);
      this.pump(e.configId);
    });
    this.inFlight.set(id, p);
    return p;
  }

  private async attempt(e: RegistryEntry, by: ReleasedBy): Promise<ReleaseResult> {
    const reg = this.registry;
    if (e.simulated) {
      await reg.markReleased(e.id, by);
      return { status: 'released', entry: reg.get(e.id) };
    }
    const appliance = this.appliances.resolve(e.configId);
    if (!appliance) {
      if (this.appliances.flowsRunning() === true) {
        await reg.markOrphaned(e.id);
        return { status: 'orphaned', entry: reg.get(e.id) };
      }
      // Flows are not known to be running: look again shortly instead of declaring the config node gone.
      await reg.deferRelease(e.id, this.clock.now() + this.retryBaseMs);
      return { status: 'deferred', entry: reg.get(e.id) };
    }
    const armedAt = e.armedAt;
    const expiry = by === 'expiry';
    await reg.markReleasing(e.id, expiry ? armedAt : undefined);
    const releasing = reg.get(e.id);
    // Re-armed on another instance before the release started: the new block stands.
    if (expiry && (releasing?.state !== 'release-pending' || releasing.armedAt !== armedAt)) {
      return { status: 'deferred', entry: releasing };
    }
    // Expiry and its retries are the leader's: the new leader finds the entry release-pending and releases it.
    if (expiry && !(await this.stillLeading())) return { status: 'deferred', entry: releasing };
    try {
      await appliance.releaseMitigation(entryKey(e));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const now = reg.get(e.id);
      // Re-armed (or held) meanwhile: the failed release left the block in place, which is what the new state wants.
      if (now && now.armedAt === armedAt && now.state === 'release-pending') {
        const delay = retryDelay(now.attempts, this.retryBaseMs, this.retryMaxMs);
        await reg.markReleaseFailed(e.id, message, this.clock.now() + delay);
      }
      return { status: 'failed', entry: reg.get(e.id), error: message };
    }
    const after = reg.get(e.id);
    if (after && after.state === 'active' && after.armedAt !== armedAt) {
      if (expiry && !(await this.stillLeading())) return { status: 'released', entry: reg.get(e.id) };
      await this.reapplyAfterRace(after, appliance);
      return { status: 'released', entry: reg.get(e.id) };
    }
    // Held while the release was in flight: the block is off the appliance and markReleased leaves the question.
    await reg.markReleased(e.id, by);
    return { status: 'released', entry: reg.get(e.id) };
  }

  /** A new block arrived while the old one was being removed: put it back so the new TTL is enforced. */
  private async reapplyAfterRace(e: RegistryEntry, appliance: MitigationAppliance): Promise<void> {
    if (!appliance.reapplyMitigation) {
      this.log(`${e.target} was re-blocked while its release was in flight; the appliance cannot re-apply it`);
      return;
    }
    try {
      await appliance.reapplyMitigation(entryKey(e), reapplyComment(e));
    } catch (err) {
      this.log(`re-applying ${e.target} after a release race failed: ${err instanceof Error ? err.message : err}`);
    }
  }

  private log(msg: string): void {
    this.logger.warn(msg);
  }
}

/** The comment written when an entry is put back on a LoadMaster (carries the package's tag). */
export function reapplyComment(e: RegistryEntry): string {
  const event = e.eventIds[e.eventIds.length - 1];
  return event ? `${LOADMASTER_COMMENT_TAG} event ${event}` : LOADMASTER_COMMENT_TAG;
}
