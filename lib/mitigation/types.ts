/**
 * The contract between the appliance nodes (LoadMaster, CryptoSpike), the TTL node, the registry and the sidebar.
 * Every block this package applies is described by a Mitigation on `msg.payload.mitigation`, and every appliance
 * config node implements MitigationAppliance so that a block can be released through the node that applied it.
 */

import type { HoldInfo, HoldRequest } from '../decisions/types';

export type ApplianceKind = 'loadmaster' | 'cryptospike';

export type LoadMasterList = 'block' | 'allow';
export type LoadMasterScope = 'global' | { vs: string };

export type LoadMasterResult = 'added' | 'already-present' | 'removed' | 'already-absent' | 'simulated';
export type CryptoSpikeResult = 'blocked' | 'already-blocked' | 'unblocked' | 'resolved' | 'simulated';
export type NotDoneResult = 'refused' | 'failed' | 'no-user' | 'ambiguous';
/** Waiting for a person: `hold` on the mitigation says why (see lib/decisions). */
export type HeldResult = 'held';

export interface LoadMasterMitigation {
  appliance: 'loadmaster';
  /** Id of the flowmon-loadmaster-config node. */
  config: string;
  /** What was asked: add to or remove from the list (tells the TTL node what a `simulated` result stands for). */
  action: 'add' | 'remove';
  list: LoadMasterList;
  scope: LoadMasterScope;
  /** Explicit CIDR, e.g. 10.0.0.5/32 or 2001:db8::/64. */
  address: string;
  result: LoadMasterResult | NotDoneResult | HeldResult;
  reason?: string;
  /** Set with `result: 'held'`. */
  hold?: HoldRequest;
  /** ISO-8601. */
  at: string;
}

export interface CryptoSpikeUser {
  userId: string;
  username: string | null;
}

export interface CryptoSpikeMitigation {
  appliance: 'cryptospike';
  config: string;
  action: 'block' | 'unblock' | 'resolve';
  user: CryptoSpikeUser | null;
  userIdType: string;
  result: CryptoSpikeResult | NotDoneResult | HeldResult;
  reason?: string;
  /** Set with `result: 'held'`; for an ambiguous user `user` is null and `hold.candidates` lists who was seen. */
  hold?: HoldRequest;
  evidence?: { window: string; activityCount: number; via: 'file-activity' | 'user-identity' | 'explicit' };
  candidates?: Array<{ userId: string; username: string | null; activityCount: number }>;
  at: string;
}

export type Mitigation = LoadMasterMitigation | CryptoSpikeMitigation;

/** Registry identity of a mitigation: (config node id, scope, target). */
export interface MitigationKey {
  configId: string;
  /** "global:block", "vs:3:block" for LoadMaster; "user:WINDOWS" for CryptoSpike. */
  scope: string;
  /** CIDR for LoadMaster, user id for CryptoSpike. */
  target: string;
}

export function loadMasterScopeKey(list: LoadMasterList, scope: LoadMasterScope): string {
  return scope === 'global' ? `global:${list}` : `vs:${scope.vs}:${list}`;
}

export function parseLoadMasterScopeKey(key: string): { list: LoadMasterList; scope: LoadMasterScope } {
  const parts = key.split(':');
  const list = parts[parts.length - 1] as LoadMasterList;
  return parts[0] === 'global' ? { list, scope: 'global' } : { list, scope: { vs: parts[1] } };
}

export function cryptoSpikeScopeKey(userIdType: string): string {
  return `user:${userIdType}`;
}

/** Scope of a held CryptoSpike block whose user is ambiguous: it is keyed by the source address until a person picks. */
export function ambiguousScopeKey(userIdType: string): string {
  return `ambiguous:${userIdType}`;
}

/** True for the scope of a held ambiguous CryptoSpike block (a person must pick the user). */
export function isAmbiguousScope(scope: string): boolean {
  return scope.startsWith(ambiguousScopeKey(''));
}

/** Registry key of a held ambiguous CryptoSpike block: (config node, `ambiguous:<userIdType>`, the event's source). */
export function ambiguousHoldKey(configId: string, userIdType: string, source: string): MitigationKey {
  return { configId, scope: ambiguousScopeKey(userIdType), target: source };
}

export function mitigationKey(m: Mitigation): MitigationKey | null {
  if (m.appliance === 'loadmaster') {
    return { configId: m.config, scope: loadMasterScopeKey(m.list, m.scope), target: m.address };
  }
  if (!m.user && m.result === 'held') {
    const source = m.hold?.event?.source;
    return source ? ambiguousHoldKey(m.config, m.userIdType, source) : null;
  }
  if (!m.user) return null;
  return { configId: m.config, scope: cryptoSpikeScopeKey(m.userIdType), target: m.user.userId };
}

export type ReleaseOutcome = 'released' | 'already-absent' | 'simulated';

/** What applying an approved held block did. `key` is the block's registry key (for an ambiguous CryptoSpike entry: the chosen user's). */
export interface AppliedHold {
  result: 'applied' | 'already-present' | 'simulated' | 'refused';
  key: MitigationKey;
  /** A readable name of the target (the CryptoSpike user name). */
  label?: string;
  /** Why it was refused (e.g. the address is protected now). */
  reason?: string;
}

/** Implemented by flowmon-loadmaster-config and flowmon-cryptospike-config. */
export interface MitigationAppliance {
  readonly applianceKind: ApplianceKind;
  /** True when the config node is in simulate mode: nothing is written to the appliance. */
  readonly simulate: boolean;
  /** Undoes a block this package applied (LoadMaster remove, CryptoSpike unblock). Rejects on failure. */
  releaseMitigation(key: MitigationKey): Promise<ReleaseOutcome>;
  /**
   * LoadMaster only: the targets on the appliance list of `scope` whose comment carries this package's tag.
   * Used by the TTL node's reconcile.
   */
  listTaggedTargets?(scope: string): Promise<string[]>;
  /** LoadMaster only: puts a registry entry back on the appliance (reconcile found it missing). */
  reapplyMitigation?(key: MitigationKey, comment: string): Promise<void>;
  /**
   * Applies a held block a person approved (or whose decide-by default is "apply"): through the same protection,
   * registry short-cut, in-flight join and paced queue as an event, but not the storm gate or approval mode (a
   * person decided). `userId` picks the user of an ambiguous CryptoSpike entry (one of its candidates). Rejects on a
   * transient failure (retried); a refusal is a result.
   */
  applyHeld(key: MitigationKey, hold: HoldInfo, userId?: string): Promise<AppliedHold>;
}

export function isMitigationAppliance(node: unknown): node is MitigationAppliance {
  const n = node as Partial<MitigationAppliance> | null;
  return !!n && typeof n.releaseMitigation === 'function' && typeof n.applianceKind === 'string';
}

/** The comment tag that marks LoadMaster entries written by this package (reconcile touches only those). */
export const LOADMASTER_COMMENT_TAG = '[flowmon-nr]';
