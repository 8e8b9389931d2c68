/**
 * The one abortable sleep of ays (retries, the daemon's queue back-off). `setTimeout` fires at
 * once for a delay of 2^31 ms or more, in Bun and Deno alike; a longer sleep here is waited
 * out in pieces of at most {@link MAX_TIMER_MS}, so it never ends early.
 *
 * @module
 */

/** The longest delay `setTimeout` keeps (2^31 − 1 ms, about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A delay `setTimeout` takes as meant: `ms` clamped to 0 … {@link MAX_TIMER_MS}. */
export function timerDelay(ms: number): number {
  if (!(ms > 0)) return 0;
  return Math.min(ms, MAX_TIMER_MS);
}

/** Options of {@link sleep}. */
export interface SleepOptions {
  /** Ends the sleep early. */
  signal?: AbortSignal;
}

/**
 * Waits `ms` milliseconds (any length; `Infinity` waits until `signal`). Resolves true when
 * the time is up, false as soon as `signal` fires (at once when it already has).
 */
export function sleep(ms: number, options: SleepOptions = {}): Promise<boolean> {
  const { signal } = options;
  if (Number.isNaN(ms)) throw new RangeError("sleep: the delay is not a number");
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    let left = ms;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const arm = () => {
      if (!(left > 0)) {
        signal?.removeEventListener("abort", onAbort);
        return resolve(true);
      }
      const step = timerDelay(left);
      left -= step;
      timer = setTimeout(arm, step);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    arm();
  });
}
