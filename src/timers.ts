/**
 * One-shot timers as a seam: the pool's job timeouts, the daemon's scheduler and the event
 * writer's pace take them as an option, so tests move time on themselves instead of waiting for
 * it (`docs/development.md`, "Tests").
 *
 * @module
 */

/** One-shot timers: what code that waits needs of a clock besides `now`. */
export interface Timers {
  /** Calls `fn` once after `ms` milliseconds; returns a handle. */
  set(fn: () => void, ms: number): unknown;
  /** Cancels a timer by its handle (a fired or cleared one is fine). */
  clear(handle: unknown): void;
}

/** The runtime's timers. */
export const REAL_TIMERS: Timers = Object.freeze({
  set: (fn: () => void, ms: number) => setTimeout(fn, ms),
  clear: (handle: unknown) => clearTimeout(handle as ReturnType<typeof setTimeout>),
});
