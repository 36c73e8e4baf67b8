/**
 * The parameters of `GET /flowmon-response/history`, each checked and bounded before any work, and the CSV form of
 * the records (RFC 4180, with spreadsheet formulas defused).
 */
import { HISTORY_ACTIONS, HistoryAction, HistoryRecord } from './record';
import type { HistoryFilter } from './store';

export const DEFAULT_LIMIT = 1_000;
export const MAX_LIMIT = 10_000;
const MAX_TIME_LENGTH = 40;
const MAX_TARGET_LENGTH = 512;
const MAX_ACTIONS_LENGTH = 256;
/** Latest time accepted: the end of year 9999 (Date's range is larger, but no history is). */
const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const PARAMETERS: ReadonlySet<string> = new Set(['since', 'until', 'target', 'action', 'limit', 'format']);

export type HistoryFormat = 'json' | 'csv';

export interface HistoryQuery extends HistoryFilter {
  format: HistoryFormat;
}

/** The query, or the reason it is refused (a 400). */
export function parseHistoryQuery(query: Record<string, unknown>): HistoryQuery | { error: string } {
  for (const name of Object.keys(query)) {
    if (!PARAMETERS.has(name)) return { error: `unknown parameter "${name.slice(0, 40)}": use since, until, target, action, limit, format` };
    if (typeof query[name] !== 'string') return { error: `${name.slice(0, 40)} must be given once, as text` };
  }
  const q = query as Record<string, string | undefined>;
  const out: HistoryQuery = { limit: DEFAULT_LIMIT, format: 'json' };
  for (const name of ['since', 'until'] as const) {
    const text = q[name];
    if (text === undefined) continue;
    const at = parseTime(text);
    if (at === null) return { error: `${name} must be an ISO 8601 time (2025-01-31T12:00:00Z) or epoch milliseconds` };
    out[name] = at;
  }
  if (out.since !== undefined && out.until !== undefined && out.since > out.until) return { error: 'since must not be after until' };
  if (q.target !== undefined) {
    if (q.target.length === 0 || q.target.length > MAX_TARGET_LENGTH) return { error: `target must be 1 to ${MAX_TARGET_LENGTH} characters` };
    out.target = q.target;
  }
  if (q.action !== undefined) {
    const actions = parseActions(q.action);
    if (typeof actions === 'string') return { error: actions };
    out.actions = actions;
  }
  if (q.limit !== undefined) {
    if (!/^\d{1,6}$/.test(q.limit) || Number(q.limit) < 1 || Number(q.limit) > MAX_LIMIT) {
      return { error: `limit must be a whole number from 1 to ${MAX_LIMIT}` };
    }
    out.limit = Number(q.limit);
  }
  if (q.format !== undefined) {
    if (q.format !== 'json' && q.format !== 'csv') return { error: 'format must be json or csv' };
    out.format = q.format;
  }
  return out;
}

/** Epoch milliseconds of an ISO 8601 time (a date, or a date and time with Z or an offset) or of an epoch-ms number. */
export function parseTime(text: string): number | null {
  if (text.length === 0 || text.length > MAX_TIME_LENGTH) return null;
  let at: number;
  if (/^\d{1,16}$/.test(text)) at = Number(text);
  else if (/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/.test(text)) at = Date.parse(text);
  else return null;
  return Number.isFinite(at) && at >= 0 && at <= MAX_TIME ? at : null;
}

function parseActions(text: string): Set<HistoryAction> | string {
  const known: readonly string[] = HISTORY_ACTIONS;
  const problem = `action must be one or more of ${HISTORY_ACTIONS.join(', ')} (separated by commas)`;
  if (text.length === 0 || text.length > MAX_ACTIONS_LENGTH) return problem;
  const actions = new Set<HistoryAction>();
  for (const part of text.split(',')) {
    const action = part.trim();
    if (!known.includes(action)) return problem;
    actions.add(action as HistoryAction);
  }
  return actions;
}

/** The CSV columns: the record's fields, in this order; `at` and `expiresAt` as ISO 8601 times. */
export const CSV_COLUMNS = [
  'id', 'at', 'action', 'kind', 'configId', 'appliance', 'scope', 'target', 'label', 'ttlSeconds', 'expiresAt',
  'eventId', 'method', 'priority', 'perspective', 'description', 'actorKind', 'actor', 'cause', 'detail',
] as const satisfies ReadonlyArray<keyof HistoryRecord>;
/** Does not compile while a record field has no column. */
const _everyFieldHasAColumn: [Exclude<keyof HistoryRecord, (typeof CSV_COLUMNS)[number]>] extends [never] ? true : never = true;

/** A spreadsheet runs a cell that starts with one of these as a formula (or DDE): such a cell gets a leading '. */
const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV cell: formulas defused, quoted when it holds a comma, a quote or a line break (RFC 4180). */
export function csvCell(value: unknown): string {
  let text = value === undefined || value === null ? '' : String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRow(r: HistoryRecord): string {
  return CSV_COLUMNS.map((c) => {
    const v = r[c];
    return csvCell((c === 'at' || c === 'expiresAt') && typeof v === 'number' ? new Date(v).toISOString() : v);
  }).join(',');
}

/** The header row and one row per record, CRLF after every row. */
export function toCsv(records: readonly HistoryRecord[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of records) lines.push(csvRow(r));
  return lines.join('\r\n') + '\r\n';
}
