// Wall-clock times of ADS output carry no zone: they are read in a configured IANA zone, converted with Intl offsets.

const formatters = new Map<string, Intl.DateTimeFormat>();
/** Per zone: minute of the wall time (as if UTC) → offset. Bounded; ADS batches repeat the same minutes. */
const offsetCache = new Map<string, Map<number, number>>();
const OFFSET_CACHE_LIMIT = 10_000;

export function hostTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function formatterFor(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, formatter);
  }
  return formatter;
}

/** Offset of `zone` from UTC at the instant `epochMs`, in milliseconds (east positive). */
export function zoneOffsetMs(epochMs: number, zone: string): number {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(zone).formatToParts(new Date(epochMs))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const asUtc = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
  return asUtc - Math.floor(epochMs / 1000) * 1000;
}

/**
 * Epoch milliseconds of a wall time in `zone`, or null when the fields are out of range.
 * In an overlap (clocks set back) the earlier instant wins; in a gap (clocks set forward) the wall time is read
 * with the offset in force before the change.
 */
export function wallTimeToEpoch(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  zone: string,
): number | null {
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  const asUtc = Date.UTC(year, month - 1, day, hour, minute, Math.min(second, 59));
  const check = new Date(asUtc);
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month - 1) return null;
  let zoneCache = offsetCache.get(zone);
  if (!zoneCache) {
    zoneCache = new Map();
    offsetCache.set(zone, zoneCache);
  }
  const minuteKey = Math.floor(asUtc / 60_000);
  const cached = zoneCache.get(minuteKey);
  if (cached !== undefined) return asUtc - cached;
  const offset = resolveOffset(asUtc, zone);
  if (zoneCache.size >= OFFSET_CACHE_LIMIT) zoneCache.clear();
  zoneCache.set(minuteKey, offset);
  return asUtc - offset;
}

/** Offsets in force a day before and a day after; the valid one(s) map back to the same wall time. */
function resolveOffset(asUtc: number, zone: string): number {
  const before = zoneOffsetMs(asUtc - 86_400_000, zone);
  const after = zoneOffsetMs(asUtc + 86_400_000, zone);
  if (before === after) return before;
  const validBefore = zoneOffsetMs(asUtc - before, zone) === before;
  const validAfter = zoneOffsetMs(asUtc - after, zone) === after;
  if (validBefore && validAfter) return Math.max(before, after);
  if (validAfter) return after;
  return before;
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/;
const WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})$/i;

/**
 * ISO-8601 UTC text of an ADS time: `YYYY-MM-DD HH:MM:SS` in `zone`, epoch seconds (10 digits or fewer)
 * or milliseconds (13 digits), or an ISO time that carries its own offset. Null when empty or unreadable.
 */
export function parseAdsTime(text: string, zone: string): string | null {
  return text === '' ? null : readAdsTime(text, zone);
}

const readAdsTime = rememberLast((text: string, zone: string): string | null => {
  if (text.length === 19 && text.charCodeAt(4) === 45 && text.charCodeAt(7) === 45 && text.charCodeAt(13) === 58) {
    const year = digitsAt(text, 0, 4);
    const month = digitsAt(text, 5, 2);
    const day = digitsAt(text, 8, 2);
    const h = digitsAt(text, 11, 2);
    const m = digitsAt(text, 14, 2);
    const sec = digitsAt(text, 17, 2);
    const separator = text.charCodeAt(10);
    if ((separator === 32 || separator === 84) && text.charCodeAt(16) === 58 && Math.min(year, month, day, h, m, sec) >= 0) {
      return isoOf(wallTimeToEpoch(year, month, day, h, m, sec, zone));
    }
  }
  const m = DATE_TIME.exec(text);
  if (m) return isoOf(wallTimeToEpoch(+m[1], +m[2], +m[3], +m[4], +m[5], +m[6], zone));
  if (/^\d{1,10}$/.test(text)) return new Date(Number(text) * 1000).toISOString();
  if (/^\d{13}$/.test(text)) return new Date(Number(text)).toISOString();
  if (WITH_ZONE.test(text)) {
    const ms = Date.parse(text);
    return Number.isNaN(ms) ? null : new Date(ms).toISOString();
  }
  return null;
});

