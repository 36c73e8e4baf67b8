/** In-memory state of the CryptoSpike simulator: storage users, file activity, sessions and the call log. */

export interface SimUser {
  userId: string;
  userIdType: string;
  username: string;
  userPrincipalName: string | null;
  domain: string | null;
  resolvedState: string;
  /** "ALLOWED" until blocked; then "BLOCKED" or whatever unblock value was last accepted. */
  accessState: string;
  comments: string[];
}

export interface SimActivity {
  /** The user's id (SID), the only item field the vendor scripts read. */
  id: string;
  username: string;
  userPrincipalName: string | null;
  ip: string;
  /** Epoch seconds. */
  time: number;
  action: string;
  path: string;
}

export interface ErrorRule {
  /** Applies to calls whose path contains this text (all calls when omitted). */
  pathIncludes?: string;
  status: number;
  body?: string;
  /** How many calls still get this error. */
  times: number;
}

export interface SimSwitches {
  /** The userAccessState value that restores access ("UNBLOCKED" unless a test says otherwise). */
  unblockValue: string;
  /** Shape of 401 bodies: `Token invalid` as text, `{"message":"Token invalid"}`, or nothing. */
  unauthorizedBody: 'text' | 'json' | 'empty';
  /** How long a login session is valid, in seconds (fractions allowed for tests). */
  tokenLifetimeSeconds: number;
  /** How the login reply reports the lifetime. */
  lifetimeReportedAs: 'seconds' | 'milliseconds' | 'absent';
  /** Added before every reply. */
  latencyMs: number;
  /** Injected failures, consumed in order. */
  errors: ErrorRule[];
  /** The server never returns more rows than this per page, whatever `size` asks. */
  maxPageSize: number;
}

export interface CallRecord {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  status: number;
  auth: 'api-token' | 'session' | 'none';
}

export class CallLog {
  readonly log: CallRecord[] = [];

  /** users/access posts (blocks and unblocks). */
  get writes(): number {
    return this.count('POST', '/users/access');
  }

  count(method: string, pathIncludes: string): number {
    return this.log.filter((c) => c.method === method && c.path.includes(pathIncludes)).length;
  }

  reset(): void {
    this.log.length = 0;
  }
}

export interface NewUser {
  userId: string;
  username: string;
  userPrincipalName?: string | null;
  domain?: string | null;
  userIdType?: string;
  accessState?: string;
}

export class SimState {
  readonly users = new Map<string, SimUser>();
  readonly fileActivity: SimActivity[] = [];

  addUser(user: NewUser): SimUser {
    const entry: SimUser = {
      userId: user.userId,
      userIdType: user.userIdType ?? 'WINDOWS',
      username: user.username,
      userPrincipalName: user.userPrincipalName ?? null,
      domain: user.domain ?? null,
      resolvedState: 'RESOLVED',
      accessState: user.accessState ?? 'ALLOWED',
      comments: [],
    };
    this.users.set(user.userId, entry);
    return entry;
  }

  /** Adds `count` file operations by the user from `ip` within the last ten minutes (creating the user if new). */
  seedActivity(ip: string, userId: string, username: string, count: number, nowSec = Math.floor(Date.now() / 1000)): void {
    const user = this.users.get(userId) ?? this.addUser({ userId, username });
    for (let i = 0; i < count; i++) {
      this.fileActivity.push({
        id: userId,
        username: user.username,
        userPrincipalName: user.userPrincipalName,
        ip,
        time: nowSec - (i % 600),
        action: i % 3 === 0 ? 'RENAME' : 'WRITE',
        path: `/vol1/share/${user.username}/file-${i}.docx`,
      });
    }
  }

  blockedUsers(): SimUser[] {
    return [...this.users.values()].filter((u) => u.accessState === 'BLOCKED');
  }
}
