import type { HoldInfo, HoldRequest } from '../decisions/types';
import { Cidr, blockCidrFor, canonicalAddress, formatCidr, parseCidr } from '../net/address';
import {
  AppliedHold,
  HeldResult,
  LOADMASTER_COMMENT_TAG,
  LoadMasterList,
  LoadMasterResult,
  LoadMasterScope,
  MitigationKey,
  ReleaseOutcome,
  loadMasterScopeKey,
  parseLoadMasterScopeKey,
} from '../mitigation/types';
import { QueueFullError } from '../pacing/paced-queue';
import { SharedCalls } from '../pacing/shared-calls';
import { claimedAdd } from '../safety/claimed-add';
import type { HeldEventSource, HoldGate } from '../safety/hold-gate';
import type { AddClaims } from '../store/types';
import { LoadMasterClient, MAX_COMMENT_LENGTH } from './client';
import type { Protection } from './protection';

export interface AclRequest {
  action: 'add' | 'remove';
  list: LoadMasterList;
  scope: LoadMasterScope;
  /** An address (blocked as /32, /128 or the configured IPv6 prefix) or an explicit CIDR. */
  address: string;
  /** Comment text without the package tag; the tag is appended and the whole cut to 127 characters. */
  comment?: string;
  /** Queue priority: higher is served first. */
  priority?: number;
  /** Reconcile re-applies entries the registry holds as active, so it must not be short-cut by the registry. */
  ignoreRegistry?: boolean;
  /** The ADS event behind the request (null or absent: a manual request, judged as priority medium). */
  event?: HeldEventSource | null;
  /** A person decided (an approved held block): the hold gate (approval mode, storm cap) is passed by. */
  decided?: boolean;
}

export interface AclOutcome {
  action: 'add' | 'remove';
  list: LoadMasterList;
  scope: LoadMasterScope;
  /** The CIDR acted on, or the text as given when it is not an address. */
  address: string;
  result: LoadMasterResult | HeldResult | 'refused' | 'failed';
  reason?: string;
  /** Set when result is `held`: why it waits and what it would be. */
  hold?: HoldRequest;
  /** Set when result is `failed`: the appliance or transport error. */
  error?: Error;
  /** A refusal for now only (the queue is full): the same request may succeed later. */
  retryable?: boolean;
}

export interface LoadMasterServiceOptions {
  configId: string;
  client: LoadMasterClient;
  /** Resolved once at start (the LoadMaster host name is looked up); requests wait for it. */
  protection: Promise<Protection>;
  /** Approval mode and storm cap: new block-list additions that do not pass are held for a person. */
  holdGate: HoldGate;
  simulate: boolean;
  ipv6Prefix: number;
  /** The TTL registry's view: an actively blocked address is not sent again. */
  isActive?: (key: MitigationKey) => boolean;
  /** One add per block across instances (a shared store); none: this instance is the only one. */
  claims?: AddClaims;
}

/** Priority of releases and reconcile reads: behind every event. */
export const BACKGROUND_PRIORITY = 0;

/** A comment that ends with the package tag and fits the LoadMaster's 127 characters. */
export function taggedComment(text: string): string {
  const body = text.split(LOADMASTER_COMMENT_TAG).join('').replace(/\s+/g, ' ').trim();
  const room = MAX_COMMENT_LENGTH - LOADMASTER_COMMENT_TAG.length - 1;
  const cut = body.length > room ? body.slice(0, room).trimEnd() : body;
  return cut ? `${cut} ${LOADMASTER_COMMENT_TAG}` : LOADMASTER_COMMENT_TAG;
}

/** The CIDR to act on: an explicit CIDR as given (host bits must be clear), an address widened by the family rule. */
export function targetCidr(text: string, ipv6Prefix: number): Cidr | null {
  const trimmed = text.trim();
  if (trimmed.includes('/')) return parseCidr(trimmed);
  const address = canonicalAddress(trimmed);
  return address ? blockCidrFor(address, ipv6Prefix) : null;
}

