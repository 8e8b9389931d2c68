/**
 * Retries of a failed job (docs/runs.md, "Retries"): `retries` more attempts, waiting
 * `retryDelay` before the first retry and twice as long before each next one (at most
 * {@link MAX_TIMER_MS}). Timeouts count as failures;
 * cancellation does not get retried.
 *
 * @module
 */
import type { JobOutcome } from "./job_protocol.ts";
import { MAX_TIMER_MS, sleep } from "./sleep.ts";

/** Options of {@link runWithRetries}. */
export interface RetryOptions {
  /** Extra attempts after the first (default 0). */
  retries?: number;
  /** Milliseconds before the first retry; doubles per attempt, capped (default 1000). */
  retryDelayMs?: number;
  /** Stops waiting for and starting retries. */
  signal?: AbortSignal;
  /** Called after each failed attempt that will be retried, before the delay. */
  onRetry?: (outcome: JobOutcome, delayMs: number) => void | Promise<void>;
}

/**
 * Runs `attempt(1)`, then `attempt(2)`, … until one succeeds, is cancelled, or the retries
 * are used up. Returns the last outcome.
 */
export async function runWithRetries(
  attempt: (n: number) => Promise<JobOutcome>,
  options: RetryOptions = {},
): Promise<JobOutcome> {
  const retries = Math.max(0, options.retries ?? 0);
  const base = options.retryDelayMs ?? 1000;
  for (let n = 1;; n++) {
    const outcome = await attempt(n);
    if (outcome.ok || outcome.cancelled || n > retries || options.signal?.aborted) return outcome;
    // Doubling overflows any timer after a few dozen retries: the delay stops growing at
    // MAX_TIMER_MS (about 24.8 days) instead of wrapping to "at once".
    const delay = Math.min(base * 2 ** (n - 1), MAX_TIMER_MS);
    await options.onRetry?.(outcome, delay);
    if (!(await sleep(delay, { signal: options.signal }))) return outcome;
  }
}
