import type { AdsEvent } from '../ads/event';
import { LOADMASTER_COMMENT_TAG } from '../mitigation/types';
import { applianceText, clip } from '../text/plain-text';
import { NamedUser, describeUser } from './records';

export const MAX_COMMENT_LENGTH = 1_000;
const SHOWN_TARGETS = 5;
/** Joins the parts of a comment: line breaks are control characters, which comments never carry. */
const SEPARATOR = ' | ';

type EventFields = Pick<AdsEvent, 'id' | 'method' | 'source' | 'targets' | 'dataFeed' | 'userIdentity'>;

/** The parts joined and reduced to printable text without markup, then the package tag: MAX_COMMENT_LENGTH at most. */
function taggedComment(parts: string[]): string {
  const room = MAX_COMMENT_LENGTH - SEPARATOR.length - LOADMASTER_COMMENT_TAG.length;
  return `${applianceText(parts.join(SEPARATOR), room)}${SEPARATOR}${LOADMASTER_COMMENT_TAG}`;
}

/**
 * The audit comment stored with a block: which event, from where, against what, and why this user was chosen.
 * Compact, at most MAX_COMMENT_LENGTH printable characters without markup (event fields and user names come from
 * outside); it carries the package tag like the LoadMaster entries.
 */
export function blockComment(event: EventFields | null, user: NamedUser, why: string): string {
  const parts: string[] = [];
  if (event) {
    parts.push(`Flowmon ADS event ${clip(event.id ?? '(no id)', 128)} - ${clip(event.method, 60)}`);
    const identity = event.userIdentity ? `, user identity: ${clip(event.userIdentity, 100)}` : '';
    parts.push(`Source: ${clip(event.source, 64)}${identity}`);
    if (event.targets.length > 0) {
      const shown = event.targets.slice(0, SHOWN_TARGETS).join(', ');
      const more = event.targets.length > SHOWN_TARGETS ? ` (+${event.targets.length - SHOWN_TARGETS} more)` : '';
      parts.push(`Targets (${event.targets.length}): ${clip(shown, 200)}${more}`);
    }
    if (event.dataFeed) parts.push(`Data feed: ${clip(event.dataFeed, 100)}`);
  }
  parts.push(`Blocked ${clip(describeUser(user), 200)}: ${clip(why, 400)}`);
  return taggedComment(parts);
}

export function unblockComment(why: string): string {
  return taggedComment([`Access restored by Flowmon response: ${clip(why, 400)}`]);
}
