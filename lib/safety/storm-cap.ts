import type { SharedBudget } from '../store/types';

export interface StormCapOptions {
  /** The count kept by the shared store, for every instance together (then the local count is not used). */
  budget?: SharedBudget;
  now?: () => number;
}

/**
 * Caps how many new mitigations may start within a sliding window with nobody asked (a circuit breaker against
 * false-positive storms: the rest are held for a person). `tryTake` records one when allowed. With a shared budget
 * the count is the store's; when the store cannot be asked the answer is "hold", the safe side.
 */
export class StormCap {
  private readonly stamps: number[] = [];
  private readonly budget: SharedBudget | undefined;
  private readonly now: () => number;

  constructor(
    readonly max: number,
    readonly windowMs = 60_000,
    options: StormCapOptions = {},
  ) {
    this.budget = options.budget;
    this.now = options.now ?? Date.now;
  }

  async tryTake(): Promise<boolean> {
    if (this.budget) {
      try {
        return (await this.budget.take()) === 0;
      } catch {
        return false;
      }
    }
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
