/**
 * The registry's entries in PostgreSQL, shared by every instance. Each row carries a version: a put succeeds only on
 * the version this instance last saw, otherwise it is a conflict with the stored entry, for the change to be made
 * again on it. Every write notifies the other instances, which fetch the rows named and pass on what is newer.
 */
import { isDeepStrictEqual } from 'node:util';
import { boundEntry, isRegistryEntry, type RegistryEntry } from '../../registry/entry';
import type { EntryBackend, PutConflict, RemoteEntryChange } from '../types';
import type { PgConnection } from './connection';
import {
  DELETE_ENTRY, ENTRIES_CHANNEL, type EntryNotice, type EntryRow, INSERT_ENTRY, parseNotice, SELECT_ALL_ENTRIES,
  SELECT_ENTRIES, UPDATE_ENTRY, writeParameters,
} from './entry-statements';

export interface PostgresEntryOptions {
  instanceId: string;
  /** Resolves once the schema is migrated. */
  ready: Promise<void>;
  log: { warn(msg: string): void };
  /** How long a write waits for PostgreSQL to come back before it rejects StoreUnavailableError (60 s). */
  retryForMs?: number;
}

const RETRY_FOR_MS = 60_000;

/** What the notifications of one id since the last fetch said: the last change, and the type of a deletion among them. */
interface Noticed {
  version: number;
  type: string;
  deletedAs: string | undefined;
}

interface StoredEntry {
  version: number;
  entry: RegistryEntry | undefined;
}

export class PostgresEntryBackend implements EntryBackend {
  readonly shared = true;
  readonly lineCount = 0;
  /** id -> the version this instance last saw (wrote, loaded or was passed on). */
  private readonly versions = new Map<string, number>();
  /** The last write of each id in flight: writes of one id run one after the other. */
  private readonly writing = new Map<string, Promise<unknown>>();
  private readonly listeners = new Set<(change: RemoteEntryChange) => void>();
  /** Notified ids (with the last change type) not fetched yet. */
  private noticed = new Map<string, Noticed>();
  private fetchScheduled = false;
  /** Fetches run one after the other, so that what they pass on keeps the order of the changes. */
  private fetching: Promise<void> = Promise.resolve();
  private listening = false;
  private loaded = false;
  private closed = false;
  private readonly retryForMs: number;

  constructor(
    private readonly conn: PgConnection,
    private readonly options: PostgresEntryOptions,
  ) {
    this.retryForMs = options.retryForMs ?? RETRY_FOR_MS;
  }

  async load(): Promise<RegistryEntry[]> {
    await this.options.ready;
    const rows = await this.readAll();
    this.loaded = true;
    const entries: RegistryEntry[] = [];
    for (const row of rows) {
      this.versions.set(row.id, row.version);
      if (row.entry) entries.push(row.entry);
    }
    return entries;
  }

  put(entry: RegistryEntry, type: string): Promise<void | PutConflict> {
    return this.serialised(entry.id, () => this.write(entry, type));
  }

  delete(id: string, type: string): Promise<void> {
    return this.serialised(id, async () => {
      await this.options.ready;
      await this.conn.queryRetrying(DELETE_ENTRY, [id, type, this.options.instanceId], this.retryForMs);
      this.versions.delete(id);
    });
  }

  onRemote(listener: (change: RemoteEntryChange) => void): void {
    this.listeners.add(listener);
    if (this.listening) return;
    this.listening = true;
    this.conn.on('resync', () => this.queueFetch(() => this.resync()));
    void this.conn.listen(ENTRIES_CHANNEL, (payload) => this.notice(payload)).then((listening) => {
      // Changes made between the load and the LISTEN were not notified to this instance.
      if (listening && this.loaded) this.queueFetch(() => this.resync());
    });
  }

  async flush(): Promise<void> {
    while (this.writing.size > 0) await Promise.allSettled([...this.writing.values()]);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
  }

  private async write(entry: RegistryEntry, type: string): Promise<void | PutConflict> {
    await this.options.ready;
    const known = this.versions.get(entry.id);
    const values = writeParameters(entry, type, this.options.instanceId, known);
    const statement = known === undefined ? INSERT_ENTRY : UPDATE_ENTRY;
    const { rows } = await this.conn.queryRetrying<{ version: string }>(statement, values, this.retryForMs);
    if (rows[0]) {
      this.versions.set(entry.id, Number(rows[0].version));
      return;
    }
    const [stored] = await this.read([entry.id]);
    if (stored) this.versions.set(entry.id, stored.version);
    else this.versions.delete(entry.id);
    // A write retried after PostgreSQL came back may have committed the first time: then it is no conflict.
    if (stored?.entry && isDeepStrictEqual(stored.entry, JSON.parse(values[4] as string))) return;
    return { conflict: true, current: stored?.entry };
  }

