/**
 * Append-only JSON-lines journal of records keyed by id: one line per change (`{"p":record}` put, `{"d":id}` delete). A change is durable
 * when its promise resolves (write + fsync). Changes queued in the same tick, or while a write is in flight, share
 * one write and one fsync (group commit). Loading replays the lines; a torn last line (crash mid-write) is dropped
 * and the file is rewritten clean. The journal is compacted into a snapshot when it grows past a multiple of the
 * live entries. The journal and its temporary files are readable by their owner only (0600), in a 0700 folder.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { ensurePrivateDir, FILE_MODE, openPrivate } from './private-files';

const write = promisify(fs.write);
const fsync = promisify(fs.fsync);
const close = promisify(fs.close);

export interface JournalLog {
  warn(msg: string): void;
}

type JournalLine<T> = { p: T } | { d: string };

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface LoadResult<T> {
  entries: Map<string, T>;
  lines: number;
}

/** The records an owner holds now (what a journal compaction writes out). */
export interface LiveRecords<T> {
  values(): Iterable<T>;
  count(): number;
}

/** What every backend on a journal is opened with: its owner's live records, the log, and whether it owns the folder. */
export interface JournalBackendOptions<T> {
  live: LiveRecords<T>;
  log: JournalLog;
  /** The journal's folder is the package's own (see JournalOptions' `ownsDir`). */
  ownsDir?: boolean;
}

export interface JournalOptions<T> {
  /** Current records, read at compaction time (the owner updates memory before journaling). */
  live: LiveRecords<T>;
  log: JournalLog;
  /** Accepts a parsed record as a T (an unreadable record counts as torn). */
  isRecord: (value: unknown) => value is T;
  /** Lets the owner share repeated strings between loaded records to save memory. */
  intern?: (record: T, shared: (text: string) => string) => void;
  /** Compact once the journal holds more than this many lines per live record. */
  compactFactor?: number;
  /** Names the journal in errors. */
  label?: string;
  /**
   * The journal's folder is the package's own: created 0700, and tightened to 0700 (with a warning) when it exists
   * with wider permissions. Otherwise a missing folder is still created 0700, but an existing one is left alone.
   */
  ownsDir?: boolean;
}

export class Journal<T extends { id: string }> {
  private fd: number | undefined;
  private pending: string[] = [];
  private waiters: Waiter[] = [];
  private flushing = false;
  private scheduled = false;
  private lines = 0;
  private idle: Promise<void> = Promise.resolve();
  private closed = false;

  private readonly live: LiveRecords<T>;
  private readonly log: JournalLog;
  private readonly isRecord: (value: unknown) => value is T;
  private readonly intern: JournalOptions<T>['intern'];
  private readonly compactFactor: number;
  private readonly label: string;
  private readonly ownsDir: boolean;

  constructor(
    readonly file: string,
    options: JournalOptions<T>,
  ) {
    this.live = options.live;
    this.log = options.log;
    this.isRecord = options.isRecord;
    this.intern = options.intern;
    this.compactFactor = options.compactFactor ?? 4;
    this.label = options.label ?? 'journal';
    this.ownsDir = options.ownsDir ?? false;
  }

