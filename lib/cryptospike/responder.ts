/**
 * Resolves the user behind an event and blocks, unblocks or only reports them, with every safety check on the way:
 * protected users, the hold gate (approval mode and storm cap: a new block that does not pass is held for a
 * person), simulate mode, and de-duplication of bursts (one lookup per source while in flight or cached, one block
 * per user while in flight, recently blocked, or active in the registry). Several users behind one source are held
 * with their candidates, for a person to choose.
 */
import { SharedCalls } from '../pacing/shared-calls';
import type { AdsEvent } from '../ads/event';
import type { HoldInfo, HoldRequest } from '../decisions/types';
import { AppliedHold, CryptoSpikeMitigation, MitigationKey, cryptoSpikeScopeKey } from '../mitigation/types';
import { queuePriority } from '../safety/approval';
import { claimedAdd } from '../safety/claimed-add';
import type { HoldGate, HoldWhy } from '../safety/hold-gate';
import type { AddClaims } from '../store/types';
import type { CryptoSpikeClient } from './client';
import { blockComment, unblockComment } from './comment';
import { ProtectedUsers } from './protected-users';
import { NamedUser, describeUser } from './records';
import { HeldUser, heldUser } from './held-user';
import { Resolution, resolveSource } from './resolver';

export type CryptoSpikeAction = 'block' | 'unblock' | 'resolve';

export interface ResponderOptions {
  client: CryptoSpikeClient;
  configId: string;
  userIdType: string;
  unblockValue: string;
  simulate: boolean;
  protectedUsers: ProtectedUsers;
  /** Approval mode and storm cap: new blocks that do not pass are held for a person. */
  holdGate: HoldGate;
  /** How long lookup results and recent blocks are remembered (ms). */
  memoryMs: number;
  /** The durable registry's view: true while this package's block on the user is active. */
  isActive?: (key: MitigationKey) => boolean;
  /** One block per user across instances (a shared store); none: this instance is the only one. */
  claims?: AddClaims;
  now?: () => number;
}

export type EventInput = Pick<
  AdsEvent,
  'kind' | 'source' | 'userIdentity' | 'id' | 'method' | 'targets' | 'dataFeed' | 'priority' | 'perspective' | 'description'
>;

/** The event fields the audit comment of a block uses. */
type CommentEvent = Parameters<typeof blockComment>[0];

export interface ActRequest {
  action: CryptoSpikeAction;
  /** The ADS/IDS event, or null when the user id is given explicitly. */
  event: EventInput | null;
  explicit?: { userId: string; username?: string | null };
  windowMinutes: number;
}

export interface ActOutcome {
  mitigation: CryptoSpikeMitigation;
  /** True for output 1 (blocked, already-blocked, unblocked, resolved, simulated). */
  acted: boolean;
  /** The appliance error behind a `failed` result. */
  error?: Error;
}

interface Remembered<T> {
  value: T;
  until: number;
}

/** One block to make, from an event or from a person's decision on a held one. */
interface BlockAsk {
  user: NamedUser;
  userIdType: string;
  /** The event that asked (null: a manual or a decided block): the gate reads its priority, a hold carries it. */
  event: EventInput | null;
  /** For the audit comment. */
  commentEvent: CommentEvent | null;
  why: string;
  /** Queue priority of the block call. */
  priority: number;
  /** A person decided: the hold gate is passed by, and the user's names are always looked up for the protection. */
  decided: boolean;
}

interface BlockOutcome {
  result: 'blocked' | 'already-blocked' | 'simulated' | 'refused' | 'held';
  reason: string;
  hold?: HoldRequest;
  /** The user with the names known after the protection check. */
  user: NamedUser;
}

/** What the one call of a burst did: blocked (or simulated), found the block there already, or held it. */
type Sent = { result: 'blocked' | 'simulated' | 'already-blocked' } | { result: 'held'; why: HoldWhy };

const APPLIED: Record<Exclude<BlockOutcome['result'], 'held'>, AppliedHold['result']> = {
  blocked: 'applied',
  'already-blocked': 'already-present',
  simulated: 'simulated',
  refused: 'refused',
};

const MEMORY_LIMIT = 10_000;

export class CryptoSpikeResponder {
  private readonly lookups = new SharedCalls<Resolution>();
  private readonly lookupCache = new Map<string, Remembered<Resolution>>();
  private readonly blocking = new SharedCalls<Sent>();
  private readonly recentBlocks = new Map<string, Remembered<'blocked' | 'simulated'>>();
  private readonly now: () => number;
  /** Lookups that reached the appliance (for the status line and the benchmark). */
  lookupCount = 0;

