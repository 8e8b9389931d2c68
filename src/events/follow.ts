/**
 * Following a repository's stored events as they come (docs/events.md, "Reading the
 * stream"): reads the log after a cursor, then waits — until the poll interval passes, or
 * sooner when an in-process {@link EventBus} says something was stored — and reads again.
 * Events written by other processes (an `ays run` beside a daemon) arrive by the polling,
 * those of this process at once. `ays watch` and the daemon's `GET /events` both follow this
 * way; {@link EventTail} shares one follower between many listeners.
 *
 * @module
 */
import type { EventBus, EventListener } from "./bus.ts";
import type { EventLog } from "./event_log.ts";
import type { AysEvent } from "./types.ts";

/** Options of {@link followEvents}. */
export interface FollowOptions {
  /** Start after this id; default: the last stored now (only new events). */
  after?: number;
  /** Read again after this long without news; default 250 ms. */
  pollMs?: number;
  /** Wakes the follower early when this process stored events. */
  bus?: EventBus;
  /** Ends the iteration. */
  signal?: AbortSignal;
}

/** The events of `log` after the cursor, forever (or until `signal`), in id order. */
export async function* followEvents(
  log: EventLog,
  options: FollowOptions = {},
): AsyncGenerator<AysEvent, void, undefined> {
  const { pollMs = 250, bus, signal } = options;
  let after = options.after ?? await log.lastId();
  let wake: (() => void) | null = null;
  let news = false;
  const poke = () => {
    news = true;
    wake?.();
  };
  const unsubscribe = bus?.subscribe(poke);
  signal?.addEventListener("abort", poke);
  try {
    while (!signal?.aborted) {
      news = false;
      const batch = await log.since(after);
      for (const event of batch) {
        if (signal?.aborted) return;
        after = event.id;
        yield event;
      }
      // A full batch: there is more to read at once.
      if (batch.length >= 1000 || news) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
  } finally {
    unsubscribe?.();
    signal?.removeEventListener("abort", poke);
  }
}

/** Options of {@link EventTail}. */
export interface EventTailOptions {
  /** See {@link FollowOptions.pollMs}. */
  pollMs?: number;
  /**
   * This process's events: handed on as they come when they follow the last one without a
   * gap, instead of being read back from the store; a gap (another process stored events
   * in between) is filled from the store at once.
   */
  bus?: EventBus;
  /** A read of the log failed (the tail tries again after the poll interval). */
  onError?: (error: unknown) => void;
}

/**
 * One follower of a log shared by many listeners (the daemon's SSE clients): the log is read
 * once per change, whatever the number of clients, and this process's own events are not
 * read back at all.
 */
export class EventTail {
  readonly #log: EventLog;
  readonly #options: EventTailOptions;
  readonly #listeners = new Set<EventListener>();
  readonly #stop = new AbortController();
  readonly #waiters = new Set<(force?: boolean) => void>();
  #last = 0;
  #running: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #poked = false;
  #unsubscribe: (() => void) | null = null;

  constructor(log: EventLog, options: EventTailOptions = {}) {
    this.#log = log;
    this.#options = options;
  }

  /** The repository followed. */
  get repo(): string {
    return this.#log.repo;
  }

  /** The id of the last event handed to the listeners (or the start cursor). */
  get lastId(): number {
    return this.#last;
  }

  /** Reads the current end of the log and follows from there. */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#last = await this.#log.lastId();
    this.#unsubscribe = this.#options.bus?.subscribe((event) => {
      if (event.repo !== this.#log.repo) return;
      if (event.id === this.#last + 1) this.#deliver(event);
      else if (event.id > this.#last) this.#poke();
    }) ?? null;
    this.#running = this.#loop();
  }

  /** Adds a listener of the events after {@link lastId}; returns its removal. */
  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /**
   * Resolves once the listeners were handed every event up to `id` (at once when they were),
   * or after `timeoutMs` (default 1000) — e.g. so that clients get the daemon's last event
   * before it stops.
   */
  reached(id: number, options: { timeoutMs?: number } = {}): Promise<void> {
    const { timeoutMs = 1000 } = options;
    if (this.#last >= id || this.#stop.signal.aborted) return Promise.resolve();
    this.#poke();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const check = (force?: boolean) => {
        if (force || this.#last >= id) done();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#waiters.add(check);
    });
  }

  /** Stops following. */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#unsubscribe?.();
    this.#poke();
    await this.#running;
    for (const waiter of [...this.#waiters]) waiter(true);
  }

  #poke(): void {
    this.#poked = true;
    this.#wake?.();
  }

  #deliver(event: AysEvent): void {
    if (event.id <= this.#last) return;
    this.#last = event.id;
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch {
        // One client's failure is not the others'.
      }
    }
    for (const waiter of [...this.#waiters]) waiter();
  }

  async #loop(): Promise<void> {
    const { pollMs = 250, onError } = this.#options;
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      this.#poked = false;
      let full = false;
      try {
        const batch = await this.#log.since(this.#last);
        for (const event of batch) this.#deliver(event);
        full = batch.length >= 1000;
      } catch (error) {
        onError?.(error);
      }
      if (full || this.#poked || signal.aborted) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = null;
    }
  }
}
