/**
 * The event stream of one repository in this process, put together: its stored log, the
 * in-process bus and the writer that stores then emits (docs/events.md, "One stream").
 *
 * @module
 */
import type { EventStore } from "../store/mod.ts";
import { EventBus } from "./bus.ts";
import { EventLog } from "./event_log.ts";
import { EventWriter } from "./writer.ts";

/** A repository's log, bus and writer. */
export interface RepoEvents {
  log: EventLog;
  bus: EventBus;
  writer: EventWriter;
}

/** Options of {@link openRepoEvents}. */
export interface OpenRepoEventsOptions {
  /** The repository's name. */
  repo: string;
  /** Events kept; default `EVENT_LOG_CAP`. */
  cap?: number;
  /** Clock (default `Date.now`). */
  now?: () => number;
  /** A failed append (see `EventWriterOptions.onError`). */
  onError?: (error: unknown) => void;
}

/** The stream of the repository whose store is `store`. */
export function openRepoEvents(store: EventStore, options: OpenRepoEventsOptions): RepoEvents {
  const { repo, cap, now, onError } = options;
  const log = new EventLog(store, { repo, cap });
  const bus = new EventBus();
  return { log, bus, writer: new EventWriter(log, { bus, now, onError }) };
}
