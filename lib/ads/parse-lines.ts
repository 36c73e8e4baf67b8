// Turns one input (text, Buffer, JSON object or array) into events and rejects; a bad line never stops the others.
import { isUtf8 } from 'node:buffer';
import { AdsEvent, AdsEventFormat } from './event';
import { parseCefLine } from './cef';
import { detectLine } from './detect';
import { JsonKind, parseJsonObject } from './json';
import { jsonTooDeep, MAX_JSON_DEPTH, scanJson, tooDeepReason, valueTooDeep } from './json-scan';
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
  /** Set when the whole input is over the limits; parsing stopped there and nothing of it is to be used. */
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
  /** Events and rejects so far; parsing stops as soon as it passes maxEvents. */
  count: number;
}

export function parseInput(payload: unknown, options: ParseOptions): ParseOutcome {
  const ctx: Context = { options, now: options.now ?? Date.now(), outcome: { events: [], rejects: [] }, count: 0 };
  if (Buffer.isBuffer(payload)) parseText(payload.toString('utf8'), ctx, !isUtf8(payload));
  else if (typeof payload === 'string') parseText(payload, ctx, false);
  else if (Array.isArray(payload)) parseValues(payload, ctx);
  else if (payload !== null && typeof payload === 'object') parseValues([payload], ctx, false);
  else {
    const kind = payload === null ? 'null' : typeof payload;
    reject(ctx, 0, String(payload), `payload is ${kind}: expected text, a Buffer, a JSON object or an array of them`);
  }
  overLimit(ctx);
  const { outcome } = ctx;
  if (!outcome.tooLarge && outcome.events.length === 0 && outcome.rejects.length === 0) {
    reject(ctx, 0, '', 'empty body: no event lines');
  }
  return outcome;
}

function tooLarge(ctx: Context, reason: string): void {
  ctx.outcome = { events: [], rejects: [], tooLarge: reason };
}

/** True once the input has passed the event limit (the outcome is then a 413 and parsing stops). */
function overLimit(ctx: Context): boolean {
  if (ctx.outcome.tooLarge) return true;
  if (ctx.count <= ctx.options.maxEvents) return false;
  tooLarge(ctx, `more than ${ctx.options.maxEvents} events in one message, over the limit of ${ctx.options.maxEvents}`);
  return true;
}

function parseText(text: string, ctx: Context, invalidUtf8: boolean): void {
  const { maxLineLength, maxEvents } = ctx.options;
  if (text.length > maxLineLength * maxEvents) {
    tooLarge(ctx, `body of ${text.length} characters is over ${maxLineLength} × ${maxEvents}`);
    return;
  }
  if (wholeJsonDocument(text, ctx)) return;
  const lines = splitLines(text, maxEvents);
  if (lines === undefined) {
    tooLarge(ctx, `more than ${maxEvents} lines in one message, over the limit of ${maxEvents}`);
    return;
  }
  for (let i = 0; i < lines.length && !overLimit(ctx); i++) {
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
 * numbers stay those of the input. The empty piece after a final newline is dropped. With `maxLines`, splitting
 * stops and undefined is returned as soon as more than that many non-blank lines were found.
 */
export function splitLines(text: string, maxLines = Infinity): (string | null)[] | undefined {
  const out: (string | null)[] = [];
  let count = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (end === text.length && start === text.length) break;
    let line = text.slice(start, end);
    if (line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
    if (isBlank(line)) out.push(null);
    else if (++count > maxLines) return undefined;
    else out.push(line);
    start = end + 1;
  }
  return out;
}

function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) if (line.charCodeAt(i) !== 32) return false;
  return true;
}

/**
 * A JSON document (an array, or one object over several lines) is read as one: its nesting and its item count are
 * scanned first, without recursion, and only a document within both bounds is parsed. Returns false when the text
 * is no such document (it is then read line by line).
 */
function wholeJsonDocument(text: string, ctx: Context): boolean {
  let i = 0;
  while (i < text.length && /\s/.test(text[i])) i++;
  const first = text.charCodeAt(i);
  if (first !== 91 /* [ */ && first !== 123 /* { */) return false;
  const newline = text.indexOf('\n', i);
  if (first === 123 && (newline < 0 || newline >= text.trimEnd().length)) return false;
  const { maxEvents } = ctx.options;
  const scan = scanJson(text, { maxDepth: MAX_JSON_DEPTH, maxItems: maxEvents });
  if (scan.tooManyItems) {
    tooLarge(ctx, `more than ${maxEvents} items in one JSON array, over the limit of ${maxEvents}`);
    return true;
  }
  if (!scan.single) return false;
  if (scan.tooDeepAt !== undefined) {
    reject(ctx, 0, quote(text), `${tooDeepReason()} (at character ${scan.tooDeepAt + 1})`);
    return true;
  }
  let whole: unknown;
  try {
    whole = JSON.parse(text) as unknown;
  } catch {
    return false;
  }
  if (Array.isArray(whole)) parseValues(whole, ctx);
  else parseValues([whole], ctx, false);
  return true;
}