const MONTHS: Record<string, number> = {
  jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12,
  Jan: 1, Feb: 2, Mar: 3, Apr: 4, May: 5, Jun: 6, Jul: 7, Aug: 8, Sep: 9, Oct: 10, Nov: 11, Dec: 12,
};

const CEF_TIME = /^([A-Za-z]{3}) (\d{1,2}) (\d{4}) (\d{2}):(\d{2}):(\d{2})$/;

/** The number written by `count` ASCII digits at `from` (a leading space counts as 0), or -1. */
export function digitsAt(text: string, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 && n === 0 && i < from + count - 1) continue;
    if (c < 48 || c > 57) return -1;
    n = n * 10 + c - 48;
  }
  return n;
}

export function monthNumber(name: string): number {
  return MONTHS[name] ?? MONTHS[name.toLowerCase()] ?? 0;
}

/**
 * Remembers the last answer: the lines of one ADS batch (one message per target in particular) repeat the
 * same times, and this sits on the hot path of the CEF reader.
 */
function rememberLast(read: (text: string, zone: string) => string | null): (text: string, zone: string) => string | null {
  let lastText: string | undefined;
  let lastZone: string | undefined;
  let lastResult: string | null = null;
  return (text, zone) => {
    if (text !== lastText || zone !== lastZone) {
      lastResult = read(text, zone);
      lastText = text;
      lastZone = zone;
    }
    return lastResult;
  };
}

/** CEF `start`/`rt`: `Mmm dd yyyy HH:mm:ss` in `zone`, or epoch milliseconds. */
export const parseCefTime = rememberLast((text: string, zone: string): string | null => {
  if (text.length === 20 && text.charCodeAt(14) === 58 && text.charCodeAt(17) === 58) {
    // Fast path for the one form ADS sends: "Nov 03 2025 15:13:04".
    const month = monthNumber(text.slice(0, 3));
    const day = digitsAt(text, 4, 2);
    const year = digitsAt(text, 7, 4);
    const h = digitsAt(text, 12, 2);
    const m = digitsAt(text, 15, 2);
    const sec = digitsAt(text, 18, 2);
    if (month && day >= 0 && year >= 0 && h >= 0 && m >= 0 && sec >= 0) {
      return isoOf(wallTimeToEpoch(year, month, day, h, m, sec, zone));
    }
  }
  const m = CEF_TIME.exec(text);
  if (m) {
    const month = monthNumber(m[1]);
    return month ? isoOf(wallTimeToEpoch(+m[3], month, +m[2], +m[4], +m[5], +m[6], zone)) : null;
  }
  if (/^\d{13}$/.test(text)) return new Date(Number(text)).toISOString();
  return parseAdsTime(text, zone);
});

function isoOf(epoch: number | null): string | null {
  return epoch === null ? null : new Date(epoch).toISOString();
}

/**
 * RFC 3164 header time (`Mmm dd HH:MM:SS`, no year) in `zone`: the current year in that zone, or the previous
 * one when that would put the time more than a day in the future (a December message read in January).
 */
export function parseYearlessTime(
  monthName: string,
  day: number,
  hour: number,
  minute: number,
  second: number,
  zone: string,
  now: number,
): string | null {
  const month = monthNumber(monthName);
  if (!month) return null;
  const year = yearIn(zone, now);
  let epoch = wallTimeToEpoch(year, month, day, hour, minute, second, zone);
  if (epoch !== null && epoch > now + 86_400_000) epoch = wallTimeToEpoch(year - 1, month, day, hour, minute, second, zone);
  return epoch === null ? null : new Date(epoch).toISOString();
}

const yearCache = new Map<string, { minute: number; year: number }>();

/** The calendar year in `zone` at `now`, cached per zone and minute (it is asked once per syslog line). */
function yearIn(zone: string, now: number): number {
  const minute = Math.floor(now / 60_000);
  const cached = yearCache.get(zone);
  if (cached?.minute === minute) return cached.year;
  const year = new Date(now + zoneOffsetMs(now, zone)).getUTCFullYear();
  yearCache.set(zone, { minute, year });
  return year;
}
