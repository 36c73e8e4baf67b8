/**
 * Parsing of CryptoSpike reply items and matching of user names. Only the file-activity item's `id` and the user
 * item's `userId`, `username` and `userPrincipalName` are documented; the other fields are read when present.
 */

export interface ActivityItem {
  /** The user's id (a SID for WINDOWS users). */
  userId: string;
  username: string | null;
  userPrincipalName: string | null;
  domain: string | null;
}

export interface StorageUser {
  userId: string;
  userIdType: string | null;
  username: string | null;
  userPrincipalName: string | null;
  domain: string | null;
}

/** The names a user is known by, for matching identities and protected-user entries. */
export type NamedUser = Pick<StorageUser, 'userId' | 'username' | 'userPrincipalName' | 'domain'>;

function text(value: unknown): string | null {
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  if (typeof value === 'number') return String(value);
  return null;
}

/** The value of `key` in `record`, matching the key case-insensitively (the UPN's casing varies between sources). */
function field(record: Record<string, unknown>, key: string): unknown {
  if (key in record) return record[key];
  const lower = key.toLowerCase();
  const found = Object.keys(record).find((k) => k.toLowerCase() === lower);
  return found === undefined ? undefined : record[found];
}

export function activityItemFrom(raw: unknown): ActivityItem | null {
  if (!raw || typeof raw !== 'object') return null;
  const r = raw as Record<string, unknown>;
  const userId = text(r.id) ?? text(r.userId);
  if (!userId) return null;
  return {
    userId,
    username: text(field(r, 'username')) ?? text(field(r, 'user')),
    userPrincipalName: text(field(r, 'userPrincipalName')),
    domain: text(field(r, 'domain')),
  };
}

export function storageUserFrom(raw: unknown): StorageUser | null {
  if (!raw || typeof raw !== 'object') return null;
  const r = raw as Record<string, unknown>;
  const userId = text(r.userId) ?? text(r.id);
  if (!userId) return null;
  return {
    userId,
    userIdType: text(r.userIdType),
    username: text(field(r, 'username')),
    userPrincipalName: text(field(r, 'userPrincipalName')),
    domain: text(field(r, 'domain')),
  };
}

function splitDomain(name: string): { domain: string | null; bare: string } {
  const i = name.lastIndexOf('\\');
  return i < 0 ? { domain: null, bare: name } : { domain: name.slice(0, i), bare: name.slice(i + 1) };
}

/**
 * Exact, case-insensitive match of a name (user name, UPN, DOMAIN\user or SID) against a user. `DOMAIN\user`
 * matches a user whose bare user name is `user` and whose domain is `DOMAIN` or not known; a bare name matches a
 * user name given as `DOMAIN\name` too.
 */
export function nameMatchesUser(name: string, user: NamedUser): boolean {
  const wanted = name.trim().toLowerCase();
  if (!wanted) return false;
  const same = (v: string | null) => v !== null && v.toLowerCase() === wanted;
  if (same(user.userId) || same(user.username) || same(user.userPrincipalName)) return true;
  if (!user.username) return false;
  const have = splitDomain(user.username.toLowerCase());
  const want = splitDomain(wanted);
  if (have.bare !== want.bare) return false;
  const domain = have.domain ?? user.domain?.toLowerCase() ?? null;
  return want.domain === null ? have.domain !== null : domain === null || domain === want.domain;
}

/** The text to hand to the appliance's user search for an identity: the bare name without domain or UPN suffix. */
export function searchTermFor(identity: string): string {
  return splitDomain(identity.trim()).bare.replace(/@.*$/, '');
}

export function describeUser(user: { userId: string; username: string | null }): string {
  return user.username ? `${user.username} (${user.userId})` : user.userId;
}