const JOINED: Partial<Record<LoadMasterResult, LoadMasterResult>> = {
  added: 'already-present',
  removed: 'already-absent',
};

/** Results after which the block is on the appliance (or would be, in simulate mode). */
const ON_APPLIANCE = new Set<AclOutcome['result']>(['added', 'already-present', 'simulated']);

const APPLIED: Partial<Record<AclOutcome['result'], AppliedHold['result']>> = {
  added: 'applied',
  'already-present': 'already-present',
  simulated: 'simulated',
  refused: 'refused',
};

function failed(base: Pick<AclOutcome, 'action' | 'list' | 'scope' | 'address'>, err: unknown): AclOutcome {
  const error = err instanceof Error ? err : new Error(String(err));
  return { ...base, result: 'failed', reason: error.message, error };
}

/**
 * Everything between an ACL request and the LoadMaster: address checks, protected networks, the registry
 * short-cut, joining a request already in flight for the same address, the add claim across instances (a shared
 * store: one add per block), the hold gate (approval mode and storm cap: a new block that does not pass is held for
 * a person) and simulate mode.
 * Removals are never refused by the protected list: removing an entry cannot lock anyone out.
 */
export class LoadMasterService {
  private readonly inFlight = new SharedCalls<AclOutcome>();

  constructor(private readonly options: LoadMasterServiceOptions) {}

  get simulate(): boolean {
    return this.options.simulate;
  }

  get queueDepth(): number {
    return this.options.client.queueDepth;
  }

  get client(): LoadMasterClient {
    return this.options.client;
  }

  async apply(request: AclRequest): Promise<AclOutcome> {
    const { action, list, scope } = request;
    const refuse = (address: string, reason: string): AclOutcome => ({ action, list, scope, address, result: 'refused', reason });
    if (scope !== 'global' && !/^\d+$/.test(scope.vs)) {
      return refuse(request.address, `virtual service "${scope.vs}" is not a virtual service index (a number)`);
    }
    const cidr = targetCidr(request.address, this.options.ipv6Prefix);
    if (!cidr) return refuse(request.address, `"${request.address}" is not an IP address or CIDR (with host bits clear)`);
    const address = formatCidr(cidr);
    const protection = await this.options.protection;
    if (action === 'add' && list === 'block') {
      const reason = protection.networks.reasonFor(cidr);
      if (reason) return refuse(address, reason);
    }
    const key: MitigationKey = { configId: this.options.configId, scope: loadMasterScopeKey(list, scope), target: address };
    if (action === 'add' && !request.ignoreRegistry && this.options.isActive?.(key)) {
      return { action, list, scope, address, result: 'already-present' };
    }
    const { value, joined } = await this.inFlight.run(`${action}|${key.scope}|${address}`, () => this.execute(request, key));
    if (!joined) return value;
    // A person's decision that met an event request being held goes on its own (the held one has finished).
    if (value.result === 'held' && request.decided) return this.apply(request);
    return { ...value, result: (JOINED[value.result as LoadMasterResult] ?? value.result) as AclOutcome['result'] };
  }

  /**
   * Applies a held block a person approved (or whose decide-by default is "apply"): the protection is checked again,
   * then the registry short-cut, the in-flight join and the paced queue at `hold.priority` — but not the hold gate.
   * Rejects on a failure the registry should retry (appliance, transport, full queue); a refusal is a result.
   */
  async applyHeld(key: MitigationKey, hold: Pick<HoldInfo, 'comment' | 'priority'>): Promise<AppliedHold> {
    const outcome = await this.addDecided(key, hold.comment ?? '', hold.priority);
    const result = APPLIED[outcome.result];
    if (!result || outcome.retryable) throw outcome.error ?? new Error(outcome.reason ?? `applying ${key.target} failed`);
    const applied = { configId: this.options.configId, scope: loadMasterScopeKey(outcome.list, outcome.scope), target: outcome.address };
    return { result, key: applied, ...(outcome.reason !== undefined ? { reason: outcome.reason } : {}) };
  }

