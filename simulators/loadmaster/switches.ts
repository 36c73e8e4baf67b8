/** How the v2 reply of `list` / `listvs` is shaped (the vendor does not document it). */
export type ListShape = 'k7' | 'k8' | 'flattened';

/** One injected reply, used once by the next call: an HTTP reply or a dropped connection. */
export type InjectedReply = { httpStatus: number; body: unknown } | 'drop';

/**
 * The behaviours the LoadMaster documentation leaves open, and the faults tests inject. Mutable at any time.
 */
export interface SimSwitches {
  /** Adding an address that is already listed: succeed silently (default) or fail with 422. */
  duplicateAdd: 'succeed' | 'fail';
  /** Deleting an address that is not listed: succeed silently (default) or fail with 422. */
  missingDelete: 'succeed' | 'fail';
  /** Drop the connection of the call that exceeds `rateLimitCalls` within `rateLimitWindowMs`. */
  rateLimit: boolean;
  rateLimitCalls: number;
  rateLimitWindowMs: number;
  /** Packet filter state; while off, ACL edits fail with 422. */
  packetFilter: boolean;
  /** API interface switch; while off every call gets 404. */
  apiEnabled: boolean;
  /** Permissions of every authenticated caller: `vs` gets 403 on the global lists. */
  permissions: 'all' | 'vs';
  /** Answer errors with HTTP 200 and `status: "fail"` (the body's `code` keeps the real status). */
  httpOkOnFail: boolean;
  listShape: ListShape;
  /** Comments over 127 characters: cut (default) or 422. */
  longComment: 'truncate' | 'fail';
  /** Delay before each reply. */
  latencyMs: number;
  /** While true every connection is reset at once. */
  outage: boolean;
  /** Replies used, first to last, by the next calls (before any other handling). */
  nextReplies: InjectedReply[];
}

export function defaultSwitches(): SimSwitches {
  return {
    duplicateAdd: 'succeed',
    missingDelete: 'succeed',
    rateLimit: true,
    rateLimitCalls: 30,
    rateLimitWindowMs: 3_000,
    packetFilter: true,
    apiEnabled: true,
    permissions: 'all',
    httpOkOnFail: false,
    listShape: 'k7',
    longComment: 'truncate',
    latencyMs: 0,
    outage: false,
    nextReplies: [],
  };
}
