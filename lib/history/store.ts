/**
 * The decision history: records in time order, in memory and in an append-only journal (the registry's Journal: one
 * line per record, group commit with fsync, a torn last line dropped, 0600 in the package's 0700 folder). It is
 * bounded three ways — a retention (default 90 days), a number of records (200,000) and the bytes of the records
 * as journal lines (64 MiB) — and pruned oldest first, in batches down to 90 % of a bound, so the journal is
 * rewritten (compacted) once per batch rather than at every record.
 *
 * Every appended record is announced as a `record` event (the metrics count decisions from it).
 */
import { EventEmitter } from 'node:events';
import { Journal, JournalLog } from '../durable/journal';
import { boundRecord, HistoryAction, HistoryRecord, isHistoryRecord } from './record';
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

export interface HistoryOptions {
  /** Journal path; without it the history lives in memory only. */
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

export class HistoryStore extends EventEmitter<{ record: [HistoryRecord] }> {
  private records: HistoryRecord[] = [];
  private sizes: number[] = [];
  private totalBytes = 0;
  private readonly journal: Journal<HistoryRecord> | undefined;
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
    this.runTag = `${this.now().toString(36)}.`;
    if (opts.file) {
      this.journal = new Journal<HistoryRecord>(opts.file, {
        // A copy: a prune may splice the array while a compaction writes it out.
        liveEntries: () => [...this.records],
        liveCount: () => this.records.length,
        log: opts.log ?? { warn: () => undefined },
        isRecord: isHistoryRecord,
        intern: (r) => this.intern(r),
        // Records are never rewritten: only the deletes of a prune add lines beyond the live records.
        compactFactor: 1.25,
        label: 'history journal',
        ownsDir: opts.ownsDir,
      });
      const loaded = [...this.journal.load().entries.values()].map(boundRecord);
      loaded.sort((a, b) => a.at - b.at);
      for (const r of loaded) this.push(r);
      void this.prune();
    }
  }

  get size(): number {
    return this.records.length;
  }

  /** The bytes of the records as journal lines. */
  get bytes(): number {
    return this.totalBytes;
  }

  get durable(): boolean {
    return this.journal !== undefined;
  }

  /** Records a draft now; resolves with the record once it is durable. */
  append(draft: RecordDraft, applianceName: string): Promise<HistoryRecord> {
    const r = boundRecord({ ...draft, id: `${this.runTag}${(++this.seq).toString(36)}`, at: this.now(), appliance: applianceName });
    this.intern(r);
    this.push(r);
    this.emit('record', r);
    const durable = this.journal ? this.journal.putEntry(r) : Promise.resolve();
    const overBound = this.records.length > this.maxRecords || this.totalBytes > this.maxBytes;
    return Promise.all([durable, overBound ? this.prune() : 0]).then(() => r);
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
    const journal = this.journal;
    if (!journal) return Promise.resolve(n);
    return Promise.all(dropped.map((r) => journal.deleteEntry(r.id))).then(() => n);
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
    return this.journal ? this.journal.flush() : Promise.resolve();
  }

  close(): Promise<void> {
    return this.journal ? this.journal.close() : Promise.resolve();
  }

  private push(r: HistoryRecord): void {
    const size = Buffer.byteLength(JSON.stringify({ p: r })) + 1;
    this.records.push(r);
    this.sizes.push(size);
    this.totalBytes += size;
  }

  /** Shares the strings that repeat from record to record, to keep 200,000 records small in memory. */
  private intern(r: HistoryRecord): void {
    if (this.shared.size > MAX_SHARED) this.shared = new Map();
    const share = (v: string) => this.shared.get(v) ?? (this.shared.set(v, v), v);
    r.configId = share(r.configId);
    r.appliance = share(r.appliance);
    r.scope = share(r.scope);
    r.actor = share(r.actor);
    if (r.method) r.method = share(r.method);
    if (r.perspective) r.perspective = share(r.perspective);
  }
}

function targetMatches(r: HistoryRecord, target: string): boolean {
  return r.target === target || r.target.startsWith(`${target}/`) || (r.label !== undefined && r.label === target);
}
