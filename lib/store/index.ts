/**
 * One store per Node-RED runtime, chosen by lib/store/settings.ts: the embedded journals in the user directory (the
 * default) or PostgreSQL, shared by every instance pointed at it. The registry, the history and the intake ledger
 * open their backends from it; the appliance services take the shared budgets and add claims from it; the release
 * scheduler runs only while it leads.
 */
import * as path from 'node:path';
import { moveJournalsIn } from './journal-import';
import { JournalStore } from './journal-store';
import type { PgConnection } from './postgres/connection';
import { PostgresStore } from './postgres';
import { describePostgres, storeChoice, StoreSettingsRuntime } from './settings';
import type { Store } from './types';

export interface StoreRuntime extends StoreSettingsRuntime {
  log?: { warn(msg: unknown): void; error?(msg: unknown): void; info?(msg: unknown): void };
}

const stores = new Map<string, Store>();

export function getStore(red: StoreRuntime): Store {
  const choice = storeChoice(red);
  const dir = red.settings?.userDir;
  const where = choice.kind === 'postgres' ? choice.url : dir ? path.resolve(dir) : '';
  const known = stores.get(where);
  if (known) return known;
  const log = {
    warn: (m: string) => red.log?.warn(`[flowmon-response] ${m}`),
    info: (m: string) => red.log?.info?.(`[flowmon-response] ${m}`),
  };
  let store: Store;
  if (choice.kind === 'postgres') {
    // A user directory that kept journals brings them along at its first start on PostgreSQL.
    const seed = dir ? (conn: PgConnection) => moveJournalsIn(dir, conn, log) : undefined;
    store = new PostgresStore(choice.url, { log, seed });
    red.log?.info?.(`[flowmon-response] store: ${describePostgres(choice.url)} (PostgreSQL, shared by every instance that uses it)`);
  } else {
    if (choice.kind === 'invalid') {
      (red.log?.error ?? red.log?.warn)?.call(red.log, `[flowmon-response] ${choice.problem}: the embedded journal is used instead`);
    }
    store = new JournalStore(dir, { log });
  }
  stores.set(where, store);
  return store;
}

/** Closes every store (a process restart, as far as the package can tell). Call after their owners closed. */
export async function closeStores(): Promise<void> {
  const all = [...stores.values()];
  stores.clear();
  await Promise.all(all.map((s) => s.close()));
}

export type { Store } from './types';
export { isStoreUnavailable, StoreUnavailableError } from './types';
