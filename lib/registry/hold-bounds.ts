/**
 * Bounds of the held-block fields of a registry entry (`hold`, `decision`): whatever the appliance nodes, a flow or
 * an edited journal hand in, an entry keeps at most MAX_CANDIDATES candidates and printable text cut to its bound,
 * so a journal line stays under MAX_RECORD_BYTES.
 */
import { PRIORITIES, Priority } from '../ads/event';
import type {
  DecidedBy,
  DecisionRecord,
  HeldCandidate,
  HeldEvent,
  HoldInfo,
  HoldReason,
  HoldRequest,
} from '../decisions/types';
import { applianceText, plainText } from '../text/plain-text';

/** Users seen at an ambiguous source that are kept (the most active first, as the appliance node lists them). */
export const MAX_CANDIDATES = 20;
/** A candidate's user id is a key of a block: never cut; a longer or unprintable one is dropped. */
export const MAX_CANDIDATE_ID_LENGTH = 256;
export const MAX_CANDIDATE_NAME_LENGTH = 128;
export const MAX_REASON_TEXT_LENGTH = 256;
export const MAX_DESCRIPTION_LENGTH = 512;
export const MAX_COMMENT_LENGTH = 256;
/** A user name of who decided, or a node id. */
export const MAX_DECIDER_LENGTH = 128;
/** Nobody is asked to decide later than this. */
export const MAX_DECIDE_WITHIN_MS = 365 * 86_400_000;

const REASONS: ReadonlySet<string> = new Set<HoldReason>(['storm', 'approval', 'ambiguous']);

/** The HoldInfo recorded for a new held entry: `decideWithinMs` becomes an absolute decide-by. */
export function holdInfo(req: HoldRequest, now: number): HoldInfo {
  const within = Number(req.decideWithinMs);
  if (!Number.isFinite(within) || within < 0) throw new Error(`decide within must be 0 or more milliseconds`);
  // boundHold copies the HoldInfo fields only: decideWithinMs is left behind.
  return boundHold({ ...req, heldAt: now, decideBy: now + Math.min(within, MAX_DECIDE_WITHIN_MS) });
}

/** True for a value that can be a HoldInfo once bounded (an absolute decide-by is what cannot be made up). */
export function isHoldInfo(v: unknown): v is HoldInfo {
  const h = v as Partial<HoldInfo> | null;
  return !!h && typeof h === 'object' && typeof h.decideBy === 'number' && Number.isFinite(h.decideBy);
}

/** A copy of `h` within the bounds, every field of the right type. */
export function boundHold(h: HoldInfo): HoldInfo {
  const out: HoldInfo = {
    reason: REASONS.has(h.reason) ? h.reason : 'approval',
    reasonText: plainText(h.reasonText, MAX_REASON_TEXT_LENGTH),
    event: boundEvent(h.event),
    onTimeout: h.onTimeout === 'apply' ? 'apply' : 'discard',
    priority: finite(h.priority, 0),
    heldAt: finite(h.heldAt, 0),
    decideBy: finite(h.decideBy, 0),
  };
  const candidates = boundCandidates(h.candidates);
  if (candidates) out.candidates = candidates;
  if (h.comment !== undefined) out.comment = applianceText(h.comment, MAX_COMMENT_LENGTH);
  return out;
}

/** A copy of `d` within the bounds, or null when it is not a decision. */
export function boundDecision(d: DecisionRecord): DecisionRecord | null {
  if (!d || (d.action !== 'approve' && d.action !== 'discard')) return null;
  const by = boundDecidedBy(d.by);
  if (!by) return null;
  const out: DecisionRecord = { action: d.action, by, at: finite(d.at, 0) };
  if (isCandidateId(d.userId)) out.userId = d.userId;
  return out;
}

/** Who decided, bounded; null when `by` names nobody. */
export function boundDecidedBy(by: unknown): DecidedBy | null {
  const b = by as { kind?: unknown; name?: unknown; node?: unknown } | null;
  if (!b || typeof b !== 'object') return null;
  if (b.kind === 'timeout') return { kind: 'timeout' };
  if (b.kind === 'user') {
    const name = plainText(b.name, MAX_DECIDER_LENGTH);
    return name ? { kind: 'user', name } : null;
  }
  if (b.kind === 'flow') {
    const node = plainText(b.node, MAX_DECIDER_LENGTH);
    return node ? { kind: 'flow', node } : null;
  }
  return null;
}

/** A user id that can be kept as it is: a non-empty printable string within MAX_CANDIDATE_ID_LENGTH. */
export function isCandidateId(id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_CANDIDATE_ID_LENGTH && plainText(id, MAX_CANDIDATE_ID_LENGTH) === id;
}

function boundCandidates(list: unknown): HeldCandidate[] | undefined {
  if (!Array.isArray(list)) return undefined;
  const out: HeldCandidate[] = [];
  for (const c of list as Array<Partial<HeldCandidate> | null>) {
    if (out.length >= MAX_CANDIDATES) break;
    if (!c || !isCandidateId(c.userId) || out.some((o) => o.userId === c.userId)) continue;
    const username = plainText(c.username, MAX_CANDIDATE_NAME_LENGTH);
    out.push({ userId: c.userId, username: username || null, activityCount: Math.max(0, finite(c.activityCount, 0)) });
  }
  return out;
}

function boundEvent(e: HeldEvent | null | undefined): HeldEvent | null {
  if (!e || typeof e !== 'object') return null;
  return {
    id: e.id === null || e.id === undefined ? null : plainText(String(e.id), 128) || null,
    method: plainText(e.method, 64),
    priority: (PRIORITIES as readonly unknown[]).includes(e.priority) ? (e.priority as Priority) : null,
    perspective: plainText(e.perspective, 128) || null,
    description: plainText(e.description, MAX_DESCRIPTION_LENGTH),
    source: plainText(e.source, 64),
  };
}

function finite(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}
