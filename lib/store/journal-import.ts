/**
 * A Node-RED that kept the embedded journals and now starts on PostgreSQL brings them along, once: its active blocks
 * (still released on time, by whichever instance releases), held decisions, history and unfinished events go into
 * the database at its first start there. The journal files are then renamed `<name>.imported`: kept as a copy, never
 * read again. Without this, switching to PostgreSQL would leave every block the journal knew on the appliances.
 */
import * as fs from 'node:fs';
import { isStoreUnavailable } from './types';
import { dataFile } from '../durable/private-files';
import { HISTORY_FILE, JournalHistoryBackend } from '../history/journal-backend';
import { INTAKE_FILE, JournalIntakeBackend } from '../intake/journal-backend';
import { JournalEntryBackend, REGISTRY_FILE } from '../registry/journal-backend';
import type { PgConnection } from './postgres/connection';
import { importJournalContents, JournalContents } from './postgres/import';

export const IMPORTED_SUFFIX = '.imported';

interface Log {
  warn(msg: string): void;
  info?(msg: string): void;
}

const nothing = { values: () => [], count: () => 0 };

/** Reads the journals of the user directory that exist (opening a missing one would create it). */
async function readJournals(userDir: string, log: Log): Promise<{ contents: JournalContents; files: string[] }> {
  const contents: JournalContents = { entries: [], history: [], intake: [] };
  const files: string[] = [];
  const closing: Promise<void>[] = [];
  const read = <T>(name: string, open: (file: string) => { load(): T[]; close(): Promise<void> }, into: T[]) => {
    const file = dataFile(userDir, name, log);
    if (!fs.existsSync(file)) return;
    const backend = open(file);
    into.push(...backend.load());
    closing.push(backend.close());
    files.push(file);
  };
  const options = { live: nothing, log, ownsDir: true };
  read(REGISTRY_FILE, (file) => new JournalEntryBackend(file, options), contents.entries);
  read(HISTORY_FILE, (file) => new JournalHistoryBackend(file, options), contents.history);
  read(INTAKE_FILE, (file) => new JournalIntakeBackend(file, options), contents.intake);
  await Promise.all(closing);
  return { contents, files };
}

/**
 * Moves the journals of `userDir` into PostgreSQL (see above). Rejects only when the database cannot be reached (the
 * store tries again); any other trouble is logged and the journals stay where they are, for the next start.
 */
export async function moveJournalsIn(userDir: string, conn: PgConnection, log: Log): Promise<void> {
  let found: Awaited<ReturnType<typeof readJournals>>;
  try {
    found = await readJournals(userDir, log);
  } catch (err) {
    log.warn(`the journals in the user directory could not be read, so they were not moved into PostgreSQL: ${message(err)}`);
    return;
  }
  if (found.files.length === 0) return;
  try {
    const counts = await importJournalContents(conn, found.contents);
    for (const file of found.files) fs.renameSync(file, `${file}${IMPORTED_SUFFIX}`);
    (log.info ?? log.warn).call(
      log,
      `moved the journals of this user directory into PostgreSQL: ${counts.entries} registry entries, ${counts.history} history ` +
        `records, ${counts.intake} unfinished events; the files are kept as *${IMPORTED_SUFFIX}`,
    );
  } catch (err) {
    if (isStoreUnavailable(err)) throw err;
    log.warn(`the journals could not be moved into PostgreSQL (they stay for the next start): ${message(err)}`);
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