/**
 * Items of an array payload (or a single object, `counted` false), each an event object or a string of lines.
 * Their nesting is checked first, item by item and without recursion: a too-deep item is rejected on its own.
 */
function parseValues(items: unknown[], ctx: Context, counted = true): void {
  const { maxEvents } = ctx.options;
  if (items.length > maxEvents) {
    tooLarge(ctx, `${items.length} items in one message, over the limit of ${maxEvents}`);
    return;
  }
  // An array payload is one level; its items may use the rest.
  const itemDepth = counted ? MAX_JSON_DEPTH - 1 : MAX_JSON_DEPTH;
  for (let i = 0; i < items.length && !overLimit(ctx); i++) {
    const item = items[i];
    if (typeof item === 'string' || Buffer.isBuffer(item)) {
      const lines = splitLines(item.toString(), maxEvents);
      if (lines === undefined) {
        tooLarge(ctx, `more than ${maxEvents} lines in one message, over the limit of ${maxEvents}`);
        return;
      }
      for (const line of lines) {
        if (overLimit(ctx)) return;
        if (line !== null) parseLine(line, i + 1, ctx);
      }
    } else if (valueTooDeep(item, itemDepth)) {
      reject(ctx, i + 1, `[${Array.isArray(item) ? 'array' : 'object'} too deeply nested to quote]`, tooDeepReason());
    } else {
      parseObject(item, JSON.stringify(item) ?? String(item), i + 1, ctx);
    }
  }
}

function quote(text: string): string {
  return text.length > REJECT_QUOTE_LIMIT ? `${text.slice(0, REJECT_QUOTE_LIMIT)}…` : text;
}

function parseObject(value: unknown, raw: string, lineNumber: number, ctx: Context): void {
  const format = ctx.options.format;
  if (format !== 'auto' && format !== 'json-ads' && format !== 'json-ids') {
    reject(ctx, lineNumber, raw, `a JSON object, but the format is set to ${format}`);
    return;
  }
  try {
    accept(ctx, parseJsonObject(value, raw, ctx.options.timeZone, format === 'auto' ? undefined : (format as JsonKind)));
  } catch (err) {
    rejectError(ctx, lineNumber, raw, err);
  }
}

function parseLine(line: string, lineNumber: number, ctx: Context): void {
  const { options } = ctx;
  if (line.length > options.maxLineLength) {
    reject(ctx, lineNumber, quote(line), `line of ${line.length} characters is longer than the limit of ${options.maxLineLength}`);
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
        accept(ctx, parseTsvLine(line, options.timeZone, format === 'auto' ? undefined : (format as TsvLayout)));
        return;
      case 'cef':
        accept(ctx, parseCefLine(line, options.timeZone, ctx.now));
        return;
      default:
        reject(ctx, lineNumber, line, 'unknown format: neither tab-separated, JSON nor CEF');
    }
  } catch (err) {
    rejectError(ctx, lineNumber, line, err);
  }
}

function parseJsonLine(line: string, lineNumber: number, ctx: Context): void {
  if (jsonTooDeep(line)) {
    reject(ctx, lineNumber, line, tooDeepReason());
    return;
  }
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
  for (const item of value) {
    if (overLimit(ctx)) return;
    parseObject(item, JSON.stringify(item) ?? String(item), lineNumber, ctx);
  }
}

function rejectError(ctx: Context, lineNumber: number, line: string, err: unknown): void {
  // Anything but a LineError is a defect here, yet it must not cost the other lines of the input.
  const reason = err instanceof LineError ? err.message : `could not be parsed: ${(err as Error)?.message ?? String(err)}`;
  reject(ctx, lineNumber, line, reason);
}

function reject(ctx: Context, lineNumber: number, line: string, reason: string): void {
  ctx.count++;
  ctx.outcome.rejects.push({ line, lineNumber, reason });
}

function accept(ctx: Context, event: AdsEvent): void {
  ctx.count++;
  ctx.outcome.events.push(event);
}
