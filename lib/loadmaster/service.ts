import { Cidr, blockCidrFor, canonicalAddress, formatCidr, parseCidr } from '../net/address';
import {
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
import type { StormCap } from '../safety/storm-cap';
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
}

export interface AclOutcome {
  action: 'add' | 'remove';
  list: LoadMasterList;
  scope: LoadMasterScope;
  /** The CIDR acted on, or the text as given when it is not an address. */
  address: string;
  result: LoadMasterResult | 'refused' | 'failed';
  reason?: string;
  /** Set when result is `failed`: the appliance or transport error. */
  error?: Error;
}

export interface LoadMasterServiceOptions {
  configId: string;
  client: LoadMasterClient;
  /** Resolved once at start (the LoadMaster host name is looked up); requests wait for it. */
  protection: Promise<Protection>;
  stormCap: StormCap;
  simulate: boolean;
  ipv6Prefix: number;
  /** The TTL registry's view: an actively blocked address is not sent again. */
  isActive?: (key: MitigationKey) => boolean;
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

/**
 * Everything between an ACL request and the LoadMaster: address checks, protected networks, the storm cap,
 * simulate mode, the registry short-cut and joining a request already in flight for the same address.
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
    const { value, joined } = await this.inFlight.run(`${action}|${key.scope}|${address}`, () => this.execute(request, address));
    if (!joined) return value;
    return { ...value, result: (JOINED[value.result as LoadMasterResult] ?? value.result) as AclOutcome['result'] };
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
    const { list, scope } = parseLoadMasterScopeKey(key.scope);
    const outcome = await this.apply({
      action: 'add',
      list,
      scope,
      address: key.target,
      comment,
      priority: BACKGROUND_PRIORITY,
      ignoreRegistry: true,
    });
    if (outcome.result === 'refused' || outcome.result === 'failed') {
      throw outcome.error ?? new Error(outcome.reason ?? `re-applying ${key.target} failed`);
    }
  }

  private async execute(request: AclRequest, address: string): Promise<AclOutcome> {
    const { action, list, scope } = request;
    const base = { action, list, scope, address };
    // The storm cap counts every new block that would be written, simulated ones included, so simulate mode shows
    // what the appliance would see. Already-active and joined requests never reach this point.
    if (action === 'add' && list === 'block' && !this.options.stormCap.tryTake()) {
      return { ...base, result: 'refused', reason: this.options.stormCap.describe() };
    }
    if (this.options.simulate) return { ...base, result: 'simulated' };
    const priority = request.priority ?? 0;
    try {
      const result =
        action === 'add'
          ? await this.options.client.add(list, scope, address, taggedComment(request.comment ?? ''), priority)
          : await this.options.client.remove(list, scope, address, priority);
      return { ...base, result };
    } catch (err) {
      if (err instanceof QueueFullError) return { ...base, result: 'refused', reason: err.message };
      const error = err instanceof Error ? err : new Error(String(err));
      return { ...base, result: 'failed', reason: error.message, error };
    }
  }
}
