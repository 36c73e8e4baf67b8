// PacedQueue with a rate budget shared by several queues (instances, config nodes of one appliance).
import assert from 'node:assert/strict';
import sinon from 'sinon';
import { PacedQueue, QueueClosedError } from '../../../lib/pacing/paced-queue';
import type { SharedBudget } from '../../../lib/store/types';
import { FakeSharedBudgets } from './fake-shared-budget';

/** The most starts within any window of `windowMs`. */
function busiestWindow(starts: number[], windowMs: number): number {
  const sorted = [...starts].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0; i < sorted.length; i++) most = Math.max(most, sorted.filter((t) => t >= sorted[i] && t < sorted[i] + windowMs).length);
  return most;
}

describe('lib/pacing PacedQueue with a shared budget', () => {
  let clock: sinon.SinonFakeTimers;
  let budgets: FakeSharedBudgets;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    budgets = new FakeSharedBudgets();
  });
  afterEach(() => clock.restore());

  /** One instance's queue: its own limit of 5 per second, and the budget all of them share. */
  const queue = (options: { concurrency?: number; budget?: SharedBudget } = {}) =>
    new PacedQueue({ maxCalls: 5, windowMs: 1_000, concurrency: options.concurrency ?? 4, budget: options.budget ?? budgets.budget('lm', 5, 1_000) });

  it('two queues together never start more than the budget per window, and lose no time doing so', async () => {
    const [a, b] = [queue(), queue()];
    const starts: number[] = [];
    const call = () => async () => {
      starts.push(Date.now());
      await new Promise((r) => setTimeout(r, 50));
    };
    const all = [...Array.from({ length: 20 }, () => a.run(call())), ...Array.from({ length: 20 }, () => b.run(call()))];
    await clock.tickAsync(10_000);
    await Promise.all(all);
    assert.equal(starts.length, 40);
    assert.equal(busiestWindow(starts, 1_000), 5, 'at most 5 starts in any second, both queues together');
    assert.ok(starts[39] - starts[0] <= 7_100, `40 calls at 5 per second take about 7 s, not ${starts[39] - starts[0]} ms`);
    assert.equal(a.depth + b.depth, 0);
  });

  it('each queue alone would start twice as many (the budget is what holds them)', async () => {
    const [a, b] = [queue({ budget: budgets.budget('lm-a', 5, 1_000) }), queue({ budget: budgets.budget('lm-b', 5, 1_000) })];
    const starts: number[] = [];
    const all = Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).run(async () => starts.push(Date.now())));
    await clock.tickAsync(5_000);
    await Promise.all(all);
    assert.equal(busiestWindow(starts, 1_000), 10);
  });

  it('keeps priority order while the head waits for its slot: nothing overtakes it', async () => {
    const q = queue({ budget: budgets.budget('slow', 1, 1_000) });
    const order: Array<[string, number]> = [];
    const call = (name: string) => async () => order.push([name, Date.now() - 1_000_000]);
    const first = [q.run(call('low-1'), 0), q.run(call('low-2'), 0), q.run(call('critical'), 4)];
    await clock.tickAsync(500);
    const later = q.run(call('high'), 3);
    await clock.tickAsync(5_000);
    await Promise.all([...first, later]);
    assert.deepEqual(order, [
      ['critical', 0],
      ['high', 1_000],
      ['low-1', 2_000],
      ['low-2', 3_000],
    ]);
  });

  it('a budget that cannot be asked fails each waiting call once, without spinning; then calls go again', async () => {
    let takes = 0;
    let down = true;
    const flaky: SharedBudget = {
      take: async () => {
        takes++;
        if (down) throw new Error('the shared store (PostgreSQL) cannot be reached');
        return 0;
      },
    };
    const q = queue({ budget: flaky });
    let ran = 0;
    const calls = Array.from({ length: 3 }, () => q.run(async () => ran++));
    for (const c of calls) await assert.rejects(c, /cannot be reached/);
    await clock.tickAsync(1_000);
    assert.deepEqual([takes, ran, q.depth], [3, 0, 0]);
    down = false;
    assert.equal(await q.run(async () => 'ok'), 'ok');
  });

  it('close() while the head waits for a slot refuses everything waiting and starts nothing more', async () => {
    const q = queue({ budget: budgets.budget('none-left', 1, 60_000) });
    let ran = 0;
    const calls = Array.from({ length: 3 }, () => q.run(async () => ran++));
    await clock.tickAsync(100);
    q.close();
    await calls[0];
    for (const c of calls.slice(1)) await assert.rejects(c, QueueClosedError);
    await clock.tickAsync(120_000);
    assert.equal(ran, 1);
  });
  describe('calls counted when they arrive (callMs)', () => {
    /**
     * Two instances' queues (5 per second each, the budget 5 per second for both). The first calls of each open a
     * connection and reach the appliance 900 ms after they start; later ones reuse it and arrive at once.
     */
    async function arrivals(callMs: number | undefined): Promise<number[]> {
      const shared = budgets.budget('lm-arrivals', 5, 1_000);
      const make = () => new PacedQueue({ maxCalls: 5, windowMs: 1_000, concurrency: 4, budget: shared, callMs });
      const queues = [make(), make()];
      const arrived: number[] = [];
      const opened = new Set<PacedQueue>();
      const call = (q: PacedQueue) => async () => {
        const slow = !opened.has(q);
        opened.add(q);
        await new Promise((r) => setTimeout(r, slow ? 900 : 0));
        arrived.push(Date.now());
        await new Promise((r) => setTimeout(r, 10));
      };
      const all = queues.flatMap((q) => Array.from({ length: 10 }, () => q.run(call(q))));
      await clock.tickAsync(30_000);
      await Promise.all(all);
      return arrived;
    }

    it('keeps every window of arrivals within the budget although early calls arrive late', async () => {
      const arrived = await arrivals(5_000);
      assert.equal(arrived.length, 20);
      assert.ok(busiestWindow(arrived, 1_000) <= 5, `${busiestWindow(arrived, 1_000)} arrivals in one second`);
    });

    it('(without it, counting starts only, the late arrivals land beside the next window\'s calls)', async () => {
      const arrived = await arrivals(undefined);
      assert.ok(busiestWindow(arrived, 1_000) > 5, `${busiestWindow(arrived, 1_000)} arrivals in one second`);
    });
  });
});
