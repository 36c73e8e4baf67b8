// Event filters of the flowmon-ads-event node. A filtered event is counted, not rejected.
import { AdsEvent, Priority, priorityRank, PRIORITIES } from './event';

export interface EventFilter {
  minPriority: Priority | null;
  includeMethods: ReadonlySet<string>;
  excludeMethods: ReadonlySet<string>;
  /** Lower-case perspective names. */
  perspectives: ReadonlySet<string>;
}

export interface FilterConfig {
  minPriority?: string;
  includeMethods?: string;
  excludeMethods?: string;
  perspectives?: string;
}

/** Items of a list typed in the dialog: comma- or newline-separated (methods also space-separated). */
export function parseList(text: string | undefined, separators: RegExp): string[] {
  return (text ?? '')
    .split(separators)
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

export function makeFilter(config: FilterConfig): EventFilter {
  const min = (config.minPriority ?? '').toLowerCase();
  if (min !== '' && !(PRIORITIES as readonly string[]).includes(min)) throw new Error(`unknown priority: ${config.minPriority}`);
  const methods = (text?: string) => new Set(parseList(text, /[\s,;]+/).map((m) => m.toUpperCase()));
  return {
    minPriority: min === '' ? null : (min as Priority),
    includeMethods: methods(config.includeMethods),
    excludeMethods: methods(config.excludeMethods),
    perspectives: new Set(parseList(config.perspectives, /[,;\n]+/).map((p) => p.toLowerCase())),
  };
}

/**
 * Null when the event passes, otherwise why it was filtered. A field the event does not carry (no priority on a
 * manual trigger or a CEF line's perspective) is not judged.
 */
export function filterReason(event: AdsEvent, filter: EventFilter): string | null {
  if (filter.minPriority && event.priority && priorityRank(event.priority) < priorityRank(filter.minPriority)) {
    return `priority ${event.priority} below ${filter.minPriority}`;
  }
  const method = event.method.toUpperCase();
  if (filter.includeMethods.size > 0 && !filter.includeMethods.has(method)) return `method ${method} not included`;
  if (filter.excludeMethods.has(method)) return `method ${method} excluded`;
  if (filter.perspectives.size > 0 && event.perspective && !filter.perspectives.has(event.perspective.toLowerCase())) {
    return `perspective ${event.perspective} not included`;
  }
  return null;
}
