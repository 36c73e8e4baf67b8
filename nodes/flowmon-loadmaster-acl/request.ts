import type { AdsEvent } from '../../lib/ads/event';
import { MAX_COMMENT_LENGTH } from '../../lib/loadmaster/client';
import type { LoadMasterList, LoadMasterScope } from '../../lib/mitigation/types';
import { applianceText } from '../../lib/text/plain-text';

export interface NodeDefaults {
  action: string;
  list: string;
  scope: string;
  vs: string;
}

export interface ParsedRequest {
  action: 'add' | 'remove';
  list: LoadMasterList;
  scope: LoadMasterScope;
  address: string;
}

export const DEFAULT_COMMENT = 'ADS ID {{id}} - {{method}}';

type MessageLike = { payload?: unknown; ip?: unknown; action?: unknown; list?: unknown; vs?: unknown; comment?: unknown };

function addressOf(msg: MessageLike): string | null {
  const payload = msg.payload as { source?: unknown } | null | undefined;
  if (payload && typeof payload === 'object' && typeof payload.source === 'string') return payload.source;
  if (typeof msg.payload === 'string' && msg.payload.trim()) return msg.payload.trim();
  if (typeof msg.ip === 'string' && msg.ip.trim()) return msg.ip.trim();
  return null;
}

function scopeOf(vs: unknown, defaults: NodeDefaults): LoadMasterScope | string {
  if (vs === undefined || vs === null || vs === '') {
    if (defaults.scope !== 'vs') return 'global';
    return /^\d+$/.test(String(defaults.vs ?? '')) ? { vs: String(defaults.vs) } : 'no virtual service chosen in the node';
  }
  if (vs === 'global') return 'global';
  const text = String(vs).trim();
  return /^\d+$/.test(text) ? { vs: text } : `msg.vs "${text}" is not a virtual service index (a number) or "global"`;
}

/**
 * What a message asks for: the node's settings, overridden by msg.action / msg.list / msg.vs. The address comes
 * from msg.payload.source (an ADS event), msg.payload as a string, or msg.ip. Bad input gives a reason.
 */
export function readAclRequest(msg: MessageLike, defaults: NodeDefaults): ParsedRequest | (ParsedRequest & { reason: string }) {
  const action = msg.action ?? defaults.action ?? 'add';
  const list = msg.list ?? defaults.list ?? 'block';
  const scope = scopeOf(msg.vs, defaults);
  const address = addressOf(msg);
  const request: ParsedRequest = {
    action: action === 'remove' ? 'remove' : 'add',
    list: list === 'allow' ? 'allow' : 'block',
    scope: typeof scope === 'string' && scope !== 'global' ? 'global' : (scope as LoadMasterScope),
    address: address ?? '',
  };
  const reason =
    action !== 'add' && action !== 'remove'
      ? `msg.action must be "add" or "remove", got "${String(action)}"`
      : list !== 'block' && list !== 'allow'
        ? `msg.list must be "block" or "allow", got "${String(list)}"`
        : typeof scope === 'string' && scope !== 'global'
          ? scope
          : address === null
            ? 'no address: expected msg.payload.source (an ADS event), msg.payload as a string or msg.ip'
            : null;
  return reason ? { ...request, reason } : request;
}

/**
 * The comment for an add: msg.comment when it is a string, otherwise the template with {{id}}, {{method}},
 * {{source}}, {{priority}}, {{address}} filled from the event. A request without an event gets "manual request".
 * Event fields come from outside, so the result is printable text without markup, at most the LoadMaster's 127
 * characters (the package tag is added, and the whole cut again, when the entry is written).
 */
export function renderComment(template: string | undefined, msg: MessageLike, event: AdsEvent | null, address: string): string {
  return applianceText(fillComment(template, msg, event, address), MAX_COMMENT_LENGTH);
}

function fillComment(template: string | undefined, msg: MessageLike, event: AdsEvent | null, address: string): string {
  if (typeof msg.comment === 'string') return msg.comment;
  if (!event) return `manual request ${address}`;
  const values: Record<string, string> = {
    id: event.id ?? '',
    method: event.method,
    source: event.source,
    priority: event.priority ?? '',
    address,
    subtype: event.subtype ?? '',
  };
  return (template?.trim() || DEFAULT_COMMENT).replace(/\{\{\s*(\w+)\s*\}\}/g, (_m, name: string) => values[name] ?? '');
}
