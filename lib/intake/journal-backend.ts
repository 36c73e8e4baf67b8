/**
 * The intake on the embedded journal: one line per accepted event, a delete line once it is settled. What is left at
 * start is the previous run's unfinished events, handed back to their parser nodes.
 */
import { Journal, JournalBackendOptions } from '../durable/journal';
import { isAdsEvent } from '../ads/event';
import type { IntakeBackend } from '../store/types';
import type { IntakeRecord } from './ledger';

export const INTAKE_FILE = 'flowmon-response-intake.jsonl';

function isIntakeRecord(value: unknown): value is IntakeRecord {
  const r = value as Partial<IntakeRecord> | null;
  return !!r && typeof r.id === 'string' && typeof r.node === 'string' && typeof r.at === 'number' && isAdsEvent(r.event);
}

export class JournalIntakeBackend implements IntakeBackend {
  readonly shared = false;
  private readonly journal: Journal<IntakeRecord>;

  constructor(file: string, options: JournalBackendOptions<IntakeRecord>) {
    this.journal = new Journal<IntakeRecord>(file, {
      live: options.live,
      log: options.log,
      isRecord: isIntakeRecord,
      label: 'intake journal',
      ownsDir: options.ownsDir,
    });
  }

  /** Reads the journal and opens it for appends: call once, before anything else. */
  load(): IntakeRecord[] {
    return [...this.journal.load().entries.values()];
  }

  async put(records: IntakeRecord[]): Promise<void> {
    await Promise.all(records.map((r) => this.journal.putEntry(r)));
  }

  settle(id: string): Promise<void> {
    return this.journal.deleteEntry(id);
  }

  close(): Promise<void> {
    return this.journal.close();
  }
}
