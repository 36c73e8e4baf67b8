/**
 * The one path of every decision on a held block: the sidebar, the admin API, the decision node and the decide-by
 * default all call `decide`. A decision is journaled before its promise resolves; an approval then applies the
 * block in the background through the appliance config node (`applyHeld`), retried with backoff while the appliance
 * fails, deferred while flows start and orphaned when the config node is gone, as releases are. Approving entries
 * found at start (a crash after the decision) are applied again by the scheduler, which calls `resume`.
 *
 * Every outcome is announced as a `decision` event ({@link DecisionEvent}) once it is durable.
 */
import { EventEmitter } from 'node:events';
import type { AppliedHold } from '../mitigation/types';
import type { ApplianceResolver, DueDecisions } from '../lifecycle/scheduler';
import { retryDelay } from '../lifecycle/backoff';
import { entryKey, errorText, keyString, RegistryEntry } from '../registry/entry';
import type { MitigationRegistry } from '../registry/registry';
import { checkRequest, isAmbiguous, userProblem } from './request';
import type {
  DecideRequest,
  DecideResult,
  DecisionEvent,
  DecisionEventType,
  DecisionRecord,
} from './types';

export interface DecisionServiceOptions {
  now?: () => number;
  /** First retry delay of a failed apply (doubling up to retryMaxMs), as for releases. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  log?: { warn(msg: string): void };
}

export class DecisionService extends EventEmitter implements DueDecisions {
  private readonly now: () => number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly logger: { warn(msg: string): void };
  /** Applies in flight, by entry id: a second trigger joins the first, so each approval is applied once. */
  private readonly applying = new Map<string, Promise<void>>();

  constructor(
    private readonly registry: MitigationRegistry,
    private readonly appliances: ApplianceResolver,
    opts: DecisionServiceOptions = {},
  ) {
    super();
    this.setMaxListeners(0);
    this.now = opts.now ?? (() => Date.now());
    this.retryBaseMs = opts.retryBaseMs ?? 5_000;
    this.retryMaxMs = opts.retryMaxMs ?? 300_000;
    this.logger = opts.log ?? console;
  }

  /**
   * Decides one held entry. `approved`: the decision is on disk and the block is being applied; `discarded`: on
   * disk, nothing reaches the appliance; `not-held`: decided already, or not a held entry; `unknown`: no such entry;
   * `invalid`: a bad request (an ambiguous entry needs `userId`, one of its candidates).
   */
  async decide(id: string, request: DecideRequest): Promise<DecideResult> {
    // No await before the state changes: of two decisions at once, the first one wins and the second is `not-held`.
    const checked = checkRequest(request);
    if ('problem' in checked) return { id, status: 'invalid', error: checked.problem };
    const e = this.registry.get(id);
    if (!e) return { id, status: 'unknown' };
    if (e.state !== 'held' || !e.hold) return { id, status: 'not-held', error: `the entry is ${e.state}` };
    const approve = request.action === 'approve';
    const problem = approve ? userProblem(e, request.userId) : null;
    if (problem) return { id, status: 'invalid', error: errorText(problem) };
    const decision: DecisionRecord = { action: request.action, by: checked.by, at: this.now() };
    if (approve && request.userId !== undefined) decision.userId = request.userId;
    if (!approve) {
      await this.registry.markDiscarded(id, decision);
      this.announce('discarded', id, decision);
      return { id, status: 'discarded' };
    }
    await this.registry.markApproving(id, decision);
    this.announce('approved', id, decision);
    this.resume(id);
    return { id, status: 'approved' };
  }

  /**
   * Decides several entries with one request; answers in the order of `ids`. Approvals are journaled and applied in
   * the order of their hold priority (higher first), so an appliance that serialises its calls applies them so.
   */
  async decideMany(ids: string[], request: DecideRequest): Promise<DecideResult[]> {
    const order = ids
      .map((id, index) => ({ id, index, priority: this.registry.get(id)?.hold?.priority ?? 0 }))
      .sort((a, b) => b.priority - a.priority || a.index - b.index);
    const results: DecideResult[] = new Array<DecideResult>(ids.length);
    await Promise.all(order.map(async (o) => (results[o.index] = await this.decide(o.id, request))));
    return results;
  }

