/**
 * The intake ledger makes a 2xx receipt mean "will be processed": every accepted event is stored durably (the journal
 * with fsync, or PostgreSQL) before the receipt leaves, and settled once every node it reached has finished with it.
 * Events still unsettled when Node-RED died are handed back to their parser node at the next start, which emits them
 * again; on a shared store, another instance takes them over (see `watch`). The appliance nodes and the registry are
 * idempotent, so an event replayed after it was in fact processed costs at most a skipped call.
 */
import { randomUUID } from 'node:crypto';
import type { AdsEvent } from '../ads/event';
import type { JournalLog } from '../durable/journal';
import type { IntakeBackend, LiveRecords } from '../store/types';
import { JournalIntakeBackend } from './journal-backend';

export interface IntakeRecord {
  id: string;
  /** The parser node that accepted the event. */
  node: string;
  /** Epoch milliseconds. */
  at: number;
  event: AdsEvent;
}

/** Opens a backend over the ledger's open records (what a journal compaction writes out). */
export type IntakeBackendOpener = (live: LiveRecords<IntakeRecord>) => IntakeBackend | undefined;

export interface IntakeLedgerOptions {
  /** Where events are kept; without it (or `file`) the ledger keeps nothing and replays nothing. */
  backend?: IntakeBackend | IntakeBackendOpener;
  /** Journal path, opened as a JournalIntakeBackend when no backend is given. */
  file?: string;
  log?: JournalLog;
  now?: () => number;
  /** Unsettled events older than this (at start, or when taken over) are dropped, not replayed. */
  replayWindowMs?: number;
  /** The journal's folder is the package's own (see Journal's `ownsDir`). */
  ownsDir?: boolean;
}

/** Receives the events a parser node must send again. */
export type ReplayWatcher = (records: IntakeRecord[]) => void;

export class IntakeLedger {
  private readonly open = new Map<string, IntakeRecord>();
  /** Per parser node: events of the previous run, or taken over while no watcher of that node was here. */
  private readonly waiting = new Map<string, IntakeRecord[]>();
  private readonly watchers = new Map<string, ReplayWatcher>();
  private readonly backend: IntakeBackend | undefined;
  private readonly log: JournalLog;
  private readonly now: () => number;
  private readonly replayWindowMs: number;
  private closed = false;

  constructor(options: IntakeLedgerOptions = {}) {
    this.log = options.log ?? { warn: () => undefined };
    this.now = options.now ?? Date.now;
    this.replayWindowMs = options.replayWindowMs ?? 3_600_000;
    this.backend = this.openBackend(options);
    if (!this.backend) return;
    this.handOut(this.adopt(this.backend.load()));
    this.backend.onTakeover?.(
      () => [...this.watchers.keys()],
      (records) => this.takeOver(records),
    );
  }

  get durable(): boolean {
    return this.backend !== undefined;
  }

  /**
   * Stores the events of one input message; resolves with their intake ids once they are durable. Rejects with the
   * backend's error (StoreUnavailableError when PostgreSQL cannot be reached): the events are not accepted.
   */
  async record(node: string, events: AdsEvent[]): Promise<string[]> {
    if (!this.backend || events.length === 0) return [];
    const at = this.now();
    const records = events.map((event) => ({ id: randomUUID(), node, at, event }));
    for (const r of records) this.open.set(r.id, r);
    try {
      await this.backend.put(records);
    } catch (err) {
      for (const r of records) this.open.delete(r.id);
      throw err;
    }
    return records.map((r) => r.id);
  }

  /** The events a parser node accepted in the previous run that were never settled (handed out once). */
  takeUnsettled(node: string): IntakeRecord[] {
    const list = this.waiting.get(node) ?? [];
    this.waiting.delete(node);
    return list.sort((a, b) => a.at - b.at);
  }

  /**
   * Hands to `replay` the events of `node` this instance takes over from a dead one (each once), including any taken
   * over before the node watched. Returns the function that stops watching.
   */
  watch(node: string, replay: ReplayWatcher): () => void {
    this.watchers.set(node, replay);
    const waiting = this.takeUnsettled(node);
    if (waiting.length > 0) replay(waiting);
    return () => {
      if (this.watchers.get(node) === replay) this.watchers.delete(node);
    };
  }

  settle(id: string): void {
    if (!this.backend || !this.open.delete(id)) return;
    this.backend.settle(id).catch((err: Error) => this.log.warn(`intake: could not settle ${id}: ${err.message}`));
  }

  get unsettled(): number {
    return this.open.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watchers.clear();
    await this.backend?.close();
  }

  private openBackend(options: IntakeLedgerOptions): IntakeBackend | undefined {
    const live: LiveRecords<IntakeRecord> = { values: () => this.open.values(), count: () => this.open.size };
    if (typeof options.backend === 'function') return options.backend(live);
    if (options.backend) return options.backend;
    return options.file ? new JournalIntakeBackend(options.file, { live, log: this.log, ownsDir: options.ownsDir }) : undefined;
  }

  /** The records not already open and young enough to replay, now open; too old ones are settled and dropped. */
  private adopt(records: IntakeRecord[]): IntakeRecord[] {
    const oldest = this.now() - this.replayWindowMs;
    const fresh: IntakeRecord[] = [];
    for (const record of records) {
      if (this.open.has(record.id)) continue;
      if (record.at < oldest) {
        this.log.warn(`intake: event ${record.event.id ?? record.id} from ${record.event.source} is too old to replay; dropped`);
        this.backend?.settle(record.id).catch(() => undefined);
        continue;
      }
      this.open.set(record.id, record);
      fresh.push(record);
    }
    return fresh;
  }

  /** Hands records to the watchers of their nodes; those of nodes not watched here wait for a watcher. */
  private handOut(records: IntakeRecord[]): void {
    const byNode = new Map<string, IntakeRecord[]>();
    for (const record of records) {
      const list = byNode.get(record.node) ?? [];
      list.push(record);
      byNode.set(record.node, list);
    }
    for (const [node, list] of byNode) {
      const replay = this.watchers.get(node);
      if (replay) replay(list.sort((a, b) => a.at - b.at));
      else this.waiting.set(node, [...(this.waiting.get(node) ?? []), ...list]);
    }
  }

  private takeOver(records: IntakeRecord[]): void {
    if (!this.closed) this.handOut(this.adopt(records));
  }
}
