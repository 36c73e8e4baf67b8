/**
 * Append-only JSON-lines journal: one line per change (`{"p":entry}` put, `{"d":id}` delete). A change is durable
 * when its promise resolves (write + fsync). Changes queued in the same tick, or while a write is in flight, share
 * one write and one fsync (group commit). Loading replays the lines; a torn last line (crash mid-write) is dropped
 * and the file is rewritten clean. The journal is compacted into a snapshot when it grows past a multiple of the
 * live entries.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { isRegistryEntry, RegistryEntry } from './entry';

const write = promisify(fs.write);
const fsync = promisify(fs.fsync);
const close = promisify(fs.close);

export interface JournalLog {
  warn(msg: string): void;
}

type JournalRecord = { p: RegistryEntry } | { d: string };

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface LoadResult {
  entries: Map<string, RegistryEntry>;
  lines: number;
}

export class Journal {
  private fd: number | undefined;
  private pending: string[] = [];
  private waiters: Waiter[] = [];
  private flushing = false;
  private scheduled = false;
  private lines = 0;
  private idle: Promise<void> = Promise.resolve();
  private closed = false;

  /**
   * @param liveEntries current entries, read at compaction time (the registry updates memory before journaling).
   * @param compactFactor compact once the journal holds more than this many lines per live entry.
   */
  constructor(
    readonly file: string,
    private readonly liveEntries: () => Iterable<RegistryEntry>,
    private readonly liveCount: () => number,
    private readonly log: JournalLog,
    private readonly compactFactor = 4,
  ) {}

  /** Reads the journal synchronously (in chunks, to bound memory) and opens it for appends. */
  load(): LoadResult {
    const entries = new Map<string, RegistryEntry>();
    const name = path.basename(this.file);
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
      const rec = parseRecord(line.toString('utf8'));
      if (rec === undefined) {
        bad++;
        pendingBad = true;
      } else if ('p' in rec) {
        const e = rec.p;
        e.configId = shared(e.configId);
        e.scope = shared(e.scope);
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

  private openForAppend(entries: Map<string, RegistryEntry>): LoadResult {
    this.fd = fs.openSync(this.file, 'a');
    fsyncDir(path.dirname(this.file));
    return { entries, lines: this.lines };
  }

  putEntry(entry: RegistryEntry): Promise<void> {
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

  private append(rec: JournalRecord): Promise<void> {
    if (this.closed) return Promise.reject(new Error('registry journal is closed'));
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
          if (this.lines + batch.length > this.compactFactor * Math.max(this.liveCount(), 1000)) {
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
    if (this.fd === undefined) throw new Error('registry journal is not open');
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
    const fh = await fs.promises.open(tmp, 'w');
    let count = 0;
    try {
      let chunk: string[] = [];
      for (const e of this.liveEntries()) {
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
    this.fd = fs.openSync(this.file, 'a');
    this.lines = count;
  }

  private writeSnapshotSync(entries: Iterable<RegistryEntry>): void {
    const tmp = `${this.file}.tmp`;
    const fd = fs.openSync(tmp, 'w');
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

function parseRecord(line: string): JournalRecord | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  const r = v as { p?: unknown; d?: unknown } | null;
  if (r && isRegistryEntry(r.p)) return { p: r.p };
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
