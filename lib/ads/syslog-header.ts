// The optional syslog header in front of `CEF:` (RFC 3164 or 5424, with or without <PRI>, tag `ADS:` or `ADS[pid]:`).
import { digitsAt, parseYearlessTime } from './time';

export interface SyslogSplit {
  /** The text from `CEF:` on. */
  cef: string;
  /** The header's time as ISO-8601 UTC, when the header has a readable one. */
  time: string | null;
}

const PRI = /^<\d{1,3}>/;
const RFC5424 = /^1 (\S+) /;
/** `Mmm dd HH:MM:SS ` with a space-padded day. */
function isRfc3164Time(header: string): boolean {
  return (
    header.length >= 16 &&
    header.charCodeAt(3) === 32 &&
    header.charCodeAt(6) === 32 &&
    header.charCodeAt(9) === 58 &&
    header.charCodeAt(12) === 58 &&
    header.charCodeAt(15) === 32 &&
    digitsAt(header, 4, 2) > 0 &&
    digitsAt(header, 7, 2) >= 0 &&
    digitsAt(header, 10, 2) >= 0 &&
    digitsAt(header, 13, 2) >= 0
  );
}
const ISO_PREFIX = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) /;

/** Null when the line holds no `CEF:` that starts the line or follows a space or the `<PRI>`. */
export function splitSyslog(line: string, zone: string, now: number): SyslogSplit | null {
  const at = line.indexOf('CEF:');
  if (at < 0) return null;
  if (at === 0) return { cef: line, time: null };
  const before = line.charCodeAt(at - 1);
  if (before !== 32 && before !== 62 /* '>' */) return null;
  const header = line.charCodeAt(0) === 60 /* < */ ? line.slice(0, at).replace(PRI, '') : line;
  return { cef: line.slice(at), time: headerTime(header, zone, now) };
}

let last = { time: '', zone: '', minute: -1, result: null as string | null };

function headerTime(header: string, zone: string, now: number): string | null {
  if (isRfc3164Time(header)) {
    // Consecutive lines of a batch share the time; remember the last one (per zone and minute of `now`).
    const time = header.slice(0, 15);
    const minute = Math.floor(now / 60_000);
    if (time !== last.time || zone !== last.zone || minute !== last.minute) {
      const day = digitsAt(time, 4, 2);
      const result = parseYearlessTime(time.slice(0, 3), day, digitsAt(time, 7, 2), digitsAt(time, 10, 2), digitsAt(time, 13, 2), zone, now);
      last = { time, zone, minute, result };
    }
    return last.result;
  }
  const m = RFC5424.exec(header) ?? ISO_PREFIX.exec(header);
  if (m && m[1] !== '-') {
    const ms = Date.parse(m[1]);
    return Number.isNaN(ms) ? null : new Date(ms).toISOString();
  }
  return null;
}
