// Field-level conversions shared by the TSV, JSON and CEF readers.
import { canonicalAddress } from '../net/address';
import { Priority, PRIORITIES } from './event';

/** Thrown by the readers for a line that cannot become an event; the message is the reject reason. */
export class LineError extends Error {}

const PRIORITY_NAMES = new Map<string, Priority>(PRIORITIES.map((p) => [p, p]));

/** ADS priority name in any case (`Critical`, `HIGH`, …); null when empty or not one of the five. */
export function priorityFromName(text: string | null | undefined): Priority | null {
  if (!text) return null;
  return PRIORITY_NAMES.get(text.trim().toLowerCase()) ?? null;
}

/** CEF severity 0–10 (ADS sends 2/4/6/8/10) or a CEF severity word. */
export function priorityFromCefSeverity(text: string): Priority | null {
  const trimmed = text.trim();
  if (/^\d{1,2}$/.test(trimmed)) {
    const n = Number(trimmed);
    if (n > 10) return null;
    if (n <= 2) return 'informational';
    if (n <= 4) return 'low';
    if (n <= 6) return 'medium';
    if (n <= 8) return 'high';
    return 'critical';
  }
  if (/^very-high$/i.test(trimmed)) return 'critical';
  return priorityFromName(trimmed);
}

/** `" "` (ADS's placeholder for an empty TSV field) and `""` become null. */
export function optional(text: string | undefined): string | null {
  return text === undefined || text === '' || text === ' ' ? null : text;
}

export function requireSource(text: string | null | undefined, where: string): string {
  const value = text?.trim() ?? '';
  if (value === '') throw new LineError(`no source address (${where} is empty)`);
  const address = canonicalAddress(value);
  if (!address) throw new LineError(`source is not an address: ${quote(value)} (${where})`);
  return address;
}

/**
 * Canonical, de-duplicated targets from a `", "`-separated list (also accepts bare commas). A `...` item (ADS 6.x
 * marks a cut list with it) is skipped.
 */
export function targetList(text: string | null | undefined, where: string, into: string[] = []): string[] {
  if (!text) return into;
  for (const item of text.split(',')) {
    const value = item.trim();
    if (value === '' || value === '...' || value === '…') continue;
    const address = canonicalAddress(value);
    if (!address) throw new LineError(`target is not an address: ${quote(value)} (${where})`);
    if (!into.includes(address)) into.push(address);
  }
  return into;
}

export function quote(text: string, max = 60): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}
