// The optional syslog header in front of `CEF:` (RFC 3164 or 5424, with or without <PRI>, tag `ADS:` or `ADS[pid]:`).
import { parseYearlessTime } from './time';

export interface SyslogSplit {
  /** The text from `CEF:` on. */
  cef: string;
  /** The header's time as ISO-8601 UTC, when the header has a readable one. */
  time: string | null;
}

const PRI = /^<\d{1,3}>/;
const RFC5424 = /^1 (\S+) /;
const RFC3164 = /^([A-Z][a-z]{2}) ([ \d]?\d) (\d\d):(\d\d):(\d\d) /;
const ISO_PREFIX = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) /;

/** Null when the line holds no `CEF:` that starts the line or follows a space or the `<PRI>`. */
export function splitSyslog(line: string, zone: string, now: number): SyslogSplit | null {
  const at = line.indexOf('CEF:');
  if (at < 0) return null;
  if (at === 0) return { cef: line, time: null };
  const before = line.charCodeAt(at - 1);
  if (before !== 32 && before !== 62 /* '>' */) return null;
  return { cef: line.slice(at), time: headerTime(line.slice(0, at).replace(PRI, ''), zone, now) };
}

function headerTime(header: string, zone: string, now: number): string | null {
  let m = RFC3164.exec(header);
  if (m) return parseYearlessTime(m[1], Number(m[2].trim()), +m[3], +m[4], +m[5], zone, now);
  m = RFC5424.exec(header) ?? ISO_PREFIX.exec(header);
  if (m && m[1] !== '-') {
    const ms = Date.parse(m[1]);
    return Number.isNaN(ms) ? null : new Date(ms).toISOString();
  }
  return null;
}
