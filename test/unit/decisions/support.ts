// A runtime registry wired as in Node-RED (RuntimeRegistry: registry, scheduler, decisions) with fake appliance
// config nodes whose applyHeld the tests control, and held requests to feed it.
import { EventEmitter } from 'node:events';
import type { DecisionEvent, HoldRequest } from '../../../lib/decisions/types';
import type { AppliedHold, MitigationAppliance, MitigationKey, ReleaseOutcome } from '../../../lib/mitigation/types';
import { RuntimeRegistry } from '../../../lib/registry';
import type { HoldInfo } from '../../../lib/decisions/types';

export class FakeHeldAppliance implements MitigationAppliance {
  readonly applianceKind = 'loadmaster' as const;
  simulate = false;
  calls: Array<{ key: MitigationKey; hold: HoldInfo; userId?: string }> = [];
  releases: MitigationKey[] = [];
  /** How many of the next applyHeld calls throw. */
  failures = 0;
  result: AppliedHold['result'] = 'applied';
  reason?: string;
  /** Answers one call at a time, in the order they came (as a paced queue with one slot would). */
  serialise = false;
  /** Calls wait until release() when set. */
  gate?: Promise<void>;
  private chain: Promise<unknown> = Promise.resolve();

  async releaseMitigation(key: MitigationKey): Promise<ReleaseOutcome> {
    this.releases.push(key);
    return 'released';
  }

  applyHeld(key: MitigationKey, hold: HoldInfo, userId?: string): Promise<AppliedHold> {
    const run = async (): Promise<AppliedHold> => {
      if (this.gate) await this.gate;
      this.calls.push({ key, hold, userId });
      if (this.failures > 0) {
        this.failures--;
        throw new Error('appliance answered 503');
      }
      if (this.result === 'refused') return { result: 'refused', key, reason: this.reason };
      return heldAnswer(this.result, key, hold, userId);
    };
    if (!this.serialise) return run();
    const p = this.chain.then(run);
    this.chain = p.catch(() => undefined);
    return p;
  }
}

/** What an appliance answers for an applied held block: for a chosen user, that user's key and name. */
export function heldAnswer(result: AppliedHold['result'], key: MitigationKey, hold: HoldInfo, userId?: string): AppliedHold {
  if (!userId) return { result, key };
  const user = hold.candidates?.find((c) => c.userId === userId);
  return { result, key: { configId: key.configId, scope: 'user:WINDOWS', target: userId }, label: user?.username ?? undefined };
}

export interface Runtime {
  registry: RuntimeRegistry;
  appliances: Map<string, MitigationAppliance>;
  events: EventEmitter;
  decided: DecisionEvent[];
}

/** A runtime registry on `file` (memory only without), flows started unless `started` is false. */
export function runtime(file: string | undefined, appliances = new Map<string, MitigationAppliance>(), started = true): Runtime {
  const events = new EventEmitter();
  const red = { settings: {}, nodes: { getNode: (id: string) => appliances.get(id) ?? null }, events, log: { warn: () => undefined } };
  const registry = new RuntimeRegistry(red, file);
  const decided: DecisionEvent[] = [];
  registry.decisions.on('decision', (d: DecisionEvent) => decided.push(d));
  if (started) events.emit('flows:started');
  return { registry, appliances, events, decided };
}

export function holdRequest(over: Partial<HoldRequest> = {}): HoldRequest {
  return {
    reason: 'storm',
    reasonText: 'storm gate: at most 60 new blocks per 60 s',
    event: { id: '5101', method: 'SCANS', priority: 'high', perspective: 'Security issues', description: 'port scan', source: '10.0.0.5' },
    decideWithinMs: 3_600_000,
    onTimeout: 'discard',
    priority: 3,
    ...over,
  };
}

export const lmKey = (target: string, configId = 'lm'): MitigationKey => ({ configId, scope: 'global:block', target });

export const ambiguousCandidates = [
  { userId: 'S-1-5-21-1-1104', username: 'jdoe', activityCount: 12 },
  { userId: 'S-1-5-21-1-1105', username: 'asmith', activityCount: 3 },
];

/** Lets promise chains and journal writes (real I/O) settle. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

export { until } from '../ttl/fake-appliance';
