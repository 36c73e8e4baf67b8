/**
 * The one history recorder of a runtime (like the release scheduler): it turns registry changes and the appliance
 * nodes' refused/failed results into history records, and prunes the history by its retention every hour.
 */
import type { EventEmitter } from 'node:events';
import { Clock, systemClock } from '../lifecycle/scheduler';
import { MitigationSignal, signals } from '../metrics/signals';
import type { RegistryChange } from '../registry/registry';
import { draftFromChange, draftFromSignal, RecordDraft } from './sources';
import type { HistoryStore } from './store';

export interface RecorderOptions {
  /** The appliance's name for a config node id (its id when it has none). */
  applianceName: (configId: string) => string;
  clock?: Clock;
  pruneEveryMs?: number;
  log?: { warn(msg: string): void };
}

export class HistoryRecorder {
  private readonly clock: Clock;
  private readonly pruneEveryMs: number;
  private readonly logger: { warn(msg: string): void };
  private readonly pending = new Set<Promise<unknown>>();
  private timer: unknown;
  private running = false;
  /** A change another instance made is recorded there, once. */
  private readonly onChange = (c: RegistryChange) => {
    if (!c.remote) this.record(draftFromChange(c));
  };
  private readonly onSignal = (s: MitigationSignal) => this.record(draftFromSignal(s));

  constructor(
    readonly store: HistoryStore,
    private registry: Pick<EventEmitter, 'on' | 'off'>,
    private readonly opts: RecorderOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
    this.pruneEveryMs = opts.pruneEveryMs ?? 3_600_000;
    this.logger = opts.log ?? console;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.registry.on('change', this.onChange);
    signals.on('mitigation', this.onSignal);
    this.schedulePrune();
  }

  /** Follows another registry (the runtime's was closed and made again). */
  follow(registry: Pick<EventEmitter, 'on' | 'off'>): void {
    if (registry === this.registry) return;
    if (this.running) {
      this.registry.off('change', this.onChange);
      registry.on('change', this.onChange);
    }
    this.registry = registry;
  }

  stop(): void {
    this.running = false;
    this.registry.off('change', this.onChange);
    signals.off('mitigation', this.onSignal);
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Resolves once every record started so far is durable. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private record(draft: RecordDraft | null): void {
    if (!draft) return;
    const name = this.opts.applianceName(draft.configId);
    const p = this.store
      .append(draft, name)
      .catch((err: unknown) => this.logger.warn(`the history could not record ${draft.action} ${draft.target}: ${message(err)}`))
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  private schedulePrune(): void {
    if (!this.running) return;
    this.timer = this.clock.setTimeout(() => {
      this.store.prune().catch((err: unknown) => this.logger.warn(`pruning the history failed: ${message(err)}`));
      this.schedulePrune();
    }, this.pruneEveryMs);
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
