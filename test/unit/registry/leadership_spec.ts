import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { MitigationRegistry } from '../../../lib/registry/registry';
import { Clock, DueDecisions, ReleaseScheduler } from '../../../lib/lifecycle/scheduler';
import type { Leadership } from '../../../lib/store/types';
import type { MitigationAppliance, MitigationKey } from '../../../lib/mitigation/types';
import { holdRequest, lmKey, settle } from '../decisions/support';

/** A leadership the test turns on and off; `confirms` is what the store answers when asked (fencing). */
class TestLeadership extends EventEmitter implements Leadership {
  isLeader = false;
  confirms = true;
  asked = 0;

  confirm(): Promise<boolean> {
    this.asked++;
    return Promise.resolve(this.confirms);
  }

  describe(): string {
    return 'instance b releases';
  }

  set(leading: boolean): void {
    this.isLeader = leading;
    this.emit('change', leading);
  }
}

/** Timers that run only when the test moves time on. */
class ManualClock implements Clock {
  t = Date.UTC(2026, 0, 1);
  private timers = new Map<number, { at: number; fn: () => void }>();
  private next = 0;

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.next;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  async advance(ms: number): Promise<void> {
    this.t += ms;
    for (const [id, timer] of [...this.timers].sort((x, y) => x[1].at - y[1].at)) {
      if (timer.at > this.t || !this.timers.delete(id)) continue;
      timer.fn();
    }
    await settle(5);
  }
}


describe('release scheduler: only the instance that leads releases', function () {
  let clock: ManualClock;
  let leadership: TestLeadership;
  let registry: MitigationRegistry;
  let released: MitigationKey[];
  let timeouts: string[];
  let warnings: string[];
  let scheduler: ReleaseScheduler;

  beforeEach(() => {
    clock = new ManualClock();
    leadership = new TestLeadership();
    registry = new MitigationRegistry({ now: () => clock.now() });
    released = [];
    timeouts = [];
    warnings = [];
    const appliance: MitigationAppliance = {
      applianceKind: 'loadmaster',
      simulate: false,
      releaseMitigation: (key) => {
        released.push(key);
        return Promise.resolve('released');
      },
      applyHeld: () => Promise.reject(new Error('unused')),
    };
    const decisions: DueDecisions = { timeout: (id) => timeouts.push(id), resume: () => undefined };
    scheduler = new ReleaseScheduler(
      registry,
      { resolve: () => appliance, flowsRunning: () => true },
      { clock, leadership, decisions, log: { warn: (m) => warnings.push(m) } },
    );
    scheduler.start();
  });
  afterEach(() => scheduler.stop());

  const arm = (target: string) => registry.arm({ key: lmKey(target), kind: 'loadmaster', ttlSeconds: 60 });

  it('releases nothing that falls due while another instance leads, and releases it within a tick of leading', async () => {
    const { entry } = await arm('10.0.0.1/32');
    await clock.advance(120_000);
    assert.equal(released.length, 0);
    assert.equal(registry.get(entry.id)!.state, 'active');
    assert.equal(scheduler.nextDue, undefined, 'nothing is queued on an instance that does not lead');

    leadership.set(true);
    await settle(5);
    assert.deepEqual(released, [lmKey('10.0.0.1/32')]);
    assert.equal(registry.get(entry.id)!.state, 'released');
  });

  it('confirms the releasing role for other work (reconcile) only while leading and confirmed by the store', async () => {
    assert.equal(await scheduler.confirmLeading(), false, 'not leading');
    assert.equal(leadership.asked, 0, 'the store is not asked by an instance that does not lead');
    leadership.set(true);
    assert.equal(await scheduler.confirmLeading(), true);
    leadership.confirms = false;
    assert.equal(await scheduler.confirmLeading(), false, 'fenced');
  });

  it('a person releases on any instance', async () => {
    const { entry } = await arm('10.0.0.2/32');
    assert.equal((await scheduler.releaseNow(entry.id)).status, 'released');
    assert.equal(released.length, 1);
    assert.equal(leadership.asked, 0, 'no fencing for a release a person asked for');
  });

  it('does not call the appliance when the store says, right before, that this instance no longer leads', async () => {
    leadership.set(true);
    const first = (await arm('10.0.0.3/32')).entry;
    const second = (await arm('10.0.0.4/32')).entry;
    leadership.confirms = false;
    await clock.advance(61_000);
    assert.equal(released.length, 0, 'the appliance was not called');
    assert.ok(leadership.asked >= 1);
    assert.equal(registry.get(first.id)!.state, 'release-pending', 'left for the leader to release');
    assert.equal(registry.get(second.id)!.state, 'release-pending');
    assert.equal(warnings.filter((w) => /no longer leads/.test(w)).length, 1, 'logged once for the loss');
    await clock.advance(3_600_000);
    assert.equal(released.length, 0, 'stood down: nothing more until it leads again');

    leadership.confirms = true;
    leadership.set(true);
    await settle(5);
    assert.equal(released.length, 2, 'the leader again releases both');
  });

  it('hands due holds to the decisions only while it leads and the store confirms it', async () => {
    const held = await registry.hold({ key: lmKey('10.0.0.5/32'), kind: 'loadmaster', hold: holdRequest({ decideWithinMs: 60_000 }), ttlSeconds: 60 });
    await clock.advance(61_000);
    assert.deepEqual(timeouts, [], 'not leading');
    leadership.confirms = false;
    leadership.set(true);
    await settle(5);
    assert.deepEqual(timeouts, [], 'fenced');
    leadership.confirms = true;
    leadership.set(true);
    await settle(5);
    assert.deepEqual(timeouts, [held.entry.id]);
  });

  it('stands down when another instance takes over: nothing due is acted on', async () => {
    leadership.set(true);
    await arm('10.0.0.6/32');
    leadership.set(false);
    await clock.advance(120_000);
    assert.equal(released.length, 0);
  });
});
