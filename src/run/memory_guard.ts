/**
 * The pool's guard against an action that blows up its memory in a worker thread
 * (docs/runs.md, "Memory limits"): while jobs run in threads of ays' own process, it reads the
 * process's resident memory every {@link GUARD_CHECK_MS} ms and calls `onExceeded` once each
 * time it passes the limit. The pool then retires every busy thread worker and runs those jobs
 * again, each in a process of its own with its memory limit: which thread's heap grew cannot be
 * known from outside (they share one process, and a worker stuck in an allocation loop answers
 * no message), but in its own process the hog fails "out of memory" and the others finish.
 *
 * @module
 */

/** How often the guard reads the process's memory, in milliseconds. */
export const GUARD_CHECK_MS = 100;

/** Options of {@link MemoryGuard}. */
export interface MemoryGuardOptions {
  /** Bytes of resident memory of this process past which `onExceeded` is called. */
  limit: number;
  /** Called once each time the memory passes the limit (again only after it fell below). */
  onExceeded: (rss: number) => void;
  /** Reads the process's resident memory in bytes (default `process.memoryUsage.rss()`). */
  read?: () => number;
}

/** Watches this process's memory while started; see the module doc. */
export class MemoryGuard {
  readonly #limit: number;
  readonly #onExceeded: (rss: number) => void;
  readonly #read: () => number;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** Whether the memory was past the limit at the last reading (no second call until below). */
  #over = false;

  constructor(options: MemoryGuardOptions) {
    const { limit, onExceeded, read = () => process.memoryUsage.rss() } = options;
    if (!Number.isFinite(limit) || limit <= 0) {
      throw new RangeError(`the memory guard's limit must be a positive number, got ${limit}`);
    }
    this.#limit = limit;
    this.#onExceeded = onExceeded;
    this.#read = read;
  }

  /** The limit in bytes. */
  get limit(): number {
    return this.#limit;
  }

  /** Starts reading (a started guard stays started). */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.check(), GUARD_CHECK_MS);
    // The guard alone must not keep ays running.
    (this.#timer as { unref?: () => void }).unref?.();
  }

  /** Stops reading. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One reading: calls `onExceeded` when the memory just passed the limit. */
  check(): void {
    const rss = this.#read();
    const over = rss > this.#limit;
    const passed = over && !this.#over;
    this.#over = over;
    if (passed) this.#onExceeded(rss);
  }
}
