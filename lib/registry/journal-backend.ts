/**
 * The registry's entries in the embedded journal (one Node-RED instance): a put is never a conflict, since nobody
 * else writes the file.
 */
import { Journal, JournalBackendOptions } from '../durable/journal';
import type { EntryBackend } from '../store/types';
import { boundEntry, isRegistryEntry, RegistryEntry } from './entry';

export const REGISTRY_FILE = 'flowmon-response-registry.jsonl';

export class JournalEntryBackend implements EntryBackend {
  readonly shared = false;
  private readonly journal: Journal<RegistryEntry>;

  constructor(file: string, options: JournalBackendOptions<RegistryEntry>) {
    this.journal = new Journal<RegistryEntry>(file, {
      live: options.live,
      log: options.log,
      isRecord: isRegistryEntry,
      intern: (e, shared) => {
        e.configId = shared(e.configId);
        e.scope = shared(e.scope);
      },
      label: 'registry journal',
      ownsDir: options.ownsDir,
    });
  }

  /** Reads the journal synchronously; records written before the bounds existed are brought within them. */
  load(): RegistryEntry[] {
    return [...this.journal.load().entries.values()].map(boundEntry);
  }

  put(entry: RegistryEntry): Promise<void> {
    return this.journal.putEntry(entry);
  }

  delete(id: string): Promise<void> {
    return this.journal.deleteEntry(id);
  }

  flush(): Promise<void> {
    return this.journal.flush();
  }

  close(): Promise<void> {
    return this.journal.close();
  }

  get lineCount(): number {
    return this.journal.lineCount;
  }
}
