// The node's configuration, read once at deploy.
import type { NodeDef } from 'node-red';
import { EventFilter, makeFilter } from '../../lib/ads/filters';
import { DEFAULT_MAX_EVENTS, DEFAULT_MAX_LINE_LENGTH, FormatOption, ParseOptions } from '../../lib/ads/parse-lines';
import { hostTimeZone, isValidTimeZone } from '../../lib/ads/time';
import { unlessUnsetEnv } from '../../lib/config/fields';

export interface AdsEventDef extends NodeDef {
  format?: string;
  minPriority?: string;
  includeMethods?: string;
  excludeMethods?: string;
  perspectives?: string;
  timeZone?: string;
  maxLineLength?: number | string;
  maxEvents?: number | string;
  /** The node's own HTTP endpoint (POST), relative to Node-RED's httpNodeRoot; empty: messages only. */
  path?: string;
  maxBody?: number | string;
}

export interface AdsEventCredentials {
  secret?: string;
}

/**
 * 8 MiB: ADS's largest batch is the default 10,000 events (Max. events) at about 800 bytes per line, 8 MB. Node-RED's
 * own HTTP in node stops at 5 MB, which would refuse such a batch.
 */
export const DEFAULT_MAX_BODY = 8 * 1024 * 1024;

const FORMATS: readonly FormatOption[] = ['auto', 'tsv-standard', 'tsv-extended', 'tsv-ids', 'json-ads', 'json-ids', 'cef'];

export interface AdsEventSettings {
  options: ParseOptions;
  filter: EventFilter;
  /** '' when the node has no endpoint of its own. */
  path: string;
  maxBody: number;
}

export function readSettings(config: AdsEventDef, warn: (text: string) => void): AdsEventSettings {
  const format = (FORMATS as readonly string[]).includes(config.format ?? '') ? (config.format as FormatOption) : 'auto';
  let timeZone = (config.timeZone ?? '').trim() || hostTimeZone();
  if (!isValidTimeZone(timeZone)) {
    warn(`unknown time zone "${timeZone}"; reading ADS times in the host's zone ${hostTimeZone()}`);
    timeZone = hostTimeZone();
  }
  let filter: EventFilter;
  try {
    filter = makeFilter(config);
  } catch (err) {
    warn(`${(err as Error).message}; no minimum priority applied`);
    filter = makeFilter({ ...config, minPriority: '' });
  }
  let path = String(unlessUnsetEnv(config.path ?? '')).trim();
  if (path && !path.startsWith('/')) path = `/${path}`;
  return {
    options: {
      format,
      timeZone,
      maxLineLength: positiveInteger(config.maxLineLength, DEFAULT_MAX_LINE_LENGTH),
      maxEvents: positiveInteger(config.maxEvents, DEFAULT_MAX_EVENTS),
    },
    filter,
    path,
    maxBody: positiveInteger(config.maxBody, DEFAULT_MAX_BODY),
  };
}

function positiveInteger(value: number | string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}
