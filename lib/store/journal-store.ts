import * as path from 'node:path';
import { dataDir, dataFile } from '../durable/private-files';
import { HISTORY_FILE, JournalHistoryBackend } from '../history/journal-backend';
import { INTAKE_FILE, JournalIntakeBackend } from '../intake/journal-backend';
import { JournalEntryBackend, REGISTRY_FILE } from '../registry/journal-backend';
import { SoleLeadership } from './sole-leadership';
import type { LiveRecords, Store } from './types';
import type { RegistryEntry } from '../registry/entry';
import type { HistoryRecord } from '../history/record';
import type { IntakeRecord } from '../intake/ledger';

/**
 * The embedded store: append-only journals (0600) in `<userDir>/flowmon-response/` (0700), one Node-RED instance.
 * Without a user directory everything lives in memory only.
 */
export class JournalStore implements Store {
  readonly kind = 'journal';
  readonly instanceId = 'local';
  readonly leadership = new SoleLeadership();
  readonly budgets = undefined;
  readonly claims = undefined;
  readonly unavailable = undefined;
  readonly description: string;

  constructor(
    private readonly userDir: string | undefined,
    private readonly options: { log: { warn(msg: string): void } },
  ) {
    this.description = userDir ? `journal in ${path.join(dataDir(userDir))}` : 'memory only (no user directory)';
  }

  openEntries(live: LiveRecords<RegistryEntry>): JournalEntryBackend | undefined {
    const file = this.file(REGISTRY_FILE);
    return file ? new JournalEntryBackend(file, { live, log: this.options.log, ownsDir: true }) : undefined;
  }

  openHistory(live: LiveRecords<HistoryRecord>): JournalHistoryBackend | undefined {
    const file = this.file(HISTORY_FILE);
    return file ? new JournalHistoryBackend(file, { live, log: this.options.log, ownsDir: true }) : undefined;
  }

  openIntake(live: LiveRecords<IntakeRecord>): JournalIntakeBackend | undefined {
    const file = this.file(INTAKE_FILE);
    return file ? new JournalIntakeBackend(file, { live, log: this.options.log, ownsDir: true }) : undefined;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private file(name: string): string | undefined {
    return this.userDir ? dataFile(this.userDir, name, this.options.log) : undefined;
  }
}
