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
}

/** Stores and emits a repository's events. */
export class EventWriter implements EventSink {
  readonly #log: EventLog;
  readonly #bus: EventBus | undefined;
  readonly #now: () => number;
  readonly #onError: (error: unknown) => void;
  #queue: EventDraft[] = [];
  #writing: Promise<void> | null = null;

  constructor(log: EventLog, options: EventWriterOptions = {}) {
    const { bus, now = Date.now, onError = () => {} } = options;
    this.#log = log;
    this.#bus = bus;
    this.#now = now;
    this.#onError = onError;
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
    this.#kick();
  }

  /** Resolves when every event published so far is stored and emitted. */
  async flush(): Promise<void> {
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
