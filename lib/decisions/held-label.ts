/** The readable name of a held block's target, for the registry entry and the sidebar. */
import type { Mitigation } from '../mitigation/types';
import type { HeldCandidate } from './types';

/** How many candidates are named in a summary; the rest are counted. */
const NAMED = 3;

/** "jdoe (12), asmith (3), S-1-5-21-…-1109 (1) +2 more": who was seen at an ambiguous source, most active first. */
export function candidatesSummary(candidates: readonly HeldCandidate[]): string {
  const sorted = [...candidates].sort((a, b) => b.activityCount - a.activityCount);
  const named = sorted.slice(0, NAMED).map((c) => `${c.username ?? c.userId} (${c.activityCount})`);
  const more = sorted.length - named.length;
  return named.join(', ') + (more > 0 ? ` +${more} more` : '');
}

/** The user name of a CryptoSpike block, or the candidates of an ambiguous one; nothing for a LoadMaster address. */
export function heldLabel(m: Mitigation): string | undefined {
  if (m.appliance !== 'cryptospike') return undefined;
  if (m.user) return m.user.username ?? undefined;
  const candidates = m.hold?.candidates ?? m.candidates ?? [];
  return candidates.length > 0 ? `ambiguous: ${candidatesSummary(candidates)}` : undefined;
}
