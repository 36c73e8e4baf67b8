import type { CallSlot, SharedBudget } from '../store/types';

export interface PacedQueueOptions {
  /** At most this many calls may start within any `windowMs` (omit for no rate limit). */
  maxCalls?: number;
  windowMs?: number;
  /** Calls in flight at once. */
  concurrency?: number;
  /** Calls waiting beyond this are refused at once with QueueFullError. */
  maxQueued?: number;
  /**
   * A rate budget shared with other queues (other instances, other config nodes of the same appliance): each call
   * also takes a slot from it right before it starts.
   */
  budget?: SharedBudget;
  /**
   * The longest a call can take (its timeout). Given, and the budget supports it, each call holds its shared slot
   * while it runs and for the window after it (the appliance counts arrivals; see SharedBudget.takeForCall).
   */
  callMs?: number;
  now?: () => number;
}

/** Longest wait for a shared slot before asking again (a budget answering nonsense must not stall the queue). */
const MAX_BUDGET_WAIT_MS = 60_000;
/** Wait after an answer that is neither 0 nor a wait (negative, NaN): ask again, but do not spin. */
const ODD_ANSWER_WAIT_MS = 100;

/** How long to wait after the budget's answer: 0 (the slot is taken) or ms before asking again. */
function sharedSlotWait(answer: number | CallSlot): number {
  if (typeof answer !== 'number' || answer === 0) return 0;
  if (!(answer > 0)) return ODD_ANSWER_WAIT_MS;
  return Math.min(Math.ceil(answer), MAX_BUDGET_WAIT_MS);
}

export class QueueFullError extends Error {
  constructor(limit: number) {
    super(`appliance queue full: ${limit} requests already waiting; request refused`);
    this.name = 'QueueFullError';
  }
}

export class QueueClosedError extends Error {
  constructor() {
    super('appliance connection closed (Node-RED is stopping or the configuration changed)');
    this.name = 'QueueClosedError';
  }
}

/** The call's promise; a call that throws synchronously becomes a rejection. */
function settled<T>(call: () => Promise<T>): Promise<T> {
  try {
    return Promise.resolve(call());
  } catch (err) {
    return Promise.reject(err);
  }
}

interface Task {
  run: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * One queue per appliance: every call goes through it so that the appliance's rate limit is never exceeded
 * (the LoadMaster drops the connection after 30 calls in 3 s). Higher priority is served first, FIFO within one
 * priority. With a shared budget the head of the queue waits for its shared slot and nothing overtakes it; a budget
 * that cannot be asked (the store is unreachable) fails the call it was asked for.
 */
export class PacedQueue {
  private readonly byPriority = new Map<number, Task[]>();
  private readonly starts: number[] = [];
  private queued = 0;
  private running = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** A slot is being asked of the shared budget (one at a time, for the head of the queue). */
  private asking = false;
  private readonly budget: SharedBudget | undefined;
  private readonly callMs: number | undefined;
  private readonly maxCalls: number;
  private readonly windowMs: number;
  private readonly concurrency: number;
  private readonly maxQueued: number;
  private readonly now: () => number;

  constructor(options: PacedQueueOptions = {}) {
    this.maxCalls = options.maxCalls ?? Infinity;
    this.windowMs = options.windowMs ?? 1_000;
    this.concurrency = options.concurrency ?? Infinity;
    this.maxQueued = options.maxQueued ?? 10_000;
    this.budget = options.budget;
    this.callMs = options.callMs;
    this.now = options.now ?? Date.now;
  }

  /** Calls waiting plus calls in flight. */
  get depth(): number {
    return this.queued + this.running;
  }

  run<T>(call: () => Promise<T>, priority = 0): Promise<T> {
    if (this.closed) return Promise.reject(new QueueClosedError());
    if (this.queued >= this.maxQueued) return Promise.reject(new QueueFullError(this.maxQueued));
    return new Promise<T>((resolve, reject) => {
      const tasks = this.byPriority.get(priority) ?? [];
      if (tasks.length === 0) this.byPriority.set(priority, tasks);
      tasks.push({ run: call, resolve: resolve as (value: unknown) => void, reject });
      this.queued++;
      this.pump();
    });
  }

  /** Refuses everything still waiting; calls in flight finish. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const tasks of this.byPriority.values()) for (const task of tasks) task.reject(new QueueClosedError());
    this.byPriority.clear();
    this.queued = 0;
  }

  private pump(): void {
    if (this.timer || this.asking) return;
    while (this.queued > 0 && this.running < this.concurrency) {
      const wait = this.msUntilSlot();
      if (wait > 0) return this.pumpIn(wait);
      if (this.budget) return this.startWithSharedSlot(this.budget);
      this.start(this.takeNext());
    }
  }

  private pumpIn(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, ms);
  }

  /** Asks the shared budget for a slot; the head of the queue when it is granted starts. */
  private startWithSharedSlot(budget: SharedBudget): void {
    this.asking = true;
    const callMs = this.callMs;
    const ask = callMs !== undefined && budget.takeForCall ? () => budget.takeForCall!(callMs) : () => budget.take();
    settled(ask).then(
      (answer) => {
        this.asking = false;
        const slot = typeof answer === 'number' ? undefined : answer;
        if (this.queued === 0) return slot?.done();
        const wait = sharedSlotWait(answer);
        if (wait > 0) return this.pumpIn(wait);
        this.start(this.takeNext(), slot);
        this.pump();
      },
      (err: unknown) => {
        this.asking = false;
        if (this.queued > 0) this.takeNext().reject(err);
        this.pump();
      },
    );
  }

  private msUntilSlot(): number {
    if (this.maxCalls === Infinity) return 0;
    const now = this.now();
    while (this.starts.length > 0 && this.starts[0] <= now - this.windowMs) this.starts.shift();
    return this.starts.length < this.maxCalls ? 0 : this.starts[0] + this.windowMs - now;
  }

  private takeNext(): Task {
    const priority = Math.max(...this.byPriority.keys());
    const tasks = this.byPriority.get(priority) as Task[];
    const task = tasks.shift() as Task;
    if (tasks.length === 0) this.byPriority.delete(priority);
    this.queued--;
    return task;
  }

  private start(task: Task, slot?: CallSlot): void {
    if (this.maxCalls !== Infinity) this.starts.push(this.now());
    this.running++;
    settled(task.run).then(task.resolve, task.reject).finally(() => {
      slot?.done();
      this.running--;
      this.pump();
    });
  }
}