  async releaseMitigation(key: MitigationKey): Promise<ReleaseOutcome> {
    const { list, scope } = parseLoadMasterScopeKey(key.scope);
    const outcome = await this.apply({ action: 'remove', list, scope, address: key.target, priority: BACKGROUND_PRIORITY });
    if (outcome.result === 'removed') return 'released';
    if (outcome.result === 'already-absent' || outcome.result === 'simulated') return outcome.result;
    throw outcome.error ?? new Error(outcome.reason ?? `release of ${key.target} failed`);
  }

  async listTaggedTargets(scopeKey: string): Promise<string[]> {
    const { list, scope } = parseLoadMasterScopeKey(scopeKey);
    const entries = await this.options.client.list(list, scope, BACKGROUND_PRIORITY);
    return entries.filter((entry) => entry.comment.includes(LOADMASTER_COMMENT_TAG)).map((entry) => entry.cidr);
  }

  async reapplyMitigation(key: MitigationKey, comment: string): Promise<void> {
    // Reconcile restores what the registry holds as active, so the registry must not short-cut it.
    const outcome = await this.addDecided(key, comment, BACKGROUND_PRIORITY, true);
    if (outcome.result === 'refused' || outcome.result === 'failed') {
      throw outcome.error ?? new Error(outcome.reason ?? `re-applying ${key.target} failed`);
    }
  }

  /** Adds the block of a registry key that was decided already (an approved hold, a restored entry): no hold gate. */
  private addDecided(key: MitigationKey, comment: string, priority: number, ignoreRegistry = false): Promise<AclOutcome> {
    const { list, scope } = parseLoadMasterScopeKey(key.scope);
    return this.apply({ action: 'add', list, scope, address: key.target, comment, priority, ignoreRegistry, decided: true });
  }

  /** Claims the block across instances when it is one to claim, then gates and calls the appliance. */
  private async execute(request: AclRequest, key: MitigationKey): Promise<AclOutcome> {
    const { action, list, scope } = request;
    const base = { action, list, scope, address: key.target };
    const claims = this.options.claims;
    // Removals take no claim, nor reconcile's re-applies (ignoreRegistry): the block is the store's active one already.
    if (!claims || action !== 'add' || list !== 'block' || request.ignoreRegistry) return this.gateAndCall(request, key.target);
    try {
      return await claimedAdd({
        claims,
        key,
        isActive: this.options.isActive,
        add: () => this.gateAndCall(request, key.target),
        added: (outcome) => ON_APPLIANCE.has(outcome.result),
        alreadyThere: () => ({ ...base, result: 'already-present' }),
      });
    } catch (err) {
      return { ...failed(base, err), retryable: true };
    }
  }

  private async gateAndCall(request: AclRequest, address: string): Promise<AclOutcome> {
    const { action, list, scope } = request;
    const base = { action, list, scope, address };
    const priority = request.priority ?? 0;
    // The gate counts every new block that would be written, simulated ones included, so simulate mode shows what
    // the appliance would see. Already-active and joined requests never reach this point.
    if (action === 'add' && list === 'block' && !request.decided) {
      const why = await this.options.holdGate.check(request.event?.priority);
      if (why) {
        const comment = taggedComment(request.comment ?? '');
        const hold = this.options.holdGate.request(why, { event: request.event ?? null, priority, comment });
        return { ...base, result: 'held', reason: why.reasonText, hold };
      }
    }
    if (this.options.simulate) return { ...base, result: 'simulated' };
    try {
      const result =
        action === 'add'
          ? await this.options.client.add(list, scope, address, taggedComment(request.comment ?? ''), priority)
          : await this.options.client.remove(list, scope, address, priority);
      return { ...base, result };
    } catch (err) {
      if (err instanceof QueueFullError) return { ...base, result: 'refused', reason: err.message, retryable: true };
      return failed(base, err);
    }
  }
}
