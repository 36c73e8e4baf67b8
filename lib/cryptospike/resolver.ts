/**
 * Which user is behind a source address: the distinct users in the address's file activity over a window. Exactly
 * one is the answer; several are ambiguous; none falls back (ADS events only) to the event's user identity matched
 * exactly against CryptoSpike's users.
 */
import type { AdsEvent } from '../ads/event';
import type { CryptoSpikeClient } from './client';
import { ActivityItem, NamedUser, StorageUser, describeUser, nameMatchesUser, searchTermFor } from './records';

export interface Candidate extends NamedUser {
  activityCount: number;
}

export type Via = 'file-activity' | 'user-identity' | 'explicit';

export type Resolution =
  | { kind: 'user'; user: NamedUser; via: Via; activityCount: number; reason: string }
  | { kind: 'no-user'; reason: string }
  | { kind: 'ambiguous'; reason: string; candidates: Candidate[] };

/** Distinct users of the activity rows with their row counts, busiest first. */
export function tallyActivity(items: ActivityItem[]): Candidate[] {
  const byId = new Map<string, Candidate>();
  for (const item of items) {
    const seen = byId.get(item.userId);
    if (seen) {
      seen.activityCount++;
      seen.username ??= item.username;
      seen.userPrincipalName ??= item.userPrincipalName;
      seen.domain ??= item.domain;
    } else {
      byId.set(item.userId, { ...item, activityCount: 1 });
    }
  }
  return [...byId.values()].sort((a, b) => b.activityCount - a.activityCount);
}

export function decideFromActivity(source: string, windowMinutes: number, candidates: Candidate[]): Resolution | null {
  if (candidates.length === 0) return null;
  const within = `from ${source} in the last ${windowMinutes} min`;
  if (candidates.length > 1) {
    const list = candidates.map((c) => `${describeUser(c)}: ${c.activityCount}`).join(', ');
    return { kind: 'ambiguous', reason: `${candidates.length} users have file activity ${within} (${list})`, candidates };
  }
  const [only] = candidates;
  return {
    kind: 'user',
    user: only,
    via: 'file-activity',
    activityCount: only.activityCount,
    reason: `the only user with file activity ${within} (${only.activityCount} operations)`,
  };
}

export function decideFromIdentity(identity: string, users: StorageUser[], noActivity: string): Resolution {
  const matches = users.filter((u) => nameMatchesUser(identity, u));
  const distinct = [...new Map(matches.map((u) => [u.userId, u])).values()];
  if (distinct.length === 0) {
    return { kind: 'no-user', reason: `${noActivity}, and no CryptoSpike user matches the user identity "${identity}"` };
  }
  if (distinct.length > 1) {
    return {
      kind: 'ambiguous',
      reason: `${noActivity}, and ${distinct.length} CryptoSpike users match the user identity "${identity}"`,
      candidates: distinct.map((u) => ({ ...u, activityCount: 0 })),
    };
  }
  return {
    kind: 'user',
    user: distinct[0],
    via: 'user-identity',
    activityCount: 0,
    reason: `${noActivity}; the ADS user identity "${identity}" matches this user exactly`,
  };
}

/** Looks the user up on the appliance: file activity first, then (ADS only) the user identity. */
export async function resolveSource(
  client: CryptoSpikeClient,
  event: Pick<AdsEvent, 'kind' | 'source' | 'userIdentity'>,
  windowMinutes: number,
  nowMs: number,
): Promise<Resolution> {
  const end = Math.floor(nowMs / 1000);
  const activity = await client.fileActivity(event.source, end - windowMinutes * 60, end);
  const fromActivity = decideFromActivity(event.source, windowMinutes, tallyActivity(activity.items));
  if (fromActivity) return fromActivity;
  const noActivity = `no file activity from ${event.source} in the last ${windowMinutes} min`;
  const identity = event.kind === 'ads' ? event.userIdentity?.trim() : '';
  if (!identity) {
    return { kind: 'no-user', reason: event.kind === 'ads' ? `${noActivity} and the event has no user identity` : noActivity };
  }
  const users = await client.searchUsers(searchTermFor(identity));
  return decideFromIdentity(identity, users, noActivity);
}
