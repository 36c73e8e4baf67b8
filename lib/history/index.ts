/**
 * One decision history per store (per user directory for the embedded journal, per database for PostgreSQL), created
 * lazily by `getHistory(RED)` next to the registry it follows: with the journal,
 * `flowmon-response/flowmon-response-history.jsonl` in the user directory (0600 in 0700).
 * Retention: `flowmonResponse.historyRetentionDays` in settings.js (default 90, 1 to 3650).
 */
import { getRegistry, RuntimeLike } from '../registry';
import { getStore, StoreRuntime } from '../store';
import type { Store } from '../store/types';
import { HistoryRecorder } from './recorder';
import { DEFAULT_RETENTION_DAYS, HistoryStore, MAX_RETENTION_DAYS } from './store';

export { HISTORY_FILE } from './journal-backend';

/** The parts of RED the history uses: the registry's, the store's, and the package's settings from settings.js. */
export interface HistoryRuntime extends RuntimeLike {
  settings: RuntimeLike['settings'] & StoreRuntime['settings'] & { flowmonResponse?: { historyRetentionDays?: unknown } };
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

const recorders = new Map<Store, HistoryRecorder>();

/** The runtime's history recorder (started), created with its store on first use. */
export function getHistory(red: HistoryRuntime): HistoryRecorder {
  const store = getStore(red);
  const known = recorders.get(store);
  if (known) {
    known.follow(getRegistry(red));
    return known;
  }
  const log = { warn: (m: string) => red.log?.warn(`[flowmon-response] ${m}`) };
  const history = new HistoryStore({
    backend: (live) => store.openHistory(live),
    retentionMs: retentionDays(red, log.warn) * 86_400_000,
    log,
  });
  const recorder = new HistoryRecorder(history, getRegistry(red), { applianceName: (configId) => applianceName(red, configId), log });
  recorder.start();
  recorders.set(store, recorder);
  return recorder;
}

/** Stops every recorder and closes its backend (a restart, as far as the history can tell). */
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
