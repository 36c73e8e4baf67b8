// Turns one input (text, Buffer, JSON object or array) into events and rejects; a bad line never stops the others.
import { isUtf8 } from 'node:buffer';
import { AdsEvent, AdsEventFormat } from './event';
import { parseCefLine } from './cef';
import { detectLine } from './detect';
import { JsonKind, parseJsonObject } from './json';
import { parseTsvLine, TsvLayout } from './tsv';
import { LineError } from './values';

export type FormatOption = 'auto' | AdsEventFormat;

export interface ParseOptions {
  format: FormatOption;
  timeZone: string;
  /** Longest accepted line, in characters. */
  maxLineLength: number;
  /** Most lines (or JSON objects) accepted in one input. */
  maxEvents: number;
  /** Anchors the year of RFC 3164 syslog times; defaults to the current time. */
  now?: number;
}

export interface LineReject {
  line: string;
  lineNumber: number;
  reason: string;
}

export interface ParseOutcome {
  events: AdsEvent[];
  rejects: LineReject[];
  /** Set when the whole input is over the limits; nothing was parsed. */
  tooLarge?: string;
}

export const DEFAULT_MAX_LINE_LENGTH = 65_536;
export const DEFAULT_MAX_EVENTS = 10_000;
/** An over-long line is quoted in its reject only up to this many characters. */
export const REJECT_QUOTE_LIMIT = 1024;

interface Context {
  options: ParseOptions;
  now: number;
  outcome: ParseOutcome;
  lineNumber: number;
}

export function parseInput(payload: unknown, options: ParseOptions): ParseOutcome {
  const ctx: Context = { options, now: options.now ?? Date.now(), outcome: { events: [], rejects: [] }, lineNumber: 0 };
  if (Buffer.isBuffer(payload)) parseText(payload.toString('utf8'), ctx, !isUtf8(payload));
  else if (typeof payload === 'string') parseText(payload, ctx, false);
  else if (Array.isArray(payload)) parseItems(payload, ctx);
  else if (payload !== null && typeof payload === 'object') parseItems([payload], ctx);
  else {
    const kind = payload === null ? 'null' : typeof payload;
    reject(ctx, 0, String(payload), `payload is ${kind}: expected text, a Buffer, a JSON object or an array of them`);
  }
  const { outcome } = ctx;
  if (!outcome.tooLarge && outcome.events.length + outcome.rejects.length > options.maxEvents) {
    return tooLarge(`more than ${options.maxEvents} events in one message`);
  }
  if (!outcome.tooLarge && outcome.events.length === 0 && outcome.rejects.length === 0) {
    reject(ctx, 0, '', 'empty body: no event lines');
  }
  return outcome;
}

function tooLarge(reason: string): ParseOutcome {
  return { events: [], rejects: [], tooLarge: reason };
}

function parseText(text: string, ctx: Context, invalidUtf8: boolean): void {
  const { maxLineLength, maxEvents } = ctx.options;
  if (text.length > maxLineLength * maxEvents) {
    ctx.outcome = tooLarge(`body of ${text.length} characters is over ${maxLineLength} × ${maxEvents}`);
    return;
  }
  const whole = wholeJsonDocument(text);
  if (whole !== undefined) {
    parseItems(Array.isArray(whole) ? whole : [whole], ctx);
    return;
  }
  const lines = splitLines(text);
  let count = 0;
  for (const line of lines) if (line !== null) count++;
  if (count > maxEvents) {
    ctx.outcome = tooLarge(`${count} lines in one message, over the limit of ${maxEvents}`);
    return;
  }
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === null) continue;
    if (invalidUtf8 && line.includes('\ufffd')) {
      reject(ctx, i + 1, line, 'invalid UTF-8: the line holds bytes that are not UTF-8 text');
      continue;
    }
    parseLine(line, i + 1, ctx);
  }
}

/**
 * Lines split on LF with a trailing CR removed; blank lines (empty or spaces only) are null so that line
 * numbers stay those of the input. The empty piece after a final newline is dropped.
 */
