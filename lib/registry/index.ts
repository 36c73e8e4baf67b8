/**
 * One registry of active mitigations per store (per user directory, or per PostgreSQL database), created lazily by
 * `getRegistry(RED)` and shared by the TTL nodes, the appliance nodes and the sidebar. It owns a release scheduler
 * that runs at runtime level, so blocks are released on time even when the TTL node that armed them was deleted (with
 * a shared store, only on the instance that leads), and the decision service, the one path of every decision on a
 * held block (`registry.decisions.decide`).
 */
import * as path from 'node:path';
import { dataDir } from '../durable/private-files';
import { isMitigationAppliance, MitigationAppliance } from '../mitigation/types';
import { ApplianceResolver, ReleaseScheduler, ReleaseResult } from '../lifecycle/scheduler';
import { DecisionService } from '../decisions/service';
import { getStore, Store, StoreRuntime } from '../store';
import { REGISTRY_FILE } from './journal-backend';
import { MitigationRegistry } from './registry';

export { REGISTRY_FILE };

/** The registry journal of a user directory: in the package's folder (0700), readable by its owner only. */
export function registryFile(userDir: string): string {
  return path.join(dataDir(userDir), REGISTRY_FILE);
}

/** The parts of Node-RED's RED object the registry uses (kept structural so library code never imports node-red). */
export interface RuntimeLike extends StoreRuntime {
  log?: { warn(msg: unknown): void; info?(msg: unknown): void; error?(msg: unknown): void };
  nodes?: { getNode(id: string): unknown };
  events?: {
    on(event: string, fn: (...args: unknown[]) => void): unknown;
    removeListener(event: string, fn: (...args: unknown[]) => void): unknown;
  };
}

export class RuntimeRegistry extends MitigationRegistry {
  readonly scheduler: ReleaseScheduler;
  readonly decisions: DecisionService;
  private red: RuntimeLike;
  private flowState: boolean | undefined;
  private events: RuntimeLike['events'];
  private readonly onStarted = () => {
    this.flowState = true;
    this.scheduler.adoptOrphans();
    this.scheduler.sweep();
  };
  private readonly onStopping = () => {
    this.flowState = false;
  };

  /** `storage`: the store to open the entries from, or a journal path (memory only without either). */
  constructor(red: RuntimeLike, storage: Store | string | undefined) {
    const log = { warn: (m: string) => red.log?.warn(`[flowmon-response] ${m}`) };
    const store = typeof storage === 'object' ? storage : undefined;
    super({
      file: typeof storage === 'string' ? storage : undefined,
      openBackend: store && ((live) => store.openEntries(live)),
      log,
      ownsDir: true,
    });
    this.red = red;
    const appliances: ApplianceResolver = { resolve: (id) => this.resolveAppliance(id), flowsRunning: () => this.flowState };
    this.decisions = new DecisionService(this, appliances, { log });
    this.scheduler = new ReleaseScheduler(this, appliances, { log, decisions: this.decisions, leadership: store?.leadership });
    this.bind(red);
    this.scheduler.start();
  }

  /** Keeps the newest RED object (tests create one per load) and follows its flow start/stop events. */
  bind(red: RuntimeLike): void {
    // A caller that brings no node lookup (a library user, a test) must not hide the runtime's.
    if (red.nodes || !this.red.nodes) this.red = red;
    if (red.events && red.events !== this.events) {
      this.unbindEvents();
      this.events = red.events;
      red.events.on('flows:started', this.onStarted);
      red.events.on('flows:starting', this.onStopping);
      red.events.on('flows:stopping', this.onStopping);
    }
  }

  /** A person's release (`requester`: their name), by the same path as expiry. */
  releaseNow(id: string, requester?: string): Promise<ReleaseResult> {
    if (requester !== undefined) this.noteReleaseRequester(id, requester);
    return this.scheduler.releaseNow(id, 'manual');
  }

  resolveAppliance(configId: string): MitigationAppliance | null {
    const node = this.red.nodes?.getNode(configId);
    return isMitigationAppliance(node) ? node : null;
  }

  async shutdown(): Promise<void> {
    this.scheduler.stop();
    this.unbindEvents();
    await this.close();
  }

  private unbindEvents(): void {
    if (!this.events) return;
    this.events.removeListener('flows:started', this.onStarted);
    this.events.removeListener('flows:starting', this.onStopping);
    this.events.removeListener('flows:stopping', this.onStopping);
    this.events = undefined;
  }
}

const registries = new Map<Store, RuntimeRegistry>();
let warnedMemoryOnly = false;

/** The registry of the runtime's store (see lib/store): one per user directory, or per PostgreSQL database. */
export function getRegistry(red: RuntimeLike): RuntimeRegistry {
  const store = getStore(red);
  let reg = registries.get(store);
  if (reg) {
    reg.bind(red);
    return reg;
  }
  reg = new RuntimeRegistry(red, store);
  if (!reg.durable && !warnedMemoryOnly) {
    warnedMemoryOnly = true;
    red.log?.warn('[flowmon-response] no user directory: active blocks are kept in memory only and lost on restart');
  }
  registries.set(store, reg);
  return reg;
}

/** Stops and closes every registry (a process restart, as far as the registry can tell); the stores stay open. */
export async function closeRegistries(): Promise<void> {
  const all = [...registries.values()];
  registries.clear();
  await Promise.all(all.map((r) => r.shutdown()));
}

export { MitigationRegistry } from './registry';
export type {
  ArmRequest,
  ArmResult,
  HoldRegistration,
  HoldResult,
  RegistryChange,
  ChangeType,
  RegistrySummary,
} from './registry';
export { DecisionService } from '../decisions/service';
export type { RegistryEntry, EntryState, ReleasedBy } from './entry';
export { entryId, entryKey } from './entry';
