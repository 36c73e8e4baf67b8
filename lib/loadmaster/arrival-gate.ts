import { sleep as wait } from '../http/retry';

/**
 * The LoadMaster counts API calls when they ARRIVE, while a paced queue counts them when they START. A slow
 * connect (TLS handshake) can push early calls of one window next to the calls of the next window, and the
 * appliance then sees more than its limit in 3 s and drops the connection. The gate closes that gap: call n is
 * sent only once call n - maxCalls has finished and `windowMs` has passed since, so any window at the appliance
 * holds at most maxCalls arrivals, whatever the latency.
 */
export class ArrivalGate {
  private next = 0;
  private readonly finished = new Map<number, Promise<number>>();

  constructor(
    private readonly maxCalls: number,
    private readonly windowMs: number,
    private readonly sleep: (ms: number) => Promise<void> = wait,
  ) {}

  /** Waits until this call may be sent; call the returned function when it has finished (or failed). */
  async enter(): Promise<() => void> {
    const ticket = this.next++;
    let finish!: (at: number) => void;
    this.finished.set(ticket, new Promise<number>((resolve) => (finish = resolve)));
    const earlier = this.finished.get(ticket - this.maxCalls);
    if (earlier) {
      const finishedAt = await earlier;
      this.finished.delete(ticket - this.maxCalls);
      const wait = finishedAt + this.windowMs - Date.now();
      if (wait > 0) await this.sleep(wait);
    }
    return () => finish(Date.now());
  }
}
