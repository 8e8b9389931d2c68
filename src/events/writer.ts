/**
 * The publisher of a repository's events (docs/events.md, "One stream"): stamps each event
 * with its time and repository, stores them in batches in the background — one append in
 * flight, what comes meanwhile goes into the next — and then hands them, with the ids the
 * store gave, to the in-process {@link EventBus}. Publishing never waits for the store, so the
 * run engine is not slowed by its views.
 *
 * @module
 */
import type { EventBus } from "./bus.ts";
import type { EventLog } from "./event_log.ts";
import type { AysEvent, EventBody, EventDraft, EventSink } from "./types.ts";

/** Events per store append at most. */
const BATCH = 500;

/** Options of {@link EventWriter}. */
export interface EventWriterOptions {
  /** Where stored events go in this process. */
  bus?: EventBus;
  /** Clock (default `Date.now`). */
  now?: () => number;
  /** A failed append (its events are lost to the views; the records stay the truth). */
  onError?: (error: unknown) => void;
  /**
   * How long events gather before they are stored, in ms; default 10. One append per window
   * instead of one per event keeps the store's work (a transaction, a round trip) off the
   * run's path; {@link EventWriter.flush} does not wait for it.
   */
  gatherMs?: number;
}

/** Stores and emits a repository's events. */
export class EventWriter implements EventSink {
  readonly #log: EventLog;
  readonly #bus: EventBus | undefined;
  readonly #now: () => number;
  readonly #onError: (error: unknown) => void;
  readonly #gatherMs: number;
  #queue: EventDraft[] = [];
  #writing: Promise<void> | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(log: EventLog, options: EventWriterOptions = {}) {
    const { bus, now = Date.now, onError = () => {}, gatherMs = 10 } = options;
    if (!(gatherMs >= 0)) throw new RangeError(`gatherMs must be ≥ 0, not ${gatherMs}`);
    this.#log = log;
    this.#bus = bus;
    this.#now = now;
    this.#onError = onError;
    this.#gatherMs = gatherMs;
  }

  /** The repository the events are of. */
  get repo(): string {
    return this.#log.repo;
  }

  /** Queues one event; it is stored and emitted soon after. */
  publish(event: EventBody): void {
    this.#queue.push(
      { ...event, time: new Date(this.#now()).toISOString(), repo: this.#log.repo } as EventDraft,
    );
    this.#timer ??= setTimeout(() => {
      this.#timer = null;
      this.#kick();
    }, this.#gatherMs);
  }

  /** Resolves when every event published so far is stored and emitted. */
  async flush(): Promise<void> {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    while (this.#writing || this.#queue.length > 0) {
      this.#kick();
      await this.#writing;
    }
  }

  #kick(): void {
    if (this.#writing || this.#queue.length === 0) return;
    const drafts = this.#queue.splice(0, BATCH);
    this.#writing = (async () => {
      let stored: AysEvent[] = [];
      try {
        stored = await this.#log.append(drafts);
      } catch (error) {
        this.#onError(error);
      }
      for (const event of stored) this.#bus?.emit(event);
    })().finally(() => {
      this.#writing = null;
      this.#kick();
    });
  }
}
