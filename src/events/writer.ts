/**
 * The publisher of a repository's events (docs/events.md, "One stream"): stamps each event
 * with its time and repository, stores them in batches in the background — one append in
 * flight, what comes meanwhile goes into the next — and then hands them, with the ids the
 * store gave, to the in-process {@link EventBus}. Publishing never waits for the store, so the
 * run engine is not slowed by its views.
 *
 * @module
 */
import { REAL_TIMERS, type Timers } from "../timers.ts";
import type { EventBus } from "./bus.ts";
import type { EventLog } from "./event_log.ts";
import type { AysEvent, EventBody, EventDraft, EventSink } from "./types.ts";

/**
 * Events per store append at most: ~2,000 × ~160 bytes, ~320 KB in one SQLite transaction or
 * Redis script call. A busy run publishes up to ~1,600 in one spacing (four events per job at
 * 4,000 jobs/s); at 500 a run of 2,000 no-op jobs still took 16 appends.
 */
export const MAX_EVENTS_PER_APPEND = 2_000;

/**
 * Characters of events per append, as {@link draftSize} counts them, past which an append takes
 * no more: log events carry what a job printed, and 2,000 of them could be megabytes in one
 * transaction, one script call and one burst to each live view. Well below a live view's bound of
 * 1 MiB unread (`src/daemon/events_route.ts`), which a burst is written in one go against: the
 * JSON of a line can be longer than the line (a control character takes six).
 */
export const MAX_BYTES_PER_APPEND = 512 * 1024;

/**
 * About how many characters an event takes stored: its log lines (the only part without a
 * bound, each with its quotes and comma) plus what every event holds (ids, names, time: ~160
 * characters of JSON for a job's start or end).
 */
function draftSize(draft: EventDraft): number {
  let size = 160;
  const lines = (draft as { lines?: unknown }).lines;
  if (Array.isArray(lines)) { for (const line of lines) size += String(line).length + 8; }
  return size;
}

/** Whether `value` is a finite number ≥ 0. */
function isDelay(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}

/** Options of {@link EventWriter}. */
export interface EventWriterOptions {
  /** Where stored events go in this process. */
  bus?: EventBus;
  /** Clock of the events' times (default `Date.now`). */
  now?: () => number;
  /** A failed append (its events are lost to the views; the records stay the truth). */
  onError?: (error: unknown) => void;
  /**
   * How long events gather before they are stored, in ms; default 10. One append per window
   * instead of one per event keeps the store's work (a transaction, a round trip) off the
   * run's path; {@link EventWriter.flush} does not wait for it.
   */
  gatherMs?: number;
  /**
   * The least time between the starts of two appends, in ms; default 100. While events keep
   * coming — a run of short jobs publishes four per job, thousands a second — they go in one
   * append per spacing instead of one per gather window: on Redis each append is a script call
   * that holds up the run's thread for the server's time (docs/benchmarks.md, "Run path,
   * seventh pass"). An event after a quiet spell still goes after `gatherMs`; a whole append's
   * worth waiting ({@link MAX_EVENTS_PER_APPEND}, {@link MAX_BYTES_PER_APPEND}) goes at once;
   * {@link EventWriter.flush} does not wait for it.
   */
  spacingMs?: number;
  /**
   * The clock the spacing is measured on, in ms: a monotonic one (default `performance.now`),
   * so that the wall clock stepping back does not hold the events up.
   */
  monotonic?: () => number;
  /**
   * The timers that wait for the gather window and the spacing (default the runtime's). Their
   * `set` must call back later, never from within `set`.
   */
  timers?: Timers;
}

