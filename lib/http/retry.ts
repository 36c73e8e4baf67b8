import { isRetryable } from './errors';

export interface RetryOptions {
  /** Attempts in all, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  retryable?: (err: unknown) => boolean;
  sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 4, baseDelayMs: 250, maxDelayMs: 4_000 };

export const sleep = (ms: number): Promise<void> => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `attempt` until it succeeds, a non-retryable error is thrown, or the attempts are spent (full jitter). */
export async function withRetry<T>(attempt: (n: number) => Promise<T>, options: RetryOptions = DEFAULT_RETRY): Promise<T> {
  const retryable = options.retryable ?? isRetryable;
  const wait = options.sleep ?? sleep;
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (n >= options.attempts || !retryable(err)) throw err;
      const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (n - 1));
      await wait(ceiling / 2 + Math.random() * (ceiling / 2));
    }
  }
}