  /** The decide-by of a held entry passed: its default, announced like any decision. Ambiguity is never guessed. */
  timeout(id: string): void {
    const e = this.registry.get(id);
    if (!e || e.state !== 'held' || !e.hold || e.hold.decideBy > this.now()) return;
    const action = e.hold.onTimeout === 'apply' && !isAmbiguous(e) ? 'approve' : 'discard';
    this.decide(id, { action, by: { kind: 'timeout' } }).catch((err: unknown) =>
      this.logger.warn(`the default decision on ${e.target} failed: ${message(err)}`),
    );
  }

  /** Applies an approving entry (unless its apply is in flight already). */
  resume(id: string): void {
    void this.apply(id);
  }

  /** Resolves once the applies in flight now have ended (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.applying.size > 0) await Promise.all([...this.applying.values()]);
  }

  private apply(id: string): Promise<void> {
    const running = this.applying.get(id);
    if (running) return running;
    const p = this.applyOnce(id)
      .catch((err: unknown) => this.logger.warn(`applying the approved block ${id} failed: ${message(err)}`))
      .finally(() => this.applying.delete(id));
    this.applying.set(id, p);
    return p;
  }

  private async applyOnce(id: string): Promise<void> {
    const e = this.registry.get(id);
    if (!e || e.state !== 'approving' || !e.hold || !e.decision) return;
    const decision = e.decision;
    const appliance = this.appliances.resolve(e.configId);
    if (!appliance) {
      // As for releases: only while flows run does a missing config node mean it is gone.
      if (this.appliances.flowsRunning() === true) await this.registry.markOrphaned(id);
      else await this.registry.deferApproval(id, this.now() + this.retryBaseMs);
      return;
    }
    let applied: AppliedHold;
    try {
      applied = await appliance.applyHeld(entryKey(e), e.hold, decision.userId);
    } catch (err) {
      const now = this.registry.get(id);
      if (now?.state !== 'approving') return;
      const error = message(err);
      await this.registry.markApproveFailed(id, error, this.now() + retryDelay(now.attempts, this.retryBaseMs, this.retryMaxMs));
      this.announce('apply-failed', id, decision, { error });
      return;
    }
    await this.settle(e, decision, applied);
  }

  /** Records what the appliance did with an approved block. */
  private async settle(e: RegistryEntry, decision: DecisionRecord, applied: AppliedHold): Promise<void> {
    if (applied.result === 'refused') {
      const reason = errorText(applied.reason ?? 'refused by the appliance');
      await this.registry.markDiscarded(e.id, decision, reason);
      this.announce('discarded', e.id, decision, { error: reason });
      return;
    }
    const simulated = applied.result === 'simulated';
    if (keyString(applied.key) === keyString(entryKey(e))) {
      const entry = await this.registry.markApplied(e.id, simulated);
      // Not approving any more: an event blocked the key meanwhile, which is the same block.
      const now = entry ?? this.registry.get(e.id);
      if (now?.state === 'active') this.emitEvent({ type: 'applied', entry: now, decision });
      return;
    }
    // An ambiguous entry: the block is the chosen user's, under that user's key, with the held entry's TTL.
    const chosen = e.hold?.candidates?.find((c) => c.userId === applied.key.target);
    const armed = await this.registry.arm({
      key: applied.key,
      kind: e.kind,
      ttlSeconds: e.ttlSeconds,
      simulated,
      eventId: e.hold?.event?.id ?? e.eventIds[e.eventIds.length - 1],
      owner: e.owner,
      label: applied.label ?? chosen?.username ?? undefined,
      decided: e.hold ? { hold: e.hold, decision } : undefined,
    });
    await this.registry.markApproved(e.id);
    this.emitEvent({ type: 'applied', entry: armed.entry, decision, held: this.registry.get(e.id) });
  }

  private announce(type: DecisionEventType, id: string, decision: DecisionRecord, extra: { error?: string } = {}): void {
    const entry = this.registry.get(id);
    if (entry) this.emitEvent({ type, entry, decision: entry.decision ?? decision, ...extra });
  }

  private emitEvent(event: DecisionEvent): void {
    this.emit('decision', event);
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