  constructor(private readonly options: ResponderOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Calls to the appliance waiting plus in flight. */
  get queueDepth(): number {
    return this.options.client.queueDepth;
  }

  keyFor(userId: string, userIdType = this.options.userIdType): MitigationKey {
    return { configId: this.options.configId, scope: cryptoSpikeScopeKey(userIdType), target: userId };
  }

  async act(request: ActRequest): Promise<ActOutcome> {
    const window = request.explicit ? 'none' : `${request.windowMinutes}m`;
    const base = { appliance: 'cryptospike' as const, config: this.options.configId, action: request.action };
    const finish = (partial: Partial<CryptoSpikeMitigation> & Pick<CryptoSpikeMitigation, 'result'>, acted: boolean, error?: Error) => ({
      mitigation: { ...base, user: null, userIdType: this.options.userIdType, ...partial, at: new Date(this.now()).toISOString() },
      acted,
      ...(error ? { error } : {}),
    });
    let resolution: Resolution | undefined;
    try {
      resolution = await this.resolve(request);
      if (resolution.kind === 'no-user') return finish({ result: 'no-user', reason: resolution.reason }, false);
      if (resolution.kind === 'ambiguous') {
        const candidates = resolution.candidates.map((c) => ({ userId: c.userId, username: c.username, activityCount: c.activityCount }));
        if (request.action !== 'block' || !request.event) return finish({ result: 'ambiguous', reason: resolution.reason, candidates }, false);
        // A person chooses which user (if any) to block.
        const why = { reason: 'ambiguous' as const, reasonText: resolution.reason };
        const hold = this.options.holdGate.request(why, { event: request.event, priority: queuePriority(request.event.priority), candidates });
        return finish({ result: 'held', reason: resolution.reason, candidates, hold }, false);
      }
      const { user } = resolution;
      const found = {
        user: { userId: user.userId, username: user.username },
        evidence: { window, activityCount: resolution.activityCount, via: resolution.via },
      };
      const outcome = await this.apply(request, user, resolution.reason);
      const hold = outcome.hold ? { hold: outcome.hold } : {};
      return finish({ ...found, result: outcome.result, reason: outcome.reason, ...hold }, outcome.result !== 'refused' && outcome.result !== 'held');
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      const user = resolution?.kind === 'user' ? { userId: resolution.user.userId, username: resolution.user.username } : null;
      return finish({ user, result: 'failed', reason: error.message }, false, error);
    }
  }

  /**
   * Blocks the user of a held entry a person approved (or whose decide-by default is "apply"): the never-block users
   * are checked again, then the registry short-cut, the in-flight join and the queue at `hold.priority` — but not the
   * hold gate. For an ambiguous entry `userId` must be one of its candidates. Rejects on an appliance failure.
   */
  async applyHeld(key: MitigationKey, hold: Pick<HoldInfo, 'reasonText' | 'event' | 'candidates' | 'priority'>, userId?: string): Promise<AppliedHold> {
    const target: HeldUser = heldUser(key, hold, userId);
    const outcome = await this.block({
      user: target.user,
      userIdType: target.userIdType,
      event: null,
      commentEvent: hold.event ? { ...hold.event, targets: [], dataFeed: null, userIdentity: null } : null,
      why: `held (${hold.reasonText}), then applied by a decision`,
      priority: hold.priority,
      decided: true,
    });
    if (outcome.result === 'held') throw new Error('a decided block cannot be held again');
    const label = outcome.user.username ?? target.user.username;
    return {
      result: APPLIED[outcome.result],
      key: this.keyFor(target.user.userId, target.userIdType),
      ...(label ? { label } : {}),
      ...(outcome.result === 'refused' ? { reason: outcome.reason } : {}),
    };
  }

  /** Unblocks a user this package blocked (the TTL node's release). */
  async release(key: MitigationKey): Promise<'released' | 'simulated'> {
    const userIdType = key.scope.startsWith('user:') ? key.scope.slice('user:'.length) : this.options.userIdType;
    this.recentBlocks.delete(key.target);
    if (this.options.simulate) return 'simulated';
    await this.options.client.setAccess(key.target, userIdType, this.options.unblockValue, unblockComment('the block expired'));
    return 'released';
  }

  private async resolve(request: ActRequest): Promise<Resolution> {
    if (request.explicit) {
      const user = { userId: request.explicit.userId, username: request.explicit.username ?? null, userPrincipalName: null, domain: null };
      return { kind: 'user', user, via: 'explicit', activityCount: 0, reason: 'the user id was given in the message' };
    }
    const event = request.event as EventInput;
    const identity = event.kind === 'ads' ? (event.userIdentity ?? '').toLowerCase() : '';
    const key = `${event.source}|${request.windowMinutes}|${identity}`;
    const cached = this.lookupCache.get(key);
    if (cached && cached.until > this.now()) return cached.value;
    const { value } = await this.lookups.run(key, async () => {
      this.lookupCount++;
      const resolution = await resolveSource(this.options.client, event, request.windowMinutes, this.now());
      remember(this.lookupCache, key, resolution, this.now(), this.options.memoryMs);
      return resolution;
    });
    return value;
  }

  private async apply(
    request: ActRequest,
    user: NamedUser,
    why: string,
  ): Promise<{ result: CryptoSpikeMitigation['result']; reason: string; hold?: HoldRequest }> {
    if (request.action === 'resolve') return { result: 'resolved', reason: why };
    if (request.action === 'unblock') {
      this.recentBlocks.delete(user.userId);
      if (this.options.simulate) return { result: 'simulated', reason: `simulate mode: ${describeUser(user)} would be unblocked` };
      const comment = unblockComment(request.event?.id ? `requested for event ${request.event.id}` : 'requested by a flow');
      await this.options.client.setAccess(user.userId, this.options.userIdType, this.options.unblockValue, comment);
      return { result: 'unblocked', reason: why };
    }
    const event = request.event;
    const priority = queuePriority(event?.priority);
    return this.block({ user, userIdType: this.options.userIdType, event, commentEvent: event, why, priority, decided: false });
  }

  private async block(ask: BlockAsk): Promise<BlockOutcome> {
    const { user } = ask;
    const known = await this.withNames(user, ask.decided);
    const refusal = this.options.protectedUsers.reasonFor(known);
    if (refusal) return { result: 'refused', reason: refusal, user: known };
    if (this.options.protectedUsers.needsNames && !known.username && !known.userPrincipalName) {
      return { result: 'refused', reason: `the name of ${user.userId} is unknown, so the never-block list cannot be checked`, user: known };
    }
    const recent = this.recentBlocks.get(user.userId);
    if (this.options.isActive?.(this.keyFor(user.userId, ask.userIdType)) || (recent && recent.until > this.now() && recent.value === 'blocked')) {
      return { result: 'already-blocked', reason: `${describeUser(user)} is already blocked by this package`, user: known };
    }
    if (recent && recent.until > this.now()) {
      return { result: 'simulated', reason: `simulate mode: ${describeUser(user)} would already be blocked`, user: known };
    }
    // Only a block that starts a call passes the gate; one joining a block under way shares its outcome.
    const send = () => this.blocking.run(user.userId, () => this.claimAndSend(ask, known));
    let shared = await send();
    // A person's decision that met an event's block being held goes on its own (the held one has finished).
    if (shared.joined && ask.decided && shared.value.result === 'held') shared = await send();
    return this.blockOutcome(ask, known, shared.value, shared.joined);
  }

  private blockOutcome(ask: BlockAsk, user: NamedUser, sent: Sent, joined: boolean): BlockOutcome {
    const who = describeUser(user);
    if (sent.result === 'held') {
      const hold = this.options.holdGate.request(sent.why, { event: ask.event, priority: ask.priority });
      return { result: 'held', reason: sent.why.reasonText, hold, user };
    }
    if (sent.result === 'already-blocked') return { result: 'already-blocked', reason: `${who} is already blocked by this package (another instance)`, user };
    if (joined) {
      return sent.result === 'blocked'
        ? { result: 'already-blocked', reason: `${who} was blocked for an earlier event of the same burst`, user }
        : { result: 'simulated', reason: `simulate mode: ${who} would be blocked (same burst)`, user };
    }
    remember(this.recentBlocks, user.userId, sent.result, this.now(), this.options.memoryMs);
    return { result: sent.result, reason: sent.result === 'simulated' ? `simulate mode: ${ask.why}` : ask.why, user };
  }

  /** With a shared store, claims the user across instances first: one block call per user, whichever instance. */
  private claimAndSend(ask: BlockAsk, user: NamedUser): Promise<Sent> {
    const claims = this.options.claims;
    if (!claims) return this.gateAndSend(ask, user);
    return claimedAdd<Sent>({
      claims,
      key: this.keyFor(user.userId, ask.userIdType),
      isActive: this.options.isActive,
      add: () => this.gateAndSend(ask, user),
      added: (sent) => sent.result !== 'held',
      alreadyThere: () => ({ result: 'already-blocked' }),
    });
  }

  private async gateAndSend(ask: BlockAsk, user: NamedUser): Promise<Sent> {
    if (!ask.decided) {
      const why = await this.options.holdGate.check(ask.event?.priority);
      if (why) return { result: 'held', why };
    }
    return { result: await this.sendBlock(ask, user) };
  }

  private async sendBlock(ask: BlockAsk, user: NamedUser): Promise<'blocked' | 'simulated'> {
    if (this.options.simulate) return 'simulated';
    const comment = blockComment(ask.commentEvent, user, ask.why);
    await this.options.client.setAccess(user.userId, ask.userIdType, 'BLOCKED', comment, ask.priority);
    return 'blocked';
  }

  /**
   * Fills in the user's names from the appliance when the never-block list has names and the lookup gave none; for
   * a decided block always (a held entry carries a user name at most, and the list may name the UPN).
   */
  private async withNames(user: NamedUser, always = false): Promise<NamedUser> {
    if (!this.options.protectedUsers.needsNames || (!always && (user.username || user.userPrincipalName))) return user;
    const found = (await this.options.client.searchUsers(user.userId)).find((u) => u.userId === user.userId);
    return found
      ? { ...user, username: found.username ?? user.username, userPrincipalName: found.userPrincipalName, domain: found.domain }
      : user;
  }
}

function remember<T>(map: Map<string, Remembered<T>>, key: string, value: T, now: number, ttlMs: number): void {
  if (map.size >= MEMORY_LIMIT) {
    for (const [k, v] of map) if (v.until < now) map.delete(k);
    if (map.size >= MEMORY_LIMIT) map.delete(map.keys().next().value as string);
  }
  map.set(key, { value, until: now + ttlMs });
}
