import assert from 'node:assert/strict';
import sinon from 'sinon';
import { PacedQueue, QueueClosedError, QueueFullError } from '../../../lib/pacing/paced-queue';
import { withRetry } from '../../../lib/http/retry';
import { ApplianceConnectionError, ApplianceResponseError } from '../../../lib/http/errors';

describe('lib/pacing PacedQueue', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => (clock = sinon.useFakeTimers({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'Date'] })));
  afterEach(() => clock.restore());

  it('never starts more than maxCalls within any window', async () => {
    const queue = new PacedQueue({ maxCalls: 25, windowMs: 3_000 });
    const starts: number[] = [];
    const all = Array.from({ length: 100 }, () => queue.run(async () => starts.push(Date.now())));
    await clock.tickAsync(10 * 3_000);
    await Promise.all(all);
    assert.equal(starts.length, 100);
    for (let i = 25; i < starts.length; i++) assert.ok(starts[i] - starts[i - 25] >= 3_000, `call ${i} too early`);
    assert.equal(starts[99] - starts[0], 9_000, 'no slower than the pacing allows');
  });

  it('serves higher priority first, FIFO within a priority', async () => {
    const queue = new PacedQueue({ concurrency: 1 });
    const order: string[] = [];
    let release!: () => void;
    const first = queue.run(() => new Promise<void>((r) => (release = r)));
    const rest = [
      queue.run(async () => order.push('low-1'), 0),
      queue.run(async () => order.push('critical'), 4),
      queue.run(async () => order.push('low-2'), 0),
      queue.run(async () => order.push('high'), 3),
    ];
    assert.equal(queue.depth, 5);
    release();
    await first;
    await Promise.all(rest);
    assert.deepEqual(order, ['critical', 'high', 'low-1', 'low-2']);
  });

  it('limits calls in flight', async () => {
    const queue = new PacedQueue({ concurrency: 2 });
    let inFlight = 0;
    let peak = 0;
    const task = () => queue.run(async () => {
      peak = Math.max(peak, ++inFlight);
      await new Promise((r) => setTimeout(r, 10));
      inFlight--;
    });
    const all = Array.from({ length: 6 }, task);
    await clock.tickAsync(100);
    await Promise.all(all);
    assert.equal(peak, 2);
  });

  it('refuses beyond the queue bound with a clear error, and everything waiting on close', async () => {
    const queue = new PacedQueue({ concurrency: 1, maxQueued: 2 });
    const blocker = queue.run(() => new Promise(() => undefined));
    const waiting = [queue.run(async () => 1), queue.run(async () => 2)];
    await assert.rejects(queue.run(async () => 3), (err: Error) => err instanceof QueueFullError && /2 requests already waiting/.test(err.message));
    queue.close();
    for (const w of waiting) await assert.rejects(w, QueueClosedError);
    await assert.rejects(queue.run(async () => 4), QueueClosedError);
    void blocker;
  });

  it('passes a call that throws synchronously on as a rejection', async () => {
    const queue = new PacedQueue();
    await assert.rejects(queue.run(() => { throw new Error('boom'); }), /boom/);
    assert.equal(await queue.run(async () => 'next'), 'next');
  });
});

describe('lib/http withRetry', () => {
  const noSleep = async () => undefined;
  it('retries connection errors and 5xx a bounded number of times', async () => {
    let calls = 0;
    await assert.rejects(
      withRetry(async () => { calls++; throw new ApplianceConnectionError('down'); }, { attempts: 3, baseDelayMs: 1, maxDelayMs: 1, sleep: noSleep }),
      /down/,
    );
    assert.equal(calls, 3);
    calls = 0;
    const result = await withRetry(async () => {
      if (++calls < 3) throw new ApplianceResponseError('busy', 503);
      return 'ok';
    }, { attempts: 5, baseDelayMs: 1, maxDelayMs: 1, sleep: noSleep });
    assert.deepEqual([result, calls], ['ok', 3]);
  });

  it('does not retry 4xx', async () => {
    let calls = 0;
    await assert.rejects(withRetry(async () => { calls++; throw new ApplianceResponseError('bad key', 401); }, { attempts: 5, baseDelayMs: 1, maxDelayMs: 1, sleep: noSleep }));
    assert.equal(calls, 1);
  });
});
