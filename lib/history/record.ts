/**
 * One line of the decision history: what happened to a block (or a block the package would have made), when, on
 * which appliance, for which ADS event, and who did it. Records are flat (one CSV row each) and every text field is
 * bounded, so neither memory nor the journal can be grown from outside whatever events, appliances or flows say.
 */
import { PRIORITIES } from '../ads/event';
import type { ApplianceKind } from '../mitigation/types';
import { plainText } from '../text/plain-text';

export const HISTORY_ACTIONS = [
  'blocked',
  'extended',
  'released',
  'release-failed',
  'orphaned',
  'forgotten',
  'held',
  'approved',
  'discarded',
  'refused',
  'failed',
  'simulated',
] as const;
export type HistoryAction = (typeof HISTORY_ACTIONS)[number];

/** `package`: the package itself (an event, the TTL, the decide-by default); `user`: a Node-RED user; `flow`: a node. */
export type ActorKind = 'package' | 'user' | 'flow';
export const PACKAGE_ACTOR = 'flowmon-response';

export interface HistoryRecord {
  /** Unique, increasing within one run. */
  id: string;
  /** Epoch milliseconds. */
  at: number;
  action: HistoryAction;
  kind: ApplianceKind;
  /** The appliance config node's id, and its name when it has one (else the id again). */
  configId: string;
  appliance: string;
  scope: string;
  target: string;
  /** A readable name of the target (the CryptoSpike user name, the candidates of an ambiguous one). */
  label?: string;
  ttlSeconds?: number;
  /** blocked, extended, simulated: when the block ends. */
  expiresAt?: number;
  /** The ADS event: the held entry's event, or the last event id the registry keeps. */
  eventId?: string;
  method?: string;
  priority?: string;
  perspective?: string;
  description?: string;
  actorKind: ActorKind;
  /** `flowmon-response` for the package, the user's name (may be empty: not known), or the node id. */
  actor: string;
  /**
   * Why, in one word: released by expiry / person / flow; discarded by person / flow / timeout / appliance; held for
   * storm / approval / ambiguous; blocked or approved after a decision: decision.
   */
  cause?: string;
  /** The error of a failure, the reason of a refusal or a hold (readable text). */
  detail?: string;
}

/** Bounds of the text fields, in characters (as the registry's: a key field is at most 512). */
export const FIELD_BOUNDS = {
  id: 40,
  configId: 512,
  appliance: 128,
  scope: 512,
  target: 512,
  label: 256,
  eventId: 128,
  method: 64,
  priority: 16,
  perspective: 128,
  description: 512,
  actor: 128,
  cause: 32,
  detail: 512,
} as const satisfies Partial<Record<keyof HistoryRecord, number>>;

const ACTIONS: ReadonlySet<string> = new Set(HISTORY_ACTIONS);
const ACTOR_KINDS: ReadonlySet<string> = new Set<ActorKind>(['package', 'user', 'flow']);
const OPTIONAL_TEXT = ['label', 'eventId', 'method', 'perspective', 'description', 'cause', 'detail'] as const;

/** A copy of `r` within the bounds: text printable and cut, unknown fields dropped, optional empties left out. */
export function boundRecord(r: HistoryRecord): HistoryRecord {
  const out: HistoryRecord = {
    id: plainText(r.id, FIELD_BOUNDS.id),
    at: finite(r.at),
    action: r.action,
    kind: r.kind === 'cryptospike' ? 'cryptospike' : 'loadmaster',
    configId: plainText(r.configId, FIELD_BOUNDS.configId),
    appliance: plainText(r.appliance, FIELD_BOUNDS.appliance) || plainText(r.configId, FIELD_BOUNDS.appliance),
    scope: plainText(r.scope, FIELD_BOUNDS.scope),
    target: plainText(r.target, FIELD_BOUNDS.target),
    actorKind: ACTOR_KINDS.has(r.actorKind) ? r.actorKind : 'package',
    actor: plainText(r.actor, FIELD_BOUNDS.actor),
  };
  for (const field of OPTIONAL_TEXT) {
    const text = plainText(r[field], FIELD_BOUNDS[field]);
    if (text) out[field] = text;
  }
  if ((PRIORITIES as readonly unknown[]).includes(r.priority)) out.priority = r.priority;
  if (typeof r.ttlSeconds === 'number' && Number.isFinite(r.ttlSeconds)) out.ttlSeconds = r.ttlSeconds;
  if (typeof r.expiresAt === 'number' && Number.isFinite(r.expiresAt) && r.expiresAt > 0) out.expiresAt = r.expiresAt;
  return out;
}

/** Shape check of a record read back from the journal (it is bounded again after). */
export function isHistoryRecord(v: unknown): v is HistoryRecord {
  const r = v as Partial<HistoryRecord> | null;
  return (
    !!r &&
    typeof r === 'object' &&
    typeof r.id === 'string' &&
    r.id.length > 0 &&
    r.id.length <= FIELD_BOUNDS.id &&
    typeof r.at === 'number' &&
    Number.isFinite(r.at) &&
    typeof r.action === 'string' &&
    ACTIONS.has(r.action) &&
    typeof r.configId === 'string' &&
    typeof r.scope === 'string' &&
    typeof r.target === 'string'
  );
}

function finite(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}
