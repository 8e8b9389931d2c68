/**
 * One-shot timers that fire only when the test says so, for code that takes its timers (a
 * worker pool's job timeouts): a test checks what must hold while the timer is armed, then fires
 * it, instead of racing a real delay it cannot promise on a loaded machine.
 *
 * @module
 */
import type { Timers } from "../../src/timers.ts";

/** A timer armed on {@link ManualTimers}. */
export interface ManualTimer {
  /** The delay it was armed with (ms). */
  ms: number;
  fn: () => void;
}

/** Timers that fire on {@link ManualTimers.fire}; `timers` is what the code under test takes. */
export class ManualTimers {
  readonly #armed = new Map<number, ManualTimer>();
  #nextId = 0;

  /** The `{ set, clear }` the code under test arms and cancels. */
  readonly timers: Timers = {
    set: (fn: () => void, ms: number): unknown => {
      const id = ++this.#nextId;
      this.#armed.set(id, { ms, fn });
      return id;
    },
    clear: (handle: unknown): void => void this.#armed.delete(handle as number),
  };

  /** The timers armed and neither fired nor cleared, in the order they were armed. */
  armed(): ManualTimer[] {
    return [...this.#armed.values()];
  }

  /** Fires every armed timer once, in the order they were armed; returns how many. */
  fire(): number {
    const due = [...this.#armed.entries()];
    this.#armed.clear();
    for (const [, timer] of due) timer.fn();
    return due.length;
  }
}