/** Stores and emits a repository's events. */
export class EventWriter implements EventSink {
  readonly #log: EventLog;
  readonly #bus: EventBus | undefined;
  readonly #now: () => number;
  readonly #onError: (error: unknown) => void;
  readonly #gatherMs: number;
  readonly #spacingMs: number;
  readonly #monotonic: () => number;
  readonly #timers: Timers;
  #queue: EventDraft[] = [];
  /** {@link draftSize} of each queued event, taken when it was queued, and their sum. */
  #sizes: number[] = [];
  #queuedBytes = 0;
  #writing: Promise<void> | null = null;
  #timer: unknown = null;
  /** The delay the armed timer was set with. */
  #timerMs = 0;
  /** When the last append started (the monotonic clock). */
  #lastAppend = -Infinity;

  constructor(log: EventLog, options: EventWriterOptions = {}) {
    const {
      bus,
      now = Date.now,
      onError = () => {},
      gatherMs = 10,
      spacingMs = 100,
      monotonic = () => performance.now(),
      timers = REAL_TIMERS,
    } = options;
    if (!isDelay(gatherMs)) {
      throw new RangeError(`gatherMs must be a finite number ≥ 0, not ${gatherMs}`);
    }
    if (!isDelay(spacingMs)) {
      throw new RangeError(`spacingMs must be a finite number ≥ 0, not ${spacingMs}`);
    }
    this.#log = log;
    this.#bus = bus;
    this.#now = now;
    this.#onError = onError;
    this.#gatherMs = gatherMs;
    this.#spacingMs = spacingMs;
    this.#monotonic = monotonic;
    this.#timers = timers;
  }

  /** The repository the events are of. */
  get repo(): string {
    return this.#log.repo;
  }

  /** Queues one event; it is stored and emitted soon after (never within this call). */
  publish(event: EventBody): void {
    const draft = {
      ...event,
      time: new Date(this.#now()).toISOString(),
      repo: this.#log.repo,
    } as EventDraft;
    const size = draftSize(draft);
    this.#queue.push(draft);
    this.#sizes.push(size);
    this.#queuedBytes += size;
    this.#schedule();
  }

  /** Resolves when every event published so far is stored and emitted. */
  async flush(): Promise<void> {
    while (this.#writing || this.#queue.length > 0) {
      // The end of an append in flight may have armed the spacing's timer: not waited for here.
      this.#cancelTimer();
      this.#kick();
      await this.#writing;
    }
  }

  /**
   * Arms the timer of the next append: the gather window, or what is left of the spacing since
   * the last append began, whichever is longer — at once when a whole append's worth waits;
   * none while an append is in flight (its end schedules the next).
   */
  #schedule(): void {
    if (this.#writing || this.#queue.length === 0) return;
    const full = this.#queue.length >= MAX_EVENTS_PER_APPEND ||
      this.#queuedBytes >= MAX_BYTES_PER_APPEND;
    if (this.#timer !== null) {
      if (!full || this.#timerMs === 0) return;
      this.#cancelTimer();
    }
    const left = this.#lastAppend + this.#spacingMs - this.#monotonic();
    const wait = full ? 0 : Math.max(this.#gatherMs, Math.min(this.#spacingMs, left));
    this.#timerMs = wait;
    this.#timer = this.#timers.set(() => {
      this.#timer = null;
      this.#kick();
    }, wait);
  }

  #cancelTimer(): void {
    if (this.#timer === null) return;
    this.#timers.clear(this.#timer);
    this.#timer = null;
  }

  /** Starts one append of the oldest events, up to a whole append's worth. */
  #kick(): void {
    if (this.#writing || this.#queue.length === 0) return;
    this.#lastAppend = this.#monotonic();
    // The oldest first, as many as fit (always one, however large).
    let count = 0;
    let bytes = 0;
    while (
      count < this.#queue.length && count < MAX_EVENTS_PER_APPEND &&
      (count === 0 || bytes + this.#sizes[count] <= MAX_BYTES_PER_APPEND)
    ) {
      bytes += this.#sizes[count++];
    }
    const drafts = this.#queue.splice(0, count);
    this.#sizes.splice(0, count);
    this.#queuedBytes = this.#queue.length === 0 ? 0 : this.#queuedBytes - bytes;
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
      this.#schedule();
    });
  }
}