export function splitLines(text: string): (string | null)[] {
  const out: (string | null)[] = [];
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (end === text.length && start === text.length) break;
    let line = text.slice(start, end);
    if (line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
    out.push(isBlank(line) ? null : line);
    start = end + 1;
  }
  return out;
}

function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) if (line.charCodeAt(i) !== 32) return false;
  return true;
}

/** A pretty-printed JSON document (an array, or one object over several lines), else undefined. */
function wholeJsonDocument(text: string): unknown {
  let i = 0;
  while (i < text.length && /\s/.test(text[i])) i++;
  const first = text.charCodeAt(i);
  if (first !== 91 /* [ */ && first !== 123 /* { */) return undefined;
  const trimmed = text.trim();
  if (first === 123 && !trimmed.includes('\n')) return undefined;
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    return undefined;
  }
}

function parseItems(items: unknown[], ctx: Context): void {
  if (items.length > ctx.options.maxEvents) {
    ctx.outcome = tooLarge(`${items.length} items in one message, over the limit of ${ctx.options.maxEvents}`);
    return;
  }
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (typeof item === 'string' || Buffer.isBuffer(item)) {
      const text = item.toString();
      for (const line of splitLines(text)) if (line !== null) parseLine(line, i + 1, ctx);
    } else {
      parseObject(item, JSON.stringify(item) ?? String(item), i + 1, ctx);
    }
  }
}

function parseObject(value: unknown, raw: string, lineNumber: number, ctx: Context): void {
  const format = ctx.options.format;
  if (format !== 'auto' && format !== 'json-ads' && format !== 'json-ids') {
    reject(ctx, lineNumber, raw, `a JSON object, but the format is set to ${format}`);
    return;
  }
  try {
    ctx.outcome.events.push(parseJsonObject(value, raw, ctx.options.timeZone, format === 'auto' ? undefined : (format as JsonKind)));
  } catch (err) {
    rejectError(ctx, lineNumber, raw, err);
  }
}

function parseLine(line: string, lineNumber: number, ctx: Context): void {
  const { options } = ctx;
  if (line.length > options.maxLineLength) {
    const quoted = `${line.slice(0, REJECT_QUOTE_LIMIT)}…`;
    reject(ctx, lineNumber, quoted, `line of ${line.length} characters is longer than the limit of ${options.maxLineLength}`);
    return;
  }
  const format = options.format;
  const family = format === 'auto' ? detectLine(line) : format === 'cef' ? 'cef' : format.startsWith('json') ? 'json' : 'tsv';
  try {
    switch (family) {
      case 'json':
        parseJsonLine(line, lineNumber, ctx);
        return;
      case 'tsv':
        ctx.outcome.events.push(parseTsvLine(line, options.timeZone, format === 'auto' ? undefined : (format as TsvLayout)));
        return;
      case 'cef':
        ctx.outcome.events.push(parseCefLine(line, options.timeZone, ctx.now));
        return;
      default:
        reject(ctx, lineNumber, line, 'unknown format: neither tab-separated, JSON nor CEF');
    }
  } catch (err) {
    rejectError(ctx, lineNumber, line, err);
  }
}

function parseJsonLine(line: string, lineNumber: number, ctx: Context): void {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    reject(ctx, lineNumber, line, `invalid JSON: ${(err as Error).message}`);
    return;
  }
  if (!Array.isArray(value)) {
    parseObject(value, line, lineNumber, ctx);
    return;
  }
  for (const item of value) parseObject(item, JSON.stringify(item) ?? String(item), lineNumber, ctx);
}

function rejectError(ctx: Context, lineNumber: number, line: string, err: unknown): void {
  // Anything but a LineError is a defect here, yet it must not cost the other lines of the input.
  const reason = err instanceof LineError ? err.message : `could not be parsed: ${(err as Error)?.message ?? String(err)}`;
  reject(ctx, lineNumber, line, reason);
}

function reject(ctx: Context, lineNumber: number, line: string, reason: string): void {
  ctx.outcome.rejects.push({ line, lineNumber, reason });
}
