import { NamedUser, describeUser, nameMatchesUser } from './records';

const SID = /^S-\d+-\d+(-\d+)*$/i;

/** Users that must never be blocked, listed by user name, UPN, DOMAIN\user or SID (compared case-insensitively). */
export class ProtectedUsers {
  private readonly entries: string[];

  constructor(entries: string[]) {
    this.entries = entries.map((e) => e.trim()).filter(Boolean);
  }

  get size(): number {
    return this.entries.length;
  }

  /** True when some entry is a name, so the user's name must be known before a block. */
  get needsNames(): boolean {
    return this.entries.some((e) => !SID.test(e));
  }

  reasonFor(user: NamedUser): string | null {
    const hit = this.entries.find((entry) => nameMatchesUser(entry, user));
    return hit ? `${describeUser(user)} is a protected user (never-block entry "${hit}")` : null;
  }
}
