/**
 * The decision node's input, read and bounded before the registry is asked: one id or up to MAX_IDS ids, an action
 * (`msg.payload.action`, or `msg.topic` approve / discard), and for one ambiguous CryptoSpike entry the chosen user.
 */
import type { DecideRequest, DecideResult, DecideStatus, DecisionAction } from '../../lib/decisions/types';
import { MAX_CANDIDATE_ID_LENGTH } from '../../lib/registry/hold-bounds';

/** Ids per message. */
export const MAX_IDS = 10_000;
/** Characters per id: registry entry ids are 16; anything much longer is not one. */
export const MAX_ID_CHARS = 64;

const ACTIONS: ReadonlySet<string> = new Set<DecisionAction>(['approve', 'discard']);

/** What the node asks the DecisionService, or the `invalid` result it answers instead. */
export type ReadInput =
  | { ok: true; ids: string[]; many: boolean; action: DecisionAction; userId?: string }
  | { ok: false; result: DecideResult };

/** A bounded, printable echo of an id for an `invalid` result: an id that is not one is never sent back as it came. */
function echoId(id: unknown): string {
  return typeof id === 'string' && id.length <= MAX_ID_CHARS && /^[\x21-\x7e]*$/.test(id) ? id : '';
}

function invalid(id: unknown, error: string): ReadInput {
  return { ok: false, result: { id: echoId(id), status: 'invalid', error } };
}

/** Why `id` cannot be a registry entry id, or null. */
export function idProblem(id: unknown): string | null {
  if (typeof id !== 'string' || id === '') return 'an id must be a non-empty string';
  if (id.length > MAX_ID_CHARS) return `an id has at most ${MAX_ID_CHARS} characters`;
  return null;
}

function readAction(payload: Record<string, unknown>, topic: unknown): DecisionAction | string {
  const fromPayload = payload.action;
  const fromTopic = typeof topic === 'string' && ACTIONS.has(topic) ? (topic as DecisionAction) : undefined;
  if (fromPayload === undefined || fromPayload === null) {
    return fromTopic ?? 'the action must be "approve" or "discard" (msg.payload.action or msg.topic)';
  }
  if (typeof fromPayload !== 'string' || !ACTIONS.has(fromPayload)) return 'msg.payload.action must be "approve" or "discard"';
  if (fromTopic && fromTopic !== fromPayload) return `msg.payload.action (${fromPayload}) and msg.topic (${fromTopic}) disagree`;
  return fromPayload as DecisionAction;
}

export function readInput(payload: unknown, topic: unknown): ReadInput {
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) {
    return invalid('', 'msg.payload must be an object { id | ids, action, userId? }');
  }
  const p = payload as Record<string, unknown>;
  const hasId = p.id !== undefined && p.id !== null;
  const hasIds = p.ids !== undefined && p.ids !== null;
  if (hasId === hasIds) return invalid(p.id, 'give either msg.payload.id or msg.payload.ids');
  const action = readAction(p, topic);
  if (!ACTIONS.has(action)) return invalid(p.id, action);
  const decision = action as DecisionAction;
  let userId: string | undefined;
  if (p.userId !== undefined && p.userId !== null) {
    if (decision !== 'approve') return invalid(p.id, 'a user is chosen only when approving');
    if (hasIds) return invalid('', 'a user is chosen for one entry at a time (msg.payload.id)');
    if (typeof p.userId !== 'string' || p.userId === '' || p.userId.length > MAX_CANDIDATE_ID_LENGTH) {
      return invalid(p.id, `msg.payload.userId must be text of 1 to ${MAX_CANDIDATE_ID_LENGTH} characters`);
    }
    userId = p.userId;
  }
  if (hasId) {
    const problem = idProblem(p.id);
    if (problem) return invalid(p.id, problem);
    return { ok: true, ids: [p.id as string], many: false, action: decision, userId };
  }
  const ids = p.ids;
  if (!Array.isArray(ids)) return invalid('', 'msg.payload.ids must be an array of entry ids');
  // The count first: a long array is refused before any element is looked at.
  if (ids.length === 0) return invalid('', 'msg.payload.ids is empty');
  if (ids.length > MAX_IDS) return invalid('', `at most ${MAX_IDS} ids per message (got ${ids.length})`);
  for (let i = 0; i < ids.length; i++) {
    const problem = idProblem(ids[i]);
    if (problem) return invalid(ids[i], `ids[${i}]: ${problem}`);
  }
  return { ok: true, ids: ids as string[], many: true, action: decision };
}

/** The DecideRequest of a valid input, decided by this flow node. */
export function decideRequest(input: Extract<ReadInput, { ok: true }>, node: string): DecideRequest {
  const request: DecideRequest = { action: input.action, by: { kind: 'flow', node } };
  if (input.userId !== undefined) request.userId = input.userId;
  return request;
}

/** How many results of each status. */
export function countResults(results: readonly DecideResult[]): Record<DecideStatus, number> {
  const counts: Record<DecideStatus, number> = { approved: 0, discarded: 0, 'not-held': 0, unknown: 0, invalid: 0 };
  for (const r of results) counts[r.status]++;
  return counts;
}
