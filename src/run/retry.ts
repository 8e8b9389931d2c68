/**
 * Retries of a failed job (SPEC §3.3): `retries` more attempts, waiting `retryDelay` before the
 * first retry and twice as long before each next one. Timeouts count as failures;
 * cancellation does not get retried.
 *
 * @module
 */
import type { JobOutcome } from "./job_api.ts";

/** Options of {@link runWithRetries}. */
export interface RetryOptions {
  /** Extra attempts after the first (default 0). */
  retries?: number;
  /** Milliseconds before the first retry; doubles per attempt (default 1000). */
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
    const delay = base * 2 ** (n - 1);
    await options.onRetry?.(outcome, delay);
    if (!(await sleep(delay, options.signal))) return outcome;
  }
}

/** Waits `ms`; resolves false early when `signal` fires. */
function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
