/**
 * Held blocks: a block the package would make, waiting for a person. The appliance nodes decide *that* a block is
 * held (storm gate, approval mode, an ambiguous CryptoSpike user) and describe it in a HoldRequest on the
 * mitigation; the TTL node records it in the registry (state `held`); every decision — the sidebar, the admin API,
 * the decision node, the decide-by default — goes through one path, `DecisionService.decide`.
 */
import type { Priority } from '../ads/event';
import type { RegistryEntry } from '../registry/entry';

export type HoldReason = 'storm' | 'approval' | 'ambiguous';

/** What the appliance node tells when a held entry's decide-by passes unanswered. */
export type TimeoutAction = 'discard' | 'apply';

export type DecisionAction = 'approve' | 'discard';

/** The ADS event that asked for the block, reduced to what a person needs to decide. */
export interface HeldEvent {
  id: string | null;
  method: string;
  priority: Priority | null;
  perspective: string | null;
  description: string;
  source: string;
}

export interface HeldCandidate {
  userId: string;
  username: string | null;
  activityCount: number;
}

/** Put on `msg.payload.mitigation.hold` (with `result: 'held'`) by the LoadMaster and CryptoSpike nodes. */
export interface HoldRequest {
  reason: HoldReason;
  /** Readable: "storm gate: at most 60 new blocks per 60 s", "approval required below critical", … */
  reasonText: string;
  event: HeldEvent | null;
  /** Ambiguous CryptoSpike users: who was seen at the source, with their activity counts. */
  candidates?: HeldCandidate[];
  /** Milliseconds the entry waits for a person before `onTimeout` applies. */
  decideWithinMs: number;
  onTimeout: TimeoutAction;
  /** LoadMaster: the comment to write when the block is applied. */
  comment?: string;
  /** Queue priority when applied (higher first), as for the event itself. */
  priority: number;
}

/** Recorded on a registry entry while it is held and after it was decided. */
export interface HoldInfo extends Omit<HoldRequest, 'decideWithinMs'> {
  heldAt: number;
  decideBy: number;
}

/** Who decided: a Node-RED user (adminAuth name, or "anonymous" without adminAuth), a flow node, or the default. */
export type DecidedBy = { kind: 'user'; name: string } | { kind: 'flow'; node: string } | { kind: 'timeout' };

export interface DecisionRecord {
  action: DecisionAction;
  by: DecidedBy;
  at: number;
  /** Ambiguous CryptoSpike entries: the user the person chose. */
  userId?: string;
}

export interface DecideRequest {
  action: DecisionAction;
  by: DecidedBy;
  userId?: string;
}

export type DecideStatus =
  /** Approved: the block is being applied (or was applied) through the appliance's queue. */
  | 'approved'
  | 'discarded'
  /** Not held (any more): already decided, or active. */
  | 'not-held'
  | 'unknown'
  /** Bad request: e.g. an ambiguous entry approved without a user id, or one that is not a candidate. */
  | 'invalid';

export interface DecideResult {
  id: string;
  status: DecideStatus;
  error?: string;
}

/**
 * What DecisionService announces (its `decision` event), once the change is durable:
 * - `approved`: a decision to apply was journaled (`entry` is `approving`); the appliance is being asked.
 * - `applied`: the block is on the appliance (or simulated): `entry` is the active block with its expiry — for an
 *   ambiguous entry the chosen user's entry, with `held` the held entry (now `approved`).
 * - `apply-failed`: the appliance failed; `entry` stays `approving` and is retried at `entry.nextAttemptAt`.
 * - `discarded`: decided against, by a person, a flow or the decide-by default, or refused by the appliance when it
 *   was applied (`error` says why; `entry.decision` is then the approval).
 */
export type DecisionEventType = 'approved' | 'applied' | 'apply-failed' | 'discarded';

export interface DecisionEvent {
  type: DecisionEventType;
  /** A copy, safe to keep. */
  entry: RegistryEntry;
  decision: DecisionRecord;
  /** `applied` for an ambiguous entry: the held entry the chosen user's block came from. */
  held?: RegistryEntry;
  /** `apply-failed`: the appliance's error; `discarded` after a refusal: its reason. */
  error?: string;
}
