/**
 * The decision history: records in time order, in memory and in a backend (the embedded journal: one line per record,
 * group commit with fsync, a torn last line dropped, 0600 in the package's 0700 folder; or PostgreSQL). It is
 * bounded three ways — a retention (default 90 days), a number of records (200,000) and the bytes of the records
 * as journal lines (64 MiB) — and pruned oldest first, in batches down to 90 % of a bound, so the journal is
 * rewritten (compacted) once per batch rather than at every record.
 *
 * Every record appended here is announced as a `record` event (the metrics count this instance's decisions from it);
 * a record another instance appended to a shared backend as a `remote-record` event (for live views).
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { JournalLog } from '../durable/journal';
import type { HistoryBackend, LiveRecords } from '../store/types';
import { JournalHistoryBackend, shareRecordStrings } from './journal-backend';
import { boundRecord, HistoryAction, HistoryRecord } from './record';
import type { RecordDraft } from './sources';

const DAY = 86_400_000;
export const DEFAULT_RETENTION_DAYS = 90;
export const MAX_RETENTION_DAYS = 3650;
export const DEFAULT_MAX_RECORDS = 200_000;
export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
/** A size prune keeps this share of the bound, so the next one is a batch away. */
const LOW_WATER = 0.9;
/** Distinct low-variety strings (appliances, scopes, methods, actors) shared between records before the table is reset. */
const MAX_SHARED = 10_000;

/** Opens a backend over the store's records (what a journal compaction writes out). */
export type HistoryBackendOpener = (live: LiveRecords<HistoryRecord>) => HistoryBackend | undefined;

export interface HistoryOptions {
  /** Where records are kept; without it (or `file`) the history lives in memory only. */
  backend?: HistoryBackend | HistoryBackendOpener;
  /** Journal path, opened as a JournalHistoryBackend when no backend is given. */
  file?: string;
  now?: () => number;
  retentionMs?: number;
  maxRecords?: number;
  maxBytes?: number;
  log?: JournalLog;
  ownsDir?: boolean;
}

export interface HistoryFilter {
  since?: number;
  until?: number;
  /** An exact target, an address whose block is a CIDR of it (`10.0.0.5` finds `10.0.0.5/32`), or a user's name. */
  target?: string;
  actions?: ReadonlySet<HistoryAction>;
  limit: number;
}

export interface HistoryPage {
  /** Newest first, at most `limit`. */
  records: HistoryRecord[];
  /** Every record the filter matches. */
  matched: number;
}

export class HistoryStore extends EventEmitter<{ record: [HistoryRecord]; 'remote-record': [HistoryRecord] }> {
  /** Resolves once the stored records are in memory (at once for the journal, which reads synchronously). */
  readonly ready: Promise<void>;
  private records: HistoryRecord[] = [];
  private sizes: number[] = [];
  private totalBytes = 0;
  private readonly backend: HistoryBackend | undefined;
  private readonly now: () => number;
  private readonly retentionMs: number;
  private readonly maxRecords: number;
  private readonly maxBytes: number;
  private readonly runTag: string;
  private seq = 0;
  private shared = new Map<string, string>();

  constructor(opts: HistoryOptions = {}) {
    super();
    this.setMaxListeners(0);
    this.now = opts.now ?? (() => Date.now());
    this.retentionMs = opts.retentionMs ?? DEFAULT_RETENTION_DAYS * DAY;
    this.maxRecords = opts.maxRecords ?? DEFAULT_MAX_RECORDS;
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    // The random part keeps ids apart between instances started in the same millisecond.
    this.runTag = `${this.now().toString(36)}${randomBytes(4).toString('hex')}.`;
    this.backend = this.openBackend(opts);
    const backend = this.backend;
    if (!backend) {
      this.ready = Promise.resolve();
      return;
    }
    const loaded = backend.load();
    if (Array.isArray(loaded)) {
      this.loaded(loaded);
      this.ready = Promise.resolve();
    } else {
      this.ready = loaded.then(
        (records) => this.loaded(records),
        (err: Error) => opts.log?.warn(`history: could not load the stored records: ${err.message}`),
      );
    }
    backend.onRemote?.((records) => this.insertRemote(records));
  }

  get size(): number {
    return this.records.length;
  }

  /** The bytes of the records as journal lines. */
  get bytes(): number {
    return this.totalBytes;
  }

  get durable(): boolean {
    return this.backend !== undefined;
  }

  /** Records a draft now; resolves with the record once it is durable. */
  append(draft: RecordDraft, applianceName: string): Promise<HistoryRecord> {
    const r = boundRecord({ ...draft, id: `${this.runTag}${(++this.seq).toString(36)}`, at: this.now(), appliance: applianceName });
    this.intern(r);
    this.push(r);
    this.emit('record', r);
    const durable = this.backend ? this.backend.append(r) : Promise.resolve();
    return Promise.all([durable, this.overBound() ? this.prune() : 0]).then(() => r);
  }

