// ADS/IDS tab-separated lines (custom-script stdin). Split on TAB only; a field that is one space is empty.
import { bounded } from './bounds';
import { AdsEvent } from './event';
import { parseAdsTime } from './time';
import { LineError, optional, priorityFromName, quote, requireSource, targetList } from './values';
import { canonicalAddress } from '../net/address';

export type TsvLayout = 'tsv-standard' | 'tsv-extended' | 'tsv-ids';

export const TSV_FIELD_COUNTS: Record<TsvLayout, number> = { 'tsv-ids': 14, 'tsv-standard': 15, 'tsv-extended': 17 };

const METHOD_CODE = /^[A-Za-z][A-Za-z0-9_-]*$/;

/** Parses one TSV line (terminator already removed). `layout` forces a layout; otherwise the field count decides. */
export function parseTsvLine(line: string, zone: string, layout?: TsvLayout): AdsEvent {
  const fields = line.split('\t');
  const chosen = layout ?? layoutFromCount(fields);
  const expected = TSV_FIELD_COUNTS[chosen];
  if (fields.length !== expected) {
    throw new LineError(`${fields.length} tab-separated fields, but the format ${chosen} has ${expected}`);
  }
  return bounded(chosen === 'tsv-ids' ? idsEvent(fields, line, zone) : adsEvent(fields, line, zone, chosen));
}

function layoutFromCount(fields: string[]): TsvLayout {
  switch (fields.length) {
    case 15:
      return 'tsv-standard';
    case 17:
      return 'tsv-extended';
    case 14:
      if (looksLikeStrippedStandard(fields)) {
        throw new LineError(
          '14 fields with an ADS method code in field 4: a standard ADS line (15 fields) whose empty user identity ' +
            '(the trailing TAB and space) was stripped on the way; forward the lines unchanged',
        );
      }
      return 'tsv-ids';
    case 16:
      throw new LineError(
        '16 tab-separated fields: neither standard ADS (15), extended ADS (17) nor IDS (14); an extended line ' +
          'has 16 when the trailing TAB and space of an empty user identity were stripped on the way',
      );
    default:
      throw new LineError(
        `${fields.length} tab-separated fields: expected 15 (ADS standard), 17 (ADS extended) or 14 (IDS)`,
      );
  }
}

function looksLikeStrippedStandard(fields: string[]): boolean {
  return METHOD_CODE.test(fields[3]) && canonicalAddress(fields[3]) === null && canonicalAddress(fields[10].trim()) !== null;
}

function adsEvent(f: string[], raw: string, zone: string, layout: 'tsv-standard' | 'tsv-extended'): AdsEvent {
  const x = layout === 'tsv-extended' ? 2 : 0;
  const method = f[3].trim();
  if (!METHOD_CODE.test(method)) throw new LineError(`event type (field 4) is not an ADS method code: ${quote(method)}`);
  return {
    kind: 'ads',
    format: layout,
    id: optional(f[0]),
    detectedAt: parseAdsTime(f[1].trim(), zone),
    firstFlowAt: parseAdsTime(f[2].trim(), zone),
    method,
    subtype: x ? optional(f[4]) : null,
    mitre: x ? optional(f[5]) : null,
    description: optional(f[4 + x]) ?? '',
    perspective: optional(f[5 + x]),
    priority: priorityFromName(optional(f[6 + x])),
    detail: optional(f[7 + x]) ?? '',
    ports: optional(f[8 + x]),
    protocol: optional(f[9 + x]),
    source: requireSource(optional(f[10 + x]), `field ${11 + x}`),
    sourceName: optional(f[11 + x]),
    targets: targetList(optional(f[12 + x]), `field ${13 + x}`),
    dataFeed: optional(f[13 + x]),
    userIdentity: optional(f[14 + x]),
    raw,
  };
}

/** IDS: id, firstSeen, lastSeen, srcIp, srcPort, dstIp, dstPort, protocol, signatureId, signatureName, logSourceIp, logSourceInterface, category, severity. */
function idsEvent(f: string[], raw: string, zone: string): AdsEvent {
  return idsEventFrom(
    {
      id: optional(f[0]),
      firstSeen: optional(f[1]),
      srcIp: optional(f[3]),
      dstIp: optional(f[5]),
      dstPort: optional(f[6]),
      protocol: optional(f[7]),
      signatureId: optional(f[8]),
      signatureName: optional(f[9]),
      logSourceIp: optional(f[10]),
      category: optional(f[12]),
      severity: optional(f[13]),
    },
    raw,
    zone,
    'tsv-ids',
    ['field 4', 'field 6'],
  );
}

export interface IdsFields {
  id: string | null;
  firstSeen: string | null;
  srcIp: string | null;
  dstIp: string | null;
  dstPort: string | null;
  protocol: string | null;
  signatureId: string | null;
  signatureName: string | null;
  logSourceIp: string | null;
  category: string | null;
  severity: string | null;
}

/** The IDS → AdsEvent mapping shared by TSV and JSON (documented in the node's help). */
export function idsEventFrom(
  v: IdsFields,
  raw: string,
  zone: string,
  format: 'tsv-ids' | 'json-ids',
  where: [string, string],
): AdsEvent {
  const seen = v.firstSeen === null ? null : parseAdsTime(v.firstSeen.trim(), zone);
  return {
    kind: 'ids',
    format,
    id: v.id,
    detectedAt: seen,
    firstFlowAt: seen,
    method: 'IDS',
    subtype: v.signatureId,
    mitre: null,
    description: v.signatureName ?? '',
    perspective: null,
    priority: priorityFromName(v.severity),
    detail: v.category ?? '',
    ports: v.dstPort,
    protocol: v.protocol,
    source: requireSource(v.srcIp, where[0]),
    sourceName: null,
    targets: targetList(v.dstIp, where[1]),
    dataFeed: v.logSourceIp,
    userIdentity: null,
    raw,
  };
}
