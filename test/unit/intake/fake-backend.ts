// An intake backend in memory that offers a takeover, as a shared store does when another instance died.
import type { AdsEvent } from '../../../lib/ads/event';
import type { IntakeRecord } from '../../../lib/intake/ledger';
import type { IntakeBackend } from '../../../lib/store/types';

export function adsEvent(source: string, id = '1'): AdsEvent {
  return {
    kind: 'ads', format: 'tsv-standard', id, detectedAt: null, firstFlowAt: null, method: 'SCANS', subtype: null, mitre: null,
    description: 'Scan', perspective: null, priority: 'high', detail: '', ports: null, protocol: null, source, sourceName: null,
    targets: [], dataFeed: null, userIdentity: null, raw: `raw ${source}`,
  };
}

export class FakeIntakeBackend implements IntakeBackend {
  readonly shared = true;
  readonly stored = new Map<string, IntakeRecord>();
  readonly settled: string[] = [];
  /** What put() rejects with, when set. */
  failure: Error | undefined;
  private nodes: () => string[] = () => [];
  private listener: ((records: IntakeRecord[]) => void) | undefined;

  load(): IntakeRecord[] {
    return [];
  }

  async put(records: IntakeRecord[]): Promise<void> {
    if (this.failure) throw this.failure;
    for (const r of records) this.stored.set(r.id, r);
  }

  async settle(id: string): Promise<void> {
    this.settled.push(id);
    this.stored.delete(id);
  }

  onTakeover(nodes: () => string[], listener: (records: IntakeRecord[]) => void): void {
    this.nodes = nodes;
    this.listener = listener;
  }

  /** Hands over the records of a dead instance whose node this instance runs, as a shared store would. */
  takeOver(records: IntakeRecord[]): void {
    const running = new Set(this.nodes());
    const mine = records.filter((r) => running.has(r.node));
    for (const r of mine) this.stored.set(r.id, r);
    if (mine.length > 0) this.listener?.(mine);
  }

  /** Hands over records whatever node they belong to (a node removed here between the query and the answer). */
  takeOverAll(records: IntakeRecord[]): void {
    this.listener?.(records);
  }

  /** Keeps the listener: a batch on its way may still arrive after close. */
  async close(): Promise<void> {}
}

export function orphan(id: string, node: string, source: string, at = Date.now()): IntakeRecord {
  return { id, node, at, event: adsEvent(source, id) };
}