  /**
   * Drops records older than the retention, then the oldest while a bound is passed (down to 90 % of it). Returns
   * how many were dropped; the journal is compacted once its dropped lines pass a quarter of the live ones.
   */
  prune(): Promise<number> {
    const cutoff = this.now() - this.retentionMs;
    let n = 0;
    while (n < this.records.length && this.records[n].at < cutoff) n++;
    if (this.records.length - n > this.maxRecords || this.totalBytes > this.maxBytes) {
      const keepRecords = Math.floor(this.maxRecords * LOW_WATER);
      const keepBytes = Math.floor(this.maxBytes * LOW_WATER);
      let bytes = this.totalBytes - this.sizes.slice(0, n).reduce((a, b) => a + b, 0);
      while (n < this.records.length && (this.records.length - n > keepRecords || bytes > keepBytes)) bytes -= this.sizes[n++];
    }
    if (n === 0) return Promise.resolve(0);
    const dropped = this.records.splice(0, n);
    this.totalBytes -= this.sizes.splice(0, n).reduce((a, b) => a + b, 0);
    if (!this.backend) return Promise.resolve(n);
    return this.backend.delete(dropped.map((r) => r.id)).then(() => n);
  }

  /** The records the filter matches, newest first. */
  query(filter: HistoryFilter): HistoryPage {
    const out: HistoryRecord[] = [];
    let matched = 0;
    const since = filter.since ?? -Infinity;
    const until = filter.until ?? Infinity;
    for (let i = this.records.length - 1; i >= 0; i--) {
      const r = this.records[i];
      if (r.at > until || r.at < since) continue;
      if (filter.actions && !filter.actions.has(r.action)) continue;
      if (filter.target !== undefined && !targetMatches(r, filter.target)) continue;
      matched++;
      if (out.length < filter.limit) out.push({ ...r });
    }
    return { records: out, matched };
  }

  flush(): Promise<void> {
    return this.backend ? this.backend.flush() : Promise.resolve();
  }

  close(): Promise<void> {
    return this.backend ? this.backend.close() : Promise.resolve();
  }

  private openBackend(opts: HistoryOptions): HistoryBackend | undefined {
    // A copy: a prune may splice the array while a compaction writes it out.
    const live: LiveRecords<HistoryRecord> = { values: () => [...this.records], count: () => this.records.length };
    if (typeof opts.backend === 'function') return opts.backend(live);
    if (opts.backend) return opts.backend;
    if (!opts.file) return undefined;
    return new JournalHistoryBackend(opts.file, { live, log: opts.log ?? { warn: () => undefined }, ownsDir: opts.ownsDir });
  }

  /** The stored records, in time order before anything appended while they loaded. */
  private loaded(stored: HistoryRecord[]): void {
    const known = new Set(this.records.map((r) => r.id));
    const merged = stored.filter((r) => !known.has(r.id)).map(boundRecord);
    for (const r of merged) this.intern(r);
    merged.push(...this.records);
    merged.sort((a, b) => a.at - b.at);
    this.records = [];
    this.sizes = [];
    this.totalBytes = 0;
    for (const r of merged) this.push(r);
    void this.prune();
  }

  /** Records other instances appended: into their place in time (usually the end), each once. */
  private insertRemote(records: HistoryRecord[]): void {
    for (const stored of records) {
      const r = boundRecord(stored);
      let i = this.records.length;
      while (i > 0 && this.records[i - 1].at > r.at) i--;
      if (this.holds(r, i)) continue;
      this.intern(r);
      this.push(r, i);
      this.emit('remote-record', r);
    }
    if (this.overBound()) void this.prune();
  }

  /** Whether the record is already among those of its time, which end just before `end`. */
  private holds(r: HistoryRecord, end: number): boolean {
    for (let i = end - 1; i >= 0 && this.records[i].at === r.at; i--) if (this.records[i].id === r.id) return true;
    return false;
  }

  private overBound(): boolean {
    return this.records.length > this.maxRecords || this.totalBytes > this.maxBytes;
  }

  private push(r: HistoryRecord, at = this.records.length): void {
    const size = Buffer.byteLength(JSON.stringify({ p: r })) + 1;
    this.records.splice(at, 0, r);
    this.sizes.splice(at, 0, size);
    this.totalBytes += size;
  }

  /** Shares the strings that repeat from record to record, to keep 200,000 records small in memory. */
  private intern(r: HistoryRecord): void {
    if (this.shared.size > MAX_SHARED) this.shared = new Map();
    shareRecordStrings(r, (v) => this.shared.get(v) ?? (this.shared.set(v, v), v));
  }
}

function targetMatches(r: HistoryRecord, target: string): boolean {
  return r.target === target || r.target.startsWith(`${target}/`) || (r.label !== undefined && r.label === target);
}
