/**
 * One decision history per Node-RED runtime (per user directory), created lazily by `getHistory(RED)` next to the
 * registry it follows: `flowmon-response/flowmon-response-history.jsonl` in the user directory (0600 in 0700).
 * Retention: `flowmonResponse.historyRetentionDays` in settings.js (default 90, 1 to 3650).
 */
import * as path from 'node:path';
import { dataFile } from '../durable/private-files';
import { getRegistry, RuntimeLike } from '../registry';
import { HistoryRecorder } from './recorder';
import { DEFAULT_RETENTION_DAYS, HistoryStore, MAX_RETENTION_DAYS } from './store';

export const HISTORY_FILE = 'flowmon-response-history.jsonl';

/** The parts of RED the history uses: the registry's, and the package's settings from settings.js. */
export interface HistoryRuntime extends RuntimeLike {
  settings: RuntimeLike['settings'] & { flowmonResponse?: { historyRetentionDays?: unknown } };
}

/** The retention in days from settings.js, or the default with a warning when it is not a number of days in range. */
export function retentionDays(red: HistoryRuntime, warn: (msg: string) => void): number {
  const value = red.settings?.flowmonResponse?.historyRetentionDays;
  if (value === undefined) return DEFAULT_RETENTION_DAYS;
  if (typeof value === 'number' && Number.isFinite(value) && value >= 1 && value <= MAX_RETENTION_DAYS) return value;
  warn(`flowmonResponse.historyRetentionDays must be a number of days from 1 to ${MAX_RETENTION_DAYS}: ${DEFAULT_RETENTION_DAYS} is used`);
  return DEFAULT_RETENTION_DAYS;
}

/** The name of an appliance config node (its id when it has no name or is not deployed). */
export function applianceName(red: RuntimeLike, configId: string): string {
  const node = red.nodes?.getNode(configId) as { name?: unknown } | null | undefined;
  return typeof node?.name === 'string' && node.name.trim() ? node.name : configId;
}

const recorders = new Map<string, HistoryRecorder>();

/** The runtime's history recorder (started), created with its store on first use. */
export function getHistory(red: HistoryRuntime): HistoryRecorder {
  const dir = red.settings?.userDir;
  const id = dir ? path.resolve(dir) : '';
  const known = recorders.get(id);
  if (known) {
    known.follow(getRegistry(red));
    return known;
  }
  const log = { warn: (m: string) => red.log?.warn(`[flowmon-response] ${m}`) };
  const store = new HistoryStore({
    file: dir ? dataFile(dir, HISTORY_FILE, log) : undefined,
    retentionMs: retentionDays(red, log.warn) * 86_400_000,
    log,
    ownsDir: true,
  });
  const recorder = new HistoryRecorder(store, getRegistry(red), { applianceName: (configId) => applianceName(red, configId), log });
  recorder.start();
  recorders.set(id, recorder);
  return recorder;
}

/** Stops every recorder and closes its journal (a restart, as far as the history can tell). */
export async function closeHistories(): Promise<void> {
  const all = [...recorders.values()];
  recorders.clear();
  for (const r of all) r.stop();
  await Promise.all(all.map(async (r) => (await r.idle(), await r.store.close())));
}

export { HistoryRecorder } from './recorder';
export { HistoryStore } from './store';
export type { HistoryFilter, HistoryPage } from './store';
export type { HistoryRecord, HistoryAction } from './record';
