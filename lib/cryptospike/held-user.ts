/** Which CryptoSpike user a decision on a held entry blocks: the entry's own user, or the candidate a person chose. */
import type { HoldInfo } from '../decisions/types';
import { MitigationKey, ambiguousScopeKey, cryptoSpikeScopeKey, isAmbiguousScope } from '../mitigation/types';
import type { NamedUser } from './records';

const USER_SCOPE = cryptoSpikeScopeKey('');
const SHOWN_CANDIDATES = 5;

export interface HeldUser {
  user: NamedUser;
  userIdType: string;
}

/**
 * The user to block for a held entry. An ambiguous entry (scope `ambiguous:<type>`, target the source address)
 * needs `userId`, one of its candidates; a user entry (scope `user:<type>`) is its own user. Throws a clear Error
 * for a missing or foreign user id.
 */
export function heldUser(key: MitigationKey, hold: Pick<HoldInfo, 'candidates'>, userId?: string): HeldUser {
  if (isAmbiguousScope(key.scope)) {
    const candidates = hold.candidates ?? [];
    const shown = candidates.slice(0, SHOWN_CANDIDATES).map((c) => c.userId).join(', ');
    const more = candidates.length > SHOWN_CANDIDATES ? `, +${candidates.length - SHOWN_CANDIDATES} more` : '';
    const which = `one of the ${candidates.length} users seen at ${key.target} (${shown}${more})`;
    if (!userId) throw new Error(`choose the user to block: ${which}`);
    const chosen = candidates.find((c) => c.userId === userId);
    if (!chosen) throw new Error(`user ${userId} is not a candidate of this held entry: choose ${which}`);
    const user = { userId, username: chosen.username, userPrincipalName: null, domain: null };
    return { user, userIdType: key.scope.slice(ambiguousScopeKey('').length) };
  }
  if (!key.scope.startsWith(USER_SCOPE)) throw new Error(`"${key.scope}" is not a CryptoSpike scope (user:<type> or ambiguous:<type>)`);
  if (userId !== undefined && userId !== key.target) {
    throw new Error(`this held entry blocks user ${key.target}; a user id is only chosen for an ambiguous entry`);
  }
  return { user: { userId: key.target, username: null, userPrincipalName: null, domain: null }, userIdType: key.scope.slice(USER_SCOPE.length) };
}
