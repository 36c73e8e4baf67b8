// A stand-in appliance config node implementing MitigationAppliance, with failures the test controls.
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { HoldInfo } from '../../../lib/decisions/types';
import { heldAnswer } from '../decisions/support';
import type { AppliedHold, MitigationAppliance, MitigationKey, ReleaseOutcome } from '../../../lib/mitigation/types';

export interface FakeControl {
  /** How many of the next releases fail. */
  failures: number;
  /** The message they fail with (default "appliance answered 503"). */
  error?: string;
  releases: Array<{ key: MitigationKey; at: number }>;
  /** What listTaggedTargets answers. */
  listed: string[];
  reapplied: Array<{ key: MitigationKey; comment: string }>;
  outcome: ReleaseOutcome;
  /** applyHeld calls, and what they answer. */
  applied: Array<{ key: MitigationKey; hold: HoldInfo; userId?: string }>;
  applyResult: AppliedHold['result'];
}

const controls = new Map<string, FakeControl>();

export function control(id: string): FakeControl {
  let c = controls.get(id);
  if (!c) {
    c = { failures: 0, releases: [], listed: [], reapplied: [], outcome: 'released', applied: [], applyResult: 'applied' };
    controls.set(id, c);
  }
  return c;
}

export function resetControls(): void {
  controls.clear();
}

export function fakeAppliance(RED: NodeAPI): void {
  function FakeApplianceNode(this: Node & MitigationAppliance, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const c = control(this.id);
    Object.assign(this, {
      applianceKind: 'loadmaster',
      simulate: false,
      async releaseMitigation(key: MitigationKey): Promise<ReleaseOutcome> {
        c.releases.push({ key, at: Date.now() });
        if (c.failures > 0) {
          c.failures--;
          throw new Error(c.error ?? 'appliance answered 503');
        }
        return c.outcome;
      },
      async listTaggedTargets(): Promise<string[]> {
        return [...c.listed];
      },
      async reapplyMitigation(key: MitigationKey, comment: string): Promise<void> {
        c.reapplied.push({ key, comment });
      },
      async applyHeld(key: MitigationKey, hold: HoldInfo, userId?: string): Promise<AppliedHold> {
        c.applied.push({ key, hold, userId });
        return heldAnswer(c.applyResult, key, hold, userId);
      },
    });
  }
  RED.nodes.registerType('fake-appliance', FakeApplianceNode);
}

/** Waits (in real time, not affected by fake timers) until `cond` holds. */
export async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

export function loadMasterMitigation(address: string, result = 'added', config = 'lm') {
  return {
    appliance: 'loadmaster',
    config,
    action: result === 'removed' ? 'remove' : 'add',
    list: 'block',
    scope: 'global',
    address,
    result,
    at: new Date().toISOString(),
  };
}
