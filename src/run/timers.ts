/**
 * One-shot timers as code that arms them takes them: the runtime's by default, a test's own
 * (`test/helpers/manual_timers.ts`) so that a timeout fires once what the test checks was
 * checked, not at a real time.
 *
 * @module
 */

/** One-shot timers. */
export interface OneShotTimers {
  /** Calls `fn` once after `ms` milliseconds; returns a handle. */
  set(fn: () => void, ms: number): unknown;
  /** Cancels a timer by its handle (a fired or cleared one is fine). */
  clear(handle: unknown): void;
}

/** The runtime's timers. */
export const REAL_TIMERS: OneShotTimers = Object.freeze({
  set: (fn: () => void, ms: number) => setTimeout(fn, ms),
  clear: (handle: unknown) => clearTimeout(handle as ReturnType<typeof setTimeout>),
});
