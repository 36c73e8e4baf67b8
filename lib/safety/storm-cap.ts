/**
 * Caps how many new mitigations may start within a sliding window with nobody asked (a circuit breaker against
 * false-positive storms: the rest are held for a person). `tryTake` records one when allowed.
 */
export class StormCap {
  private readonly stamps: number[] = [];

  constructor(
    readonly max: number,
    readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  tryTake(): boolean {
    const now = this.now();
    while (this.stamps.length > 0 && this.stamps[0] <= now - this.windowMs) this.stamps.shift();
    if (this.stamps.length >= this.max) return false;
    this.stamps.push(now);
    return true;
  }

  describe(): string {
    return `storm gate: at most ${this.max} new blocks per ${Math.round(this.windowMs / 1000)} s without a decision`;
  }
}
