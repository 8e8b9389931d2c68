/**
 * A repository's stored event log (docs/events.md, "Stored events"): events as JSON over the
 * store's event capability, which assigns the ids. Bounded by a cap, and pruned with runs.
 *
 * @module
 */
import type { EventStore } from "../store/mod.ts";
import type { AysEvent, EventDraft } from "./types.ts";

/** Events kept per repository unless configured otherwise. */
export const EVENT_LOG_CAP = 100_000;

/** Options of {@link EventLog}. */
export interface EventLogOptions {
  /** The repository's name (the `repo` of every event). */
  repo: string;
  /** Keep at most this many events; default {@link EVENT_LOG_CAP}. */
  cap?: number;
}

/** Options of {@link EventLog.since}. */
export interface SinceOptions {
  /** At most this many; default 1000. */
  limit?: number;
}

/** The stored events of one repository. */
export class EventLog {
  readonly #store: EventStore;
  readonly repo: string;
  readonly #cap: number;

  constructor(store: EventStore, options: EventLogOptions) {
    const { repo, cap = EVENT_LOG_CAP } = options;
    if (!Number.isInteger(cap) || cap < 1) {
      throw new RangeError(`the event log cap must be a whole number ≥ 1, not ${cap}`);
    }
    this.#store = store;
    this.repo = repo;
    this.#cap = cap;
  }

  /** Stores drafts in one atomic step and returns them as events, with their ids. */
  async append(drafts: readonly EventDraft[]): Promise<AysEvent[]> {
    if (drafts.length === 0) return [];
    // The id is the store's to give; it is put back in front when events are read.
    const first = await this.#store.appendEvents(
      drafts.map((draft) => JSON.stringify(draft)),
      { maxEvents: this.#cap },
    );
    return drafts.map((draft, i) => ({ id: first + i, ...draft }) as AysEvent);
  }

  /** The events after id `after` (0: from the oldest kept), oldest first. */
  async since(after: number, options: SinceOptions = {}): Promise<AysEvent[]> {
    const { limit = 1000 } = options;
    const stored = await this.#store.readEvents(after, { limit });
    const events: AysEvent[] = [];
    for (const { id, data } of stored) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(data);
      } catch {
        // Not one of ours (or damaged): a view must go on past it.
        continue;
      }
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) continue;
      events.push({ id, ...parsed, repo: this.repo } as AysEvent);
    }
    return events;
  }

  /** The id of the last event ever stored (0: none). */
  lastId(): Promise<number> {
    return this.#store.lastEventId();
  }

  /** Deletes the events with an id below `before`; returns how many went. */
  prune(before: number): Promise<number> {
    return this.#store.pruneEvents(before);
  }

  /**
   * Deletes the events older than `time` (epoch ms), e.g. those of runs that were pruned:
   * events are in time order, so everything before the first one at or after `time` goes.
   */
  async pruneBefore(time: number): Promise<number> {
    let after = 0;
    for (;;) {
      const batch = await this.#store.readEvents(after, { limit: 1000 });
      if (batch.length === 0) return this.prune(after + 1);
      for (const { id, data } of batch) {
        // An entry without a time (not one of ours) goes with the old ones.
        const at = Date.parse(timeOf(data));
        if (at >= time) return this.prune(id);
        after = id;
      }
    }
  }
}

function timeOf(data: string): string {
  try {
    const parsed = JSON.parse(data) as { time?: unknown };
    return typeof parsed?.time === "string" ? parsed.time : "";
  } catch {
    return "";
  }
}
