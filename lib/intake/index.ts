import * as path from 'node:path';
import { dataDir, dataFile } from '../durable/private-files';
import { IntakeLedger } from './ledger';
import { HooksLike, IntakeTracker } from './tracker';

export { INTAKE_PROPERTY } from './tracker';
export type { IntakeRecord } from './ledger';

export const INTAKE_FILE = 'flowmon-response-intake.jsonl';

/** The intake journal of a user directory: in the package's folder (0700), readable by its owner only. */
export function intakeFile(userDir: string): string {
  return path.join(dataDir(userDir), INTAKE_FILE);
}

/** The parts of Node-RED's RED object the intake uses. */
export interface IntakeRuntime {
  settings: { userDir?: string };
  hooks?: HooksLike;
  log?: { warn(msg: unknown): void };
}

export interface Intake {
  ledger: IntakeLedger;
  tracker: IntakeTracker;
}

const byUserDir = new Map<string, Intake>();

/**
 * One intake ledger per user directory. Without a user directory, or on a runtime without message hooks, events are
 * not journaled (nothing could replay them) and `undefined` is returned.
 */
export function getIntake(red: IntakeRuntime): Intake | undefined {
  const userDir = red.settings.userDir;
  if (!userDir || !red.hooks) return undefined;
  let intake = byUserDir.get(userDir);
  if (!intake) {
    const log = { warn: (m: string) => red.log?.warn(`[flowmon-response] ${m}`) };
    const ledger = new IntakeLedger({ file: dataFile(userDir, INTAKE_FILE, log), log, ownsDir: true });
    intake = { ledger, tracker: new IntakeTracker(ledger) };
    byUserDir.set(userDir, intake);
  }
  intake.tracker.attach(red.hooks);
  return intake;
}

/** Closes every ledger (tests that reuse a user directory). */
export async function closeIntakes(): Promise<void> {
  const all = [...byUserDir.values()];
  byUserDir.clear();
  await Promise.all(all.map((i) => i.ledger.close()));
}
