/**
 * The intake ledger makes a 2xx receipt mean "will be processed": every accepted event is journaled (fsync) before the
 * receipt leaves, and settled once every node it reached has finished with it. Events still unsettled when Node-RED
 * died are handed back to their parser node at the next start, which emits them again. The appliance nodes and the
 * registry are idempotent, so an event replayed after it was in fact processed costs at most a skipped call.
 */
import { randomUUID } from 'node:crypto';
import type { AdsEvent } from '../ads/event';
import { isAdsEvent } from '../ads/event';
import { Journal, JournalLog } from '../durable/journal';

export interface IntakeRecord {
  id: string;
  /** The parser node that accepted the event. */
  node: string;
  /** Epoch milliseconds. */
  at: number;
  event: AdsEvent;
}

export interface IntakeLedgerOptions {
  /** Journal path; without it the ledger keeps nothing and replays nothing. */
  file?: string;
  log?: JournalLog;
  now?: () => number;
  /** Unsettled events older than this at start are dropped, not replayed. */
  replayWindowMs?: number;
  /** The journal's folder is the package's own (see Journal's `ownsDir`). */
  ownsDir?: boolean;
}

function isIntakeRecord(value: unknown): value is IntakeRecord {
  const r = value as Partial<IntakeRecord> | null;
  return !!r && typeof r.id === 'string' && typeof r.node === 'string' && typeof r.at === 'number' && isAdsEvent(r.event);
}

export class IntakeLedger {
  private readonly open = new Map<string, IntakeRecord>();
  private readonly fromLastRun = new Map<string, IntakeRecord[]>();
  private readonly journal: Journal<IntakeRecord> | undefined;
  private readonly log: JournalLog;
  private readonly now: () => number;

  constructor(options: IntakeLedgerOptions = {}) {
    this.log = options.log ?? { warn: () => undefined };
    this.now = options.now ?? Date.now;
    if (!options.file) return;
    this.journal = new Journal<IntakeRecord>(options.file, {
      liveEntries: () => this.open.values(),
      liveCount: () => this.open.size,
      log: this.log,
      isRecord: isIntakeRecord,
      label: 'intake journal',
      ownsDir: options.ownsDir,
    });
    const oldest = this.now() - (options.replayWindowMs ?? 3_600_000);
    for (const record of this.journal.load().entries.values()) {
      if (record.at < oldest) {
        this.log.warn(`intake: event ${record.event.id ?? record.id} from ${record.event.source} is too old to replay; dropped`);
        void this.journal.deleteEntry(record.id);
        continue;
      }
      this.open.set(record.id, record);
      const list = this.fromLastRun.get(record.node) ?? [];
      list.push(record);
      this.fromLastRun.set(record.node, list);
    }
  }

  get durable(): boolean {
    return this.journal !== undefined;
  }

  /** Journals the events of one input message; resolves with their intake ids once they are on disk. */
  async record(node: string, events: AdsEvent[]): Promise<string[]> {
    if (!this.journal || events.length === 0) return [];
    const at = this.now();
    const records = events.map((event) => ({ id: randomUUID(), node, at, event }));
    for (const r of records) this.open.set(r.id, r);
    await Promise.all(records.map((r) => this.journal!.putEntry(r)));
    return records.map((r) => r.id);
  }

  /** The events a parser node accepted in the previous run that were never settled (handed out once). */
  takeUnsettled(node: string): IntakeRecord[] {
    const list = this.fromLastRun.get(node) ?? [];
    this.fromLastRun.delete(node);
    return list.sort((a, b) => a.at - b.at);
  }

  settle(id: string): void {
    if (!this.journal || !this.open.delete(id)) return;
    this.journal.deleteEntry(id).catch((err: Error) => this.log.warn(`intake: could not settle ${id}: ${err.message}`));
  }

  get unsettled(): number {
    return this.open.size;
  }

  async close(): Promise<void> {
    await this.journal?.close();
  }
}
