/**
 * Bounded polling for tests that wait on another process or thread (a server starting, a file
 * appearing): checks until the condition holds, and fails with what was awaited when it does not
 * within the bound. The bound is a safety net against a hung test, never an assertion about speed.
 *
 * @module
 */

/** Options of {@link until}. */
export interface UntilOptions {
  /** What is awaited, for the error message (default "a condition"). */
  what?: string;
  /** Give up after this many milliseconds (default 10 000). */
  timeoutMs?: number;
  /** Milliseconds between checks (default 25). */
  intervalMs?: number;
  /** Clock the bound is measured on, in ms (default `performance.now`; tests inject one). */
  now?: () => number;
}

/**
 * Resolves with the first truthy value `check` returns (sync or async); rejects with
 * "timed out waiting for WHAT" once `timeoutMs` have passed, or with the error `check` throws.
 */
export async function until<T>(
  check: () => T | Promise<T>,
  options: UntilOptions = {},
): Promise<NonNullable<T>> {
  const { what = "a condition", timeoutMs = 10_000, intervalMs = 25 } = options;
  const now = options.now ?? (() => performance.now());
  if (!(timeoutMs > 0)) throw new RangeError(`until: timeoutMs must be > 0, got ${timeoutMs}`);
  if (!(intervalMs > 0)) throw new RangeError(`until: intervalMs must be > 0, got ${intervalMs}`);
  const deadline = now() + timeoutMs;
  while (true) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (now() >= deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
