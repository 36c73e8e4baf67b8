/** Checks of a decision request against the held entry it is about: what makes a request `invalid`. */
import type { RegistryEntry } from '../registry/entry';
import { boundDecidedBy } from '../registry/hold-bounds';
import { isAmbiguousScope } from '../mitigation/types';
import type { DecidedBy, DecideRequest } from './types';

/** The request's `by`, bounded, or why the request cannot be taken. */
export function checkRequest(request: DecideRequest | null | undefined): { by: DecidedBy } | { problem: string } {
  if (!request || typeof request !== 'object') return { problem: 'a decision needs an action and who decides' };
  if (request.action !== 'approve' && request.action !== 'discard') {
    return { problem: 'the action must be "approve" or "discard"' };
  }
  const by = boundDecidedBy(request.by);
  if (!by) return { problem: 'the decision must name who decides (a user, a flow node or the timeout)' };
  if (request.userId !== undefined && typeof request.userId !== 'string') return { problem: 'the user id must be text' };
  return { by };
}

/** An ambiguous CryptoSpike entry: the user behind the source is for a person to pick. */
export function isAmbiguous(e: Pick<RegistryEntry, 'scope' | 'hold'>): boolean {
  return isAmbiguousScope(e.scope) || e.hold?.reason === 'ambiguous';
}

/** Why approving `e` with this user id cannot be done, or null. */
export function userProblem(e: RegistryEntry, userId: string | undefined): string | null {
  if (!isAmbiguous(e)) return userId === undefined ? null : 'a user is chosen only for an ambiguous CryptoSpike entry';
  const candidates = e.hold?.candidates ?? [];
  if (userId === undefined || userId === '') {
    return `choose one of the ${candidates.length} users seen at ${e.target} (userId)`;
  }
  return candidates.some((c) => c.userId === userId) ? null : `${userId} is not one of the users seen at ${e.target}`;
}