  /** Reads the journal synchronously (in chunks, to bound memory) and opens it for appends. */
  load(): LoadResult<T> {
    const entries = new Map<string, T>();
    const name = path.basename(this.file);
    ensurePrivateDir(path.dirname(this.file), this.ownsDir, this.log);
    let fd: number;
    try {
      fd = fs.openSync(this.file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return this.openForAppend(entries);
    }
    const intern = new Map<string, string>();
    const shared = (v: string) => intern.get(v) ?? (intern.set(v, v), v);
    let lineNo = 0;
    let bad = 0;
    let pendingBad = false; // the previous unreadable line: torn if nothing follows it
    let carry = Buffer.alloc(0);
    const chunk = Buffer.alloc(4 * 1024 * 1024);
    const apply = (line: Buffer) => {
      lineNo++;
      if (line.length === 0) return;
      if (pendingBad) this.log.warn(`${name}: skipped an unreadable record at line ${lineNo - 1}`);
      pendingBad = false;
      const rec = parseLine(line.toString('utf8'), this.isRecord);
      if (rec === undefined) {
        bad++;
        pendingBad = true;
      } else if ('p' in rec) {
        const e = rec.p;
        this.intern?.(e, shared);
        entries.set(e.id, e);
        this.lines++;
      } else {
        entries.delete(rec.d);
        this.lines++;
      }
    };
    try {
      for (;;) {
        const n = fs.readSync(fd, chunk, 0, chunk.length, null);
        if (n === 0) break;
        const data = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
        let start = 0;
        for (let nl = data.indexOf(10, start); nl !== -1; nl = data.indexOf(10, start)) {
          apply(data.subarray(start, nl));
          start = nl + 1;
        }
        carry = Buffer.from(data.subarray(start));
      }
    } finally {
      fs.closeSync(fd);
    }
    // A last line without its newline is a write cut short, unless it happens to parse.
    const unterminated = carry.length > 0;
    if (unterminated) apply(carry);
    if (pendingBad) this.log.warn(`${name}: dropped a torn last record (line ${lineNo}); all earlier records kept`);
    if (unterminated || bad > 0) {
      this.writeSnapshotSync(entries.values());
      this.lines = entries.size;
    }
    return this.openForAppend(entries);
  }

  private openForAppend(entries: Map<string, T>): LoadResult<T> {
    this.fd = openPrivate(this.file, 'a', this.log);
    fsyncDir(path.dirname(this.file));
    return { entries, lines: this.lines };
  }

  putEntry(entry: T): Promise<void> {
    return this.append({ p: entry });
  }

  deleteEntry(id: string): Promise<void> {
    return this.append({ d: id });
  }

  /** Resolves when everything queued so far is on disk. */
  flush(): Promise<void> {
    if (this.pending.length === 0 && !this.flushing) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.schedule();
    });
  }

  async close(): Promise<void> {
    await this.flush().catch(() => undefined);
    await this.idle;
    this.closed = true;
    if (this.fd !== undefined) {
      const fd = this.fd;
      this.fd = undefined;
      await close(fd);
    }
  }

  get lineCount(): number {
    return this.lines;
  }

  private append(rec: JournalLine<T>): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`${this.label} is closed`));
    this.pending.push(JSON.stringify(rec) + '\n');
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.idle = this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.flushing = true;
    try {
      while (this.waiters.length > 0) {
        const batch = this.pending;
        const waiters = this.waiters;
        this.pending = [];
        this.waiters = [];
        try {
          if (this.lines + batch.length > this.compactFactor * Math.max(this.live.count(), 1000)) {
            await this.compact();
          } else if (batch.length > 0) {
            await this.writeAll(Buffer.from(batch.join(''), 'utf8'));
            this.lines += batch.length;
          }
          for (const w of waiters) w.resolve();
        } catch (err) {
          const e = err instanceof Error ? err : new Error(String(err));
          for (const w of waiters) w.reject(e);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private async writeAll(data: Buffer): Promise<void> {
    if (this.fd === undefined) throw new Error(`${this.label} is not open`);
    let off = 0;
    while (off < data.length) {
      const { bytesWritten } = await write(this.fd, data, off, data.length - off);
      off += bytesWritten;
    }
    await fsync(this.fd);
  }

  /** Snapshot of the live entries to a temp file, fsync, rename over the journal, fsync the directory. */
  private async compact(): Promise<void> {
    const tmp = `${this.file}.tmp`;
    const fh = await fs.promises.open(tmp, 'w', FILE_MODE);
    let count = 0;
    try {
      await fh.chmod(FILE_MODE); // a temporary file left by a crash keeps its mode when opened again
      let chunk: string[] = [];
      for (const e of this.live.values()) {
        chunk.push(JSON.stringify({ p: e }) + '\n');
        count++;
        if (chunk.length >= 2000) {
          await fh.write(chunk.join(''));
          chunk = [];
        }
      }
      if (chunk.length > 0) await fh.write(chunk.join(''));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.promises.rename(tmp, this.file);
    fsyncDir(path.dirname(this.file));
    if (this.fd !== undefined) await close(this.fd);
    this.fd = openPrivate(this.file, 'a', this.log);
    this.lines = count;
  }

  private writeSnapshotSync(entries: Iterable<T>): void {
    const tmp = `${this.file}.tmp`;
    const fd = openPrivate(tmp, 'w', this.log, true);
    try {
      const parts: string[] = [];
      for (const e of entries) parts.push(JSON.stringify({ p: e }) + '\n');
      fs.writeSync(fd, parts.join(''));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.file);
    fsyncDir(path.dirname(this.file));
  }
}

function parseLine<T>(line: string, isRecord: (value: unknown) => value is T): JournalLine<T> | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  const r = v as { p?: unknown; d?: unknown } | null;
  if (r && isRecord(r.p)) return { p: r.p };
  if (r && typeof r.d === 'string') return { d: r.d };
  return undefined;
}

function fsyncDir(dir: string): void {
  // Makes a create or rename durable. Not supported on every platform (Windows), where it is skipped.
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    /* best effort */
  }
}
