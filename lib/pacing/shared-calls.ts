/**
 * Calls in progress, by key: a second caller asking for the same key while the first call runs waits for that call
 * instead of making its own (a burst of events for one address costs one appliance call).
 */
export class SharedCalls<T> {
  private readonly running = new Map<string, Promise<T>>();

  has(key: string): boolean {
    return this.running.has(key);
  }

  /** The call's value, with `joined` true when it was another caller's call. */
  async run(key: string, call: () => Promise<T>): Promise<{ value: T; joined: boolean }> {
    const pending = this.running.get(key);
    if (pending) return { value: await pending, joined: true };
    const started = call();
    this.running.set(key, started);
    try {
      return { value: await started, joined: false };
    } finally {
      this.running.delete(key);
    }
  }
}
