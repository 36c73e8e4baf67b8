export interface PacedQueueOptions {
  /** At most this many calls may start within any `windowMs` (omit for no rate limit). */
  maxCalls?: number;
  windowMs?: number;
  /** Calls in flight at once. */
  concurrency?: number;
  /** Calls waiting beyond this are refused at once with QueueFullError. */
  maxQueued?: number;
  now?: () => number;
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

interface Task {
  run: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * One queue per appliance: every call goes through it so that the appliance's rate limit is never exceeded
 * (the LoadMaster drops the connection after 30 calls in 3 s). Higher priority is served first, FIFO within one
 * priority.
 */
export class PacedQueue {
  private readonly byPriority = new Map<number, Task[]>();
  private readonly starts: number[] = [];
  private queued = 0;
  private running = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
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
    for (const tasks of this.byPriority.values()) for (const task of tasks) task.reject(new QueueClosedError());
    this.byPriority.clear();
    this.queued = 0;
  }

  private pump(): void {
    while (this.queued > 0 && this.running < this.concurrency) {
      const wait = this.msUntilSlot();
      if (wait > 0) {
        if (!this.timer) {
          this.timer = setTimeout(() => {
            this.timer = undefined;
            this.pump();
          }, wait);
        }
        return;
      }
      this.start(this.takeNext());
    }
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

  private start(task: Task): void {
    if (this.maxCalls !== Infinity) this.starts.push(this.now());
    this.running++;
    let settled: Promise<unknown>;
    try {
      settled = Promise.resolve(task.run());
    } catch (err) {
      settled = Promise.reject(err);
    }
    settled.then(task.resolve, task.reject).finally(() => {
      this.running--;
      this.pump();
    });
  }
}
