/**
 * A clock for scheduler tests: `now()` and one-shot timers that fire only when the test
 * advances the clock, in due order, so a test asserts exact times instead of counting ticks
 * of real time.
 *
 * @module
 */
import type { Timers } from "../../src/timers.ts";

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

/** Lets promise callbacks and the I/O they start settle (a real turn of the event loop). */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** A fake clock starting at `start` (epoch ms). */
export class FakeClock {
  #now: number;
  #nextId = 0;
  readonly #timers = new Map<number, Timer>();

  constructor(start = 1_000_000) {
    this.#now = start;
  }

  /** The fake time. */
  readonly now = (): number => this.#now;

  /** Timers on this clock, for `startRecurring({ timers })`. */
  readonly timers: Timers = {
    set: (fn, ms) => {
      const id = ++this.#nextId;
      this.#timers.set(id, { id, at: this.#now + Math.max(0, ms), fn });
      return id;
    },
    clear: (handle) => void this.#timers.delete(handle as number),
  };

  /** Resolves when the clock has been advanced by `ms`. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.timers.set(resolve, ms));
  }

  /** Moves the time forward by `ms`, firing each timer due on the way at its own time. */
  async advance(ms: number): Promise<void> {
    const until = this.#now + ms;
    await settle();
    for (;;) {
      let next: Timer | undefined;
      for (const timer of this.#timers.values()) {
        if (
          timer.at <= until &&
          (!next || timer.at < next.at || (timer.at === next.at && timer.id < next.id))
        ) {
          next = timer;
        }
      }
      if (!next) break;
      this.#timers.delete(next.id);
      this.#now = Math.max(this.#now, next.at);
      next.fn();
      await settle();
    }
    this.#now = until;
    await settle();
  }
}
