/**
 * Resolves the user behind an event and blocks, unblocks or only reports them, with every safety check on the way:
 * protected users, the storm cap, simulate mode, and de-duplication of bursts (one lookup per source while in flight
 * or cached, one block per user while in flight, recently blocked, or active in the registry).
 */
import { SharedCalls } from '../pacing/shared-calls';
import type { AdsEvent } from '../ads/event';
import { CryptoSpikeMitigation, MitigationKey, cryptoSpikeScopeKey } from '../mitigation/types';
import type { StormCap } from '../safety/storm-cap';
import type { CryptoSpikeClient } from './client';
import { blockComment, unblockComment } from './comment';
import { ProtectedUsers } from './protected-users';
import { NamedUser, describeUser } from './records';
import { Resolution, resolveSource } from './resolver';

export type CryptoSpikeAction = 'block' | 'unblock' | 'resolve';

export interface ResponderOptions {
  client: CryptoSpikeClient;
  configId: string;
  userIdType: string;
  unblockValue: string;
  simulate: boolean;
  protectedUsers: ProtectedUsers;
  stormCap: StormCap;
  /** How long lookup results and recent blocks are remembered (ms). */
  memoryMs: number;
  now?: () => number;
}

export type EventInput = Pick<AdsEvent, 'kind' | 'source' | 'userIdentity' | 'id' | 'method' | 'targets' | 'dataFeed'>;

export interface ActRequest {
  action: CryptoSpikeAction;
  /** The ADS/IDS event, or null when the user id is given explicitly. */
  event: EventInput | null;
  explicit?: { userId: string; username?: string | null };
  windowMinutes: number;
  /** The durable registry's view: true while this package's block on the user is active. */
  isActive?: (key: MitigationKey) => boolean;
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

const MEMORY_LIMIT = 10_000;

export class CryptoSpikeResponder {
  private readonly lookups = new SharedCalls<Resolution>();
  private readonly lookupCache = new Map<string, Remembered<Resolution>>();
  private readonly blocking = new SharedCalls<'blocked' | 'simulated'>();
  private readonly recentBlocks = new Map<string, Remembered<'blocked' | 'simulated'>>();
  private readonly now: () => number;
  /** Lookups that reached the appliance (for the status line and the benchmark). */
  lookupCount = 0;

  constructor(private readonly options: ResponderOptions) {
    this.now = options.now ?? Date.now;
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
        return finish({ result: 'ambiguous', reason: resolution.reason, candidates }, false);
      }
      const { user } = resolution;
      const found = {
        user: { userId: user.userId, username: user.username },
        evidence: { window, activityCount: resolution.activityCount, via: resolution.via },
      };
      const outcome = await this.apply(request, user, resolution.reason);
      return finish({ ...found, result: outcome.result, reason: outcome.reason }, outcome.result !== 'refused');
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      const user = resolution?.kind === 'user' ? { userId: resolution.user.userId, username: resolution.user.username } : null;
      return finish({ user, result: 'failed', reason: error.message }, false, error);
    }
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
  ): Promise<{ result: CryptoSpikeMitigation['result']; reason: string }> {
    if (request.action === 'resolve') return { result: 'resolved', reason: why };
    if (request.action === 'unblock') {
      this.recentBlocks.delete(user.userId);
      if (this.options.simulate) return { result: 'simulated', reason: `simulate mode: ${describeUser(user)} would be unblocked` };
      const comment = unblockComment(request.event?.id ? `requested for event ${request.event.id}` : 'requested by a flow');
      await this.options.client.setAccess(user.userId, this.options.userIdType, this.options.unblockValue, comment);
      return { result: 'unblocked', reason: why };
    }
    return this.block(request, user, why);
  }

  private async block(request: ActRequest, user: NamedUser, why: string): Promise<{ result: CryptoSpikeMitigation['result']; reason: string }> {
    const known = await this.withNames(user);
    const refusal = this.options.protectedUsers.reasonFor(known);
    if (refusal) return { result: 'refused', reason: refusal };
    if (this.options.protectedUsers.needsNames && !known.username && !known.userPrincipalName) {
      return { result: 'refused', reason: `the name of ${user.userId} is unknown, so the never-block list cannot be checked` };
    }
    const recent = this.recentBlocks.get(user.userId);
    if (request.isActive?.(this.keyFor(user.userId)) || (recent && recent.until > this.now() && recent.value === 'blocked')) {
      return { result: 'already-blocked', reason: `${describeUser(user)} is already blocked by this package` };
    }
    if (recent && recent.until > this.now()) {
      return { result: 'simulated', reason: `simulate mode: ${describeUser(user)} would already be blocked` };
    }
    // Only a block that starts a call counts against the storm cap; one joining a block under way does not.
    if (!this.blocking.has(user.userId) && !this.options.stormCap.tryTake()) {
      return { result: 'refused', reason: this.options.stormCap.describe() };
    }
    const { value: result, joined } = await this.blocking.run(user.userId, () => this.sendBlock(request, user, why));
    if (joined) {
      return result === 'blocked'
        ? { result: 'already-blocked', reason: `${describeUser(user)} was blocked for an earlier event of the same burst` }
        : { result: 'simulated', reason: `simulate mode: ${describeUser(user)} would be blocked (same burst)` };
    }
    remember(this.recentBlocks, user.userId, result, this.now(), this.options.memoryMs);
    return { result, reason: result === 'simulated' ? `simulate mode: ${why}` : why };
  }

  private async sendBlock(request: ActRequest, user: NamedUser, why: string): Promise<'blocked' | 'simulated'> {
    if (this.options.simulate) return 'simulated';
    await this.options.client.setAccess(user.userId, this.options.userIdType, 'BLOCKED', blockComment(request.event, user, why));
    return 'blocked';
  }

  /** Fills in the user's names from the appliance when the never-block list has names and the lookup gave none. */
  private async withNames(user: NamedUser): Promise<NamedUser> {
    if (user.username || user.userPrincipalName || !this.options.protectedUsers.needsNames) return user;
    const found = (await this.options.client.searchUsers(user.userId)).find((u) => u.userId === user.userId);
    return found ? { ...user, username: found.username, userPrincipalName: found.userPrincipalName, domain: found.domain } : user;
  }
}

function remember<T>(map: Map<string, Remembered<T>>, key: string, value: T, now: number, ttlMs: number): void {
  if (map.size >= MEMORY_LIMIT) {
    for (const [k, v] of map) if (v.until < now) map.delete(k);
    if (map.size >= MEMORY_LIMIT) map.delete(map.keys().next().value as string);
  }
  map.set(key, { value, until: now + ttlMs });
}
