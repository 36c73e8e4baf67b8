import * as path from 'node:path';
import { dataDir } from '../durable/private-files';
import { getStore, StoreRuntime } from '../store';
import type { Store } from '../store/types';
import { IntakeLedger } from './ledger';
import { INTAKE_FILE } from './journal-backend';
import { HooksLike, IntakeTracker } from './tracker';

export { INTAKE_PROPERTY } from './tracker';
export { INTAKE_FILE } from './journal-backend';
export type { IntakeRecord } from './ledger';

/** The intake journal of a user directory: in the package's folder (0700), readable by its owner only. */
export function intakeFile(userDir: string): string {
  return path.join(dataDir(userDir), INTAKE_FILE);
}

/** The parts of Node-RED's RED object the intake uses. */
export interface IntakeRuntime extends StoreRuntime {
  hooks?: HooksLike;
}

export interface Intake {
  ledger: IntakeLedger;
  tracker: IntakeTracker;
}

/** Per store; null when the store keeps nothing (the journal without a user directory). */
const byStore = new Map<Store, Intake | null>();

/**
 * One intake ledger per store. When nothing can be kept (no user directory for the journal), or on a runtime without
 * message hooks, events are not recorded (nothing could replay them) and `undefined` is returned.
 */
export function getIntake(red: IntakeRuntime): Intake | undefined {
  if (!red.hooks) return undefined;
  const store = getStore(red);
  let intake = byStore.get(store);
  if (intake === undefined) {
    const log = { warn: (m: string) => red.log?.warn(`[flowmon-response] ${m}`) };
    const ledger = new IntakeLedger({ backend: (live) => store.openIntake(live), log });
    intake = ledger.durable ? { ledger, tracker: new IntakeTracker(ledger) } : null;
    byStore.set(store, intake);
  }
  intake?.tracker.attach(red.hooks);
  return intake ?? undefined;
}

/** Closes every ledger (tests that reuse a user directory). */
export async function closeIntakes(): Promise<void> {
  const all = [...byStore.values()];
  byStore.clear();
  await Promise.all(all.map((i) => i?.ledger.close()));
}
