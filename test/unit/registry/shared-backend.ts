// An in-memory "database" of registry entries shared by several registries, as PostgreSQL is by several instances:
// each row has a version, a put on a stale version is a conflict that returns the stored entry, and every stored
// change reaches the other backends (onRemote) in the order it was stored.
import type { EntryBackend, PutConflict, RemoteEntryChange } from '../../../lib/store/types';
import type { RegistryEntry } from '../../../lib/registry/entry';

interface Row {
  version: number;
  entry: RegistryEntry | undefined;
}

export class SharedDatabase {
  readonly rows = new Map<string, Row>();
  private readonly backends = new Set<SharedEntryBackend>();
  conflicts = 0;

  open(): SharedEntryBackend {
    const backend = new SharedEntryBackend(this);
    this.backends.add(backend);
    return backend;
  }

  entry(id: string): RegistryEntry | undefined {
    return this.rows.get(id)?.entry;
  }

  /** Stores the entry if its version is still `base`; otherwise the stored entry. */
  write(from: SharedEntryBackend, id: string, entry: RegistryEntry | undefined, base: number, type: string): Row | PutConflict {
    const row = this.rows.get(id) ?? { version: 0, entry: undefined };
    if (entry && row.version !== base) {
      this.conflicts++;
      from.saw(id, row.version);
      return { conflict: true, current: clone(row.entry) };
    }
    const stored: Row = { version: row.version + 1, entry: clone(entry) };
    this.rows.set(id, stored);
    from.saw(id, stored.version);
    for (const other of this.backends) {
      if (other !== from) queueMicrotask(() => other.deliver({ type, id, entry: clone(entry) }, stored.version));
    }
    return stored;
  }
}

export class SharedEntryBackend implements EntryBackend {
  readonly shared = true;
  readonly lineCount = 0;
  /** Remote deliveries held back until release() (a slow notification). */
  holdRemote = false;
  private readonly held: Array<() => void> = [];
  private readonly seen = new Map<string, number>();
  private readonly listeners: Array<(change: RemoteEntryChange) => void> = [];

  constructor(private readonly db: SharedDatabase) {}

  async load(): Promise<RegistryEntry[]> {
    await tick();
    const entries: RegistryEntry[] = [];
    for (const [id, row] of this.db.rows) {
      this.seen.set(id, row.version);
      if (row.entry) entries.push(clone(row.entry) as RegistryEntry);
    }
    return entries;
  }

  put(entry: RegistryEntry, type: string): Promise<void | PutConflict> {
    // The version this instance last saw is what the write is based on, taken when the write is asked for.
    const base = this.seen.get(entry.id) ?? 0;
    const copy = clone(entry) as RegistryEntry;
    return tick().then(() => {
      const result = this.db.write(this, copy.id, copy, base, type);
      return 'conflict' in result ? result : undefined;
    });
  }

  async delete(id: string, type: string): Promise<void> {
    await tick();
    this.db.write(this, id, undefined, this.seen.get(id) ?? 0, type);
  }

  onRemote(listener: (change: RemoteEntryChange) => void): void {
    this.listeners.push(listener);
  }

  saw(id: string, version: number): void {
    this.seen.set(id, Math.max(this.seen.get(id) ?? 0, version));
  }

  /** A notification older than what this instance has seen is dropped (PostgreSQL's backend must do the same). */
  deliver(change: RemoteEntryChange, version: number): void {
    const run = () => {
      if (version <= (this.seen.get(change.id) ?? 0)) return;
      this.seen.set(change.id, version);
      for (const l of this.listeners) l(change);
    };
    if (this.holdRemote) this.held.push(run);
    else run();
  }

  /** Delivers the notifications held back, in order. */
  release(): void {
    this.holdRemote = false;
    for (const run of this.held.splice(0)) run();
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}
