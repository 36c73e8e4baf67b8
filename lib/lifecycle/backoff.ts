/** Delay before the next attempt after `attempts` failures: base × 2^attempts, at most `maxMs`. */
export function retryDelay(attempts: number, baseMs: number, maxMs: number): number {
  return Math.min(baseMs * 2 ** Math.min(attempts, 16), maxMs);
}
