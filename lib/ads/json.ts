// ADS and IDS JSON objects (one per line, an array, or an object already parsed by an HTTP-in node).
import { bounded } from './bounds';
import { AdsEvent } from './event';
import { parseAdsTime } from './time';
import { idsEventFrom } from './tsv';
import { LineError, priorityFromName, quote, requireSource, targetList } from './values';

export type JsonKind = 'json-ads' | 'json-ids';

/**
 * Parses one decoded JSON value. `kind` forces ADS or IDS. Otherwise an object with `timestamp` is ADS and one
 * without it is IDS (as ADS sends them); an object that has neither IDS keys nor `type`+`source` is rejected.
 */
export function parseJsonObject(value: unknown, raw: string, zone: string, kind?: JsonKind): AdsEvent {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new LineError(`JSON value is ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}, not an event object`);
  }
  const o = value as Record<string, unknown>;
  const chosen = kind ?? guessKind(o);
  return bounded(chosen === 'json-ads' ? adsEvent(o, raw, zone) : idsEvent(o, raw, zone));
}

function guessKind(o: Record<string, unknown>): JsonKind {
  if ('timestamp' in o) return 'json-ads';
  if ('srcIp' in o || 'signatureName' in o || 'firstSeen' in o) return 'json-ids';
  if ('type' in o && 'source' in o) return 'json-ads';
  throw new LineError('JSON object with neither ADS keys (timestamp, type, source) nor IDS keys (srcIp, firstSeen, signatureName)');
}

/** A string, number or boolean as text; empty, null and missing as null; anything else is an error. */
function text(o: Record<string, unknown>, key: string): string | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v === '' || v === ' ' ? null : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new LineError(`JSON key ${quote(key)} holds ${Array.isArray(v) ? 'an array' : 'an object'}, expected text`);
}

/** `targets` as ADS sends it (`"a, b"`) or as an array of strings. */
function targets(o: Record<string, unknown>, key: string): string[] {
  const v = o[key];
  if (Array.isArray(v)) {
    const out: string[] = [];
    for (const item of v) {
      if (typeof item !== 'string') throw new LineError(`JSON key ${quote(key)} holds a non-text item`);
      targetList(item, `key ${key}`, out);
    }
    return out;
  }
  return targetList(text(o, key), `key ${key}`);
}

function adsEvent(o: Record<string, unknown>, raw: string, zone: string): AdsEvent {
  const method = text(o, 'type');
  if (method === null) throw new LineError('ADS JSON without "type" (the ADS method code)');
  const timestamp = text(o, 'timestamp');
  return {
    kind: 'ads',
    format: 'json-ads',
    id: text(o, 'id'),
    detectedAt: timestamp === null ? null : parseAdsTime(timestamp.trim(), zone),
    firstFlowAt: null,
    method: method.trim(),
    subtype: null,
    mitre: null,
    description: text(o, 'typeDesc') ?? '',
    perspective: text(o, 'perspective'),
    priority: priorityFromName(text(o, 'severity')),
    detail: text(o, 'detail') ?? '',
    ports: null,
    protocol: null,
    source: requireSource(text(o, 'source'), 'key source'),
    sourceName: null,
    targets: targets(o, 'targets'),
    dataFeed: text(o, 'netFlowSource'),
    userIdentity: text(o, 'userIdentity'),
    raw,
  };
}

function idsEvent(o: Record<string, unknown>, raw: string, zone: string): AdsEvent {
  return idsEventFrom(
    {
      id: text(o, 'id'),
      firstSeen: text(o, 'firstSeen'),
      srcIp: text(o, 'srcIp'),
      dstIp: text(o, 'dstIp'),
      dstPort: text(o, 'dstPort'),
      protocol: text(o, 'protocol'),
      signatureId: text(o, 'signatureId'),
      signatureName: text(o, 'signatureName'),
      logSourceIp: text(o, 'logSourceIp'),
      category: text(o, 'category'),
      severity: text(o, 'severity'),
    },
    raw,
    zone,
    'json-ids',
    ['key srcIp', 'key dstIp'],
  );
}
