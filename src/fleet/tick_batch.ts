/**
 * What many callers hand in during one turn of the event loop, sent as one batch: the fleet's
 * coordinator adds the jobs that become ready together with one Redis round trip instead of one
 * each (docs/fleet.md, "Speed").
 *
 * @module
 */
import { setImmediate } from "node:timers";

/** Options of {@link TickBatch}. */
export interface TickBatchOptions {
  /** The most items one batch holds (default 1000); more go in further batches. */
  max?: number;
}

interface Entry<T> {
  item: T;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Collects items until the current turn of the event loop ends, then sends them with one call
 * of `send`; each {@link TickBatch.add} resolves when its batch was sent, or rejects with the
 * batch's error.
 */
export class TickBatch<T> {
  readonly #send: (items: T[]) => Promise<void>;
  readonly #max: number;
  #entries: Entry<T>[] = [];
  #scheduled = false;

  constructor(send: (items: T[]) => Promise<void>, options: TickBatchOptions = {}) {
    const { max = 1000 } = options;
    if (typeof send !== "function") throw new TypeError("TickBatch: send must be a function");
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(`TickBatch: max must be a whole number of at least 1, not ${max}`);
    }
    this.#send = send;
    this.#max = max;
  }

  /** Adds `item` to the batch of this turn; resolves once that batch was sent. */
  add(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#entries.push({ item, resolve, reject });
      if (this.#scheduled) return;
      this.#scheduled = true;
      // After the microtasks of this turn: every caller that got this far is in the batch.
      setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const entries = this.#entries;
    this.#entries = [];
    for (let i = 0; i < entries.length; i += this.#max) {
      const part = entries.slice(i, i + this.#max);
      let sent: Promise<void>;
      try {
        sent = this.#send(part.map((e) => e.item));
      } catch (error) {
        sent = Promise.reject(error);
      }
      sent.then(
        () => part.forEach((e) => e.resolve()),
        (error) => part.forEach((e) => e.reject(error)),
      );
    }
  }
}
