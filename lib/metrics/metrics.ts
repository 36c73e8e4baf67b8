/**
 * Prometheus metrics of one runtime, in a prom-client Registry of their own (never the global one, which other
 * packages in the same Node-RED may fill). No default process metrics: Node-RED's host is better watched by an
 * exporter of its own, and a second copy of `process_*` would clash with one a flow or another package registers.
 *
 * - `flowmon_blocks{appliance,state}`: registry entries by state, counted at scrape time.
 * - `flowmon_events_total{outcome}`: ADS events accepted, rejected, filtered; inputs refused unauthorized, too_large.
 * - `flowmon_decisions_total{appliance,action}`: history records by action (blocked, released, held, …).
 * - `flowmon_appliance_calls_total{appliance,operation,result}` and `flowmon_appliance_call_duration_seconds`.
 * - `flowmon_queue_depth{appliance}`: calls waiting or in flight per appliance, read at scrape time.
 * - `flowmon_store_up` (1 while the store answers) and `flowmon_releaser` (1 on the instance that runs expiry, release
 *   retries and decide-by defaults: exactly one instance of a PostgreSQL cluster, always 1 with the journal).
 *
 * `appliance` is the config node's name (its id when it has none), cut to 128 characters.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { HistoryRecord } from '../history/record';
import type { RegistryEntry } from '../registry/entry';
import { plainText } from '../text/plain-text';
import { ApplianceCall, INTAKE_OUTCOMES, IntakeOutcome, signals } from './signals';

/** The states `flowmon_blocks` always reports (0 included) for every appliance it knows. */
export const BLOCK_STATES = ['active', 'held', 'approving', 'release-pending', 'orphaned'] as const;
/** Call durations: LoadMaster calls take milliseconds; timeouts are 10 to 15 s. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const MAX_LABEL_LENGTH = 128;

export interface MetricsSources {
  /** The registry's live entries. */
  entries(): Iterable<Readonly<RegistryEntry>>;
  /** The package's appliance config nodes with the depth of their call queue. */
  queues(): Iterable<{ configId: string; depth: number }>;
  applianceName(configId: string): string;
  /** The store's state, read at scrape time. */
  store?(): { up: boolean; releaser: boolean };
  /** Announces each history record (HistoryStore). */
  history?: { on(event: 'record', fn: (r: HistoryRecord) => void): unknown; off(event: 'record', fn: (r: HistoryRecord) => void): unknown };
}

export class FlowmonMetrics {
  readonly register = new Registry();
  private readonly events: Counter<'outcome'>;
  private readonly decisions: Counter<'appliance' | 'action'>;
  private readonly calls: Counter<'appliance' | 'operation' | 'result'>;
  private readonly durations: Histogram<'appliance' | 'operation'>;
  private running = false;
  private readonly onIntake = (outcome: IntakeOutcome, count: number) => this.events.inc({ outcome }, count);
  private readonly onCall = (c: ApplianceCall) => this.noteCall(c);
  private readonly onRecord = (r: HistoryRecord) => this.decisions.inc({ appliance: label(r.appliance), action: r.action });

  constructor(private readonly sources: MetricsSources) {
    const registers = [this.register];
    const name = (configId: string) => label(sources.applianceName(configId));
    new Gauge({
      name: 'flowmon_blocks',
      help: 'Blocks in the registry by appliance and state (active includes simulated blocks)',
      labelNames: ['appliance', 'state'],
      registers,
      collect() {
        this.reset();
        const counts = new Map<string, Map<string, number>>();
        for (const e of sources.entries()) {
          const byState = counts.get(e.configId) ?? new Map<string, number>();
          counts.set(e.configId, byState);
          byState.set(e.state, (byState.get(e.state) ?? 0) + 1);
        }
        for (const [configId, byState] of counts) {
          const appliance = name(configId);
          for (const state of BLOCK_STATES) this.inc({ appliance, state }, byState.get(state) ?? 0);
        }
      },
    });
    new Gauge({
      name: 'flowmon_queue_depth',
      help: 'Appliance API calls waiting or in flight',
      labelNames: ['appliance'],
      registers,
      collect() {
        this.reset();
        for (const q of sources.queues()) this.inc({ appliance: name(q.configId) }, q.depth);
      },
    });
    const store = sources.store;
    if (store) {
      new Gauge({
        name: 'flowmon_store_up',
        help: 'Whether the store (the embedded journal or PostgreSQL) answers: 1 or 0',
        registers,
        collect() {
          this.set(store().up ? 1 : 0);
        },
      });
      new Gauge({
        name: 'flowmon_releaser',
        help: 'Whether this instance runs expiry, release retries and decide-by defaults: 1 or 0',
        registers,
        collect() {
          this.set(store().releaser ? 1 : 0);
        },
      });
    }
    this.events = new Counter({
      name: 'flowmon_events_total',
      help: 'ADS events accepted, rejected (unreadable) and filtered out; inputs refused as unauthorized or too large',
      labelNames: ['outcome'],
      registers,
    });
    for (const outcome of INTAKE_OUTCOMES) this.events.inc({ outcome }, 0);
    this.decisions = new Counter({
      name: 'flowmon_decisions_total',
      help: 'Decisions recorded in the history, by appliance and action',
      labelNames: ['appliance', 'action'],
      registers,
    });
    this.calls = new Counter({
      name: 'flowmon_appliance_calls_total',
      help: 'HTTP calls to the appliances (each retry counts), by operation and result (ok, error, unreachable)',
      labelNames: ['appliance', 'operation', 'result'],
      registers,
    });
    this.durations = new Histogram({
      name: 'flowmon_appliance_call_duration_seconds',
      help: 'Duration of HTTP calls to the appliances',
      labelNames: ['appliance', 'operation'],
      buckets: DURATION_BUCKETS,
      registers,
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    signals.on('intake', this.onIntake);
    signals.on('appliance-call', this.onCall);
    this.sources.history?.on('record', this.onRecord);
  }

  stop(): void {
    this.running = false;
    signals.off('intake', this.onIntake);
    signals.off('appliance-call', this.onCall);
    this.sources.history?.off('record', this.onRecord);
  }

  get contentType(): string {
    return this.register.contentType;
  }

  /** The exposition text (Prometheus text format 0.0.4). */
  text(): Promise<string> {
    return this.register.metrics();
  }

  private noteCall(c: ApplianceCall): void {
    const appliance = label(this.sources.applianceName(c.configId));
    const operation = label(c.operation);
    this.calls.inc({ appliance, operation, result: c.result });
    this.durations.observe({ appliance, operation }, c.seconds);
  }
}

function label(text: string): string {
  return plainText(text, MAX_LABEL_LENGTH) || 'unnamed';
}
