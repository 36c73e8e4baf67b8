/**
 * The history on the embedded journal: one line per record, a delete line per pruned record. Records are never
 * rewritten, so the journal is compacted as soon as the deletes of a prune pass a quarter of the live records.
 */
import { Journal, JournalBackendOptions } from '../durable/journal';
import type { HistoryBackend } from '../store/types';
import { HistoryRecord, isHistoryRecord } from './record';

export const HISTORY_FILE = 'flowmon-response-history.jsonl';

/** Shares the strings that repeat from record to record (appliances, scopes, methods, actors) through `share`. */
export function shareRecordStrings(r: HistoryRecord, share: (text: string) => string): void {
  r.configId = share(r.configId);
  r.appliance = share(r.appliance);
  r.scope = share(r.scope);
  r.actor = share(r.actor);
  if (r.method) r.method = share(r.method);
  if (r.perspective) r.perspective = share(r.perspective);
}

export class JournalHistoryBackend implements HistoryBackend {
  readonly shared = false;
  private readonly journal: Journal<HistoryRecord>;

  constructor(file: string, options: JournalBackendOptions<HistoryRecord>) {
    this.journal = new Journal<HistoryRecord>(file, {
      live: options.live,
      log: options.log,
      isRecord: isHistoryRecord,
      // Shared while loading, so 200,000 records never sit in memory with a copy of each string.
      intern: shareRecordStrings,
      compactFactor: 1.25,
      label: 'history journal',
      ownsDir: options.ownsDir,
    });
  }

  /** Reads the journal and opens it for appends: call once, before anything else. */
  load(): HistoryRecord[] {
    return [...this.journal.load().entries.values()];
  }

  append(record: HistoryRecord): Promise<void> {
    return this.journal.putEntry(record);
  }

  async delete(ids: string[]): Promise<void> {
    await Promise.all(ids.map((id) => this.journal.deleteEntry(id)));
  }

  flush(): Promise<void> {
    return this.journal.flush();
  }

  close(): Promise<void> {
    return this.journal.close();
  }
}
