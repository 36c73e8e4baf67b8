/**
 * The decision history in PostgreSQL, shared by every instance. Each append notifies the others (channel
 * flowmon_history, payload {s: seq, o: origin}); they fetch what they have not seen by seq. Two instances' inserts can
 * commit out of seq order, so every fetch is done again a little later from where it started (deduplicated by seq).
 */
import type { HistoryRecord } from '../../history/record';
import type { HistoryBackend } from '../types';
import type { PgConnection } from './connection';

export const HISTORY_CHANNEL = 'flowmon_history';
const DELETE_CHUNK = 5_000;
const FETCH_PAGE = 10_000;
/** How long a late commit of a lower seq is waited for. */
const LATE_COMMIT_MS = 500;

const APPEND = `WITH added AS (
    INSERT INTO flowmon_history (id, at, origin, record) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING RETURNING seq
  )
  SELECT pg_notify('${HISTORY_CHANNEL}', json_build_object('s', seq, 'o', $3::text)::text) FROM added`;
const FETCH_OTHERS = `SELECT seq, record FROM flowmon_history WHERE seq > $1 AND origin <> $2 ORDER BY seq LIMIT ${FETCH_PAGE}`;

interface HistoryRow {
  seq: string;
  record: HistoryRecord;
}

export interface PostgresHistoryOptions {
  instanceId: string;
  ready: Promise<void>;
  log: { warn(msg: string): void };
}

export class PostgresHistoryBackend implements HistoryBackend {
  readonly shared = true;
  /** The highest seq this instance has seen. */
  private last = 0n;
  private loaded: Promise<unknown> | undefined;
  /** Seqs delivered above the oldest pending re-fetch, so that a re-fetch delivers nothing twice. */
  private readonly delivered = new Set<bigint>();
  private readonly pending = new Set<Promise<unknown>>();
  private fetching: Promise<void> = Promise.resolve();
  private fetchQueued = false;
  private refetchFrom: bigint | undefined;
  private refetchTimer: NodeJS.Timeout | undefined;
  private listener: ((records: HistoryRecord[]) => void) | undefined;
  private closed = false;

  constructor(
    private readonly conn: PgConnection,
    private readonly options: PostgresHistoryOptions,
  ) {}

  load(): Promise<HistoryRecord[]> {
    const loading = this.loadAll();
    this.loaded = loading.catch(() => undefined);
    return loading;
  }

  append(record: HistoryRecord): Promise<void> {
    const appending = this.options.ready.then(() =>
      this.conn.queryRetrying(APPEND, [record.id, record.at, this.options.instanceId, JSON.stringify(record)]),
    );
    this.pending.add(appending);
    const done = () => this.pending.delete(appending);
    appending.then(done, done);
    return appending.then(() => undefined);
  }

  async delete(ids: string[]): Promise<void> {
    await this.options.ready;
    for (let i = 0; i < ids.length; i += DELETE_CHUNK) {
      await this.conn.queryRetrying('DELETE FROM flowmon_history WHERE id = ANY($1::text[])', [ids.slice(i, i + DELETE_CHUNK)]);
    }
  }

  onRemote(listener: (records: HistoryRecord[]) => void): void {
    this.listener = listener;
    void this.options.ready.then(async () => {
      if (!this.loaded) this.loaded = this.startAtTheEnd();
      await this.loaded;
      await this.conn.listen(HISTORY_CHANNEL, (payload) => {
        if (!this.fromMe(payload)) this.fetchNew();
      });
      this.conn.on('resync', () => this.fetchNew());
      this.fetchNew();
    }).catch((err: unknown) => this.options.log.warn(`history: live updates from other instances are off: ${String(err)}`));
  }

  async flush(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.refetchTimer);
    await this.flush();
  }

  private async loadAll(): Promise<HistoryRecord[]> {
    await this.options.ready;
    const result = await this.conn.queryRetrying('SELECT seq, record FROM flowmon_history ORDER BY seq', []);
    const rows = result.rows as HistoryRow[];
    for (const row of rows) this.last = maxOf(this.last, BigInt(row.seq));
    return rows.map((r) => r.record);
  }

  private async startAtTheEnd(): Promise<void> {
    const result = await this.conn.queryRetrying('SELECT coalesce(max(seq), 0) AS seq FROM flowmon_history', []);
    this.last = maxOf(this.last, BigInt(result.rows[0].seq));
  }

  private fromMe(payload: string | undefined): boolean {
    try {
      return (JSON.parse(payload ?? '') as { o?: unknown }).o === this.options.instanceId;
    } catch {
      return false;
    }
  }

  /** Fetches what is new now, and once more a little later from the same point (see the file header). */
  private fetchNew(): void {
    if (this.closed) return;
    this.scheduleRefetch(this.last);
    if (this.fetchQueued) return;
    this.fetchQueued = true;
    this.enqueue(() => {
      this.fetchQueued = false;
      return this.fetchFrom(this.last);
    });
  }

  private scheduleRefetch(from: bigint): void {
    if (this.refetchFrom === undefined || from < this.refetchFrom) this.refetchFrom = from;
    if (this.refetchTimer) return;
    this.refetchTimer = setTimeout(() => {
      this.refetchTimer = undefined;
      const start = this.refetchFrom!;
      this.refetchFrom = undefined;
      this.enqueue(async () => {
        await this.fetchFrom(start);
        for (const seq of this.delivered) if (seq <= start) this.delivered.delete(seq);
      });
    }, LATE_COMMIT_MS);
    this.refetchTimer.unref();
  }

  private enqueue(work: () => Promise<void>): void {
    this.fetching = this.fetching.then(work).catch((err: unknown) => {
      if (this.closed) return;
      this.options.log.warn(`history: records of other instances could not be fetched now: ${String(err)}`);
      this.scheduleRefetch(this.last);
    });
  }

  private async fetchFrom(start: bigint): Promise<void> {
    let from = start;
    for (;;) {
      if (this.closed) return;
      const result = await this.conn.query(FETCH_OTHERS, [from.toString(), this.options.instanceId]);
      const rows = result.rows as HistoryRow[];
      const fresh: HistoryRecord[] = [];
      for (const row of rows) {
        const seq = BigInt(row.seq);
        from = seq;
        this.last = maxOf(this.last, seq);
        if (this.delivered.has(seq)) continue;
        this.delivered.add(seq);
        fresh.push(row.record);
      }
      if (fresh.length > 0 && !this.closed) this.listener?.(fresh);
      if (rows.length < FETCH_PAGE) return;
    }
  }
}

function maxOf(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
