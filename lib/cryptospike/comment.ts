import type { AdsEvent } from '../ads/event';
import { LOADMASTER_COMMENT_TAG } from '../mitigation/types';
import { NamedUser, describeUser } from './records';

export const MAX_COMMENT_LENGTH = 1_000;
const SHOWN_TARGETS = 5;

function clip(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max - 1) + '…';
}

type EventFields = Pick<AdsEvent, 'id' | 'method' | 'source' | 'targets' | 'dataFeed' | 'userIdentity'>;

/**
 * The audit comment stored with a block: which event, from where, against what, and why this user was chosen.
 * Compact and at most MAX_COMMENT_LENGTH characters; it carries the package tag like the LoadMaster entries.
 */
export function blockComment(event: EventFields | null, user: NamedUser, why: string): string {
  const lines: string[] = [];
  if (event) {
    lines.push(`Flowmon ADS event ${event.id ?? '(no id)'} - ${clip(event.method, 60)}`);
    const identity = event.userIdentity ? `, user identity: ${clip(event.userIdentity, 100)}` : '';
    lines.push(`Source: ${event.source}${identity}`);
    if (event.targets.length > 0) {
      const shown = event.targets.slice(0, SHOWN_TARGETS).join(', ');
      const more = event.targets.length > SHOWN_TARGETS ? ` (+${event.targets.length - SHOWN_TARGETS} more)` : '';
      lines.push(`Targets (${event.targets.length}): ${clip(shown, 200)}${more}`);
    }
    if (event.dataFeed) lines.push(`Data feed: ${clip(event.dataFeed, 100)}`);
  }
  lines.push(`Blocked ${describeUser(user)}: ${clip(why, 400)}`);
  lines.push(LOADMASTER_COMMENT_TAG);
  return clip(lines.join('\n'), MAX_COMMENT_LENGTH);
}

export function unblockComment(why: string): string {
  return clip(`Access restored by Flowmon response: ${why}\n${LOADMASTER_COMMENT_TAG}`, MAX_COMMENT_LENGTH);
}