  /** Runs `work` after the writes of `id` in flight. */
  private serialised<T>(id: string, work: () => Promise<T>): Promise<T> {
    const before = this.writing.get(id) ?? Promise.resolve();
    const done = before.catch(() => undefined).then(work);
    const settled = done.catch(() => undefined);
    this.writing.set(id, settled);
    void settled.then(() => {
      if (this.writing.get(id) === settled) this.writing.delete(id);
    });
    return done;
  }

  private notice(payload: string): void {
    const notice = parseNotice(payload);
    if (!notice || this.closed || notice.origin === this.options.instanceId || this.alreadySeen(notice)) return;
    const earlier = this.noticed.get(notice.id);
    const deletedAs = notice.version < 0 ? notice.type : earlier?.deletedAs;
    this.noticed.set(notice.id, { version: notice.version, type: notice.type, deletedAs });
    if (this.fetchScheduled) return;
    this.fetchScheduled = true;
    setImmediate(() => {
      this.fetchScheduled = false;
      const batch = this.noticed;
      this.noticed = new Map();
      this.queueFetch(() => this.fetchNoticed(batch));
    });
  }

  private alreadySeen(notice: EntryNotice): boolean {
    const known = this.versions.get(notice.id);
    return notice.version >= 0 && known !== undefined && notice.version <= known;
  }

  private queueFetch(work: () => Promise<void>): void {
    this.fetching = this.fetching.then(work).catch((err: unknown) => {
      this.options.log.warn(`registry: changes of other instances not fetched (${err instanceof Error ? err.message : String(err)})`);
    });
  }

  /**
   * Passes on each row in the state its last notification named, with that change's type. A row already changed
   * further (or deleted) is left to the notification of that change, which follows.
   */
  private async fetchNoticed(batch: Map<string, Noticed>): Promise<void> {
    const ids = [...batch.keys()];
    const rows = new Map((await this.read(ids)).map((row) => [row.id, row]));
    await this.writesSettled(ids);
    for (const [id, { version, type, deletedAs }] of batch) {
      const row = rows.get(id);
      if (row?.version === version) this.pass(id, row, type);
      else if (!row && deletedAs !== undefined) this.pass(id, undefined, deletedAs);
    }
  }

  /** After missed notifications: every row that is not what this instance last saw. */
  private async resync(): Promise<void> {
    if (this.closed || !this.loaded) return;
    const rows = new Map((await this.readAll()).map((row) => [row.id, row]));
    const ids = new Set([...rows.keys(), ...this.versions.keys()]);
    await this.writesSettled([...ids]);
    for (const id of ids) this.pass(id, rows.get(id), 'resync');
  }

  /** Passes the row on when it is newer than the version last seen, or its deletion when it was known. */
  private pass(id: string, row: StoredEntry | undefined, type: string): void {
    const known = this.versions.get(id);
    if (row && known !== undefined && row.version <= known) return;
    if (!row && known === undefined) return;
    if (row) this.versions.set(id, row.version);
    else this.versions.delete(id);
    if (row && !row.entry) return;
    for (const listener of this.listeners) listener({ type, id, entry: row?.entry });
  }

  private async writesSettled(ids: string[]): Promise<void> {
    for (;;) {
      const pending = ids.map((id) => this.writing.get(id)).filter((p) => p !== undefined);
      if (pending.length === 0) return;
      await Promise.all(pending);
    }
  }

  private async read(ids: string[]): Promise<(StoredEntry & { id: string })[]> {
    const { rows } = await this.conn.queryRetrying<EntryRow>(SELECT_ENTRIES, [ids], this.retryForMs);
    return rows.map((row) => this.stored(row));
  }

  private async readAll(): Promise<(StoredEntry & { id: string })[]> {
    const { rows } = await this.conn.queryRetrying<EntryRow>(SELECT_ALL_ENTRIES, [], this.retryForMs);
    return rows.map((row) => this.stored(row));
  }

  /** A row another (perhaps older or newer) package wrote: checked and bounded; undefined entry when unusable. */
  private stored(row: EntryRow): StoredEntry & { id: string } {
    const valid = isRegistryEntry(row.entry) && row.entry.id === row.id;
    if (!valid) this.options.log.warn(`registry: stored entry ${row.id.slice(0, 64)} is not usable; ignored`);
    return { id: row.id, version: Number(row.version), entry: valid ? boundEntry(row.entry as RegistryEntry) : undefined };
  }
}
