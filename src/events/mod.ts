/**
 * The event model (docs/events.md): typed events, their stored and bounded log per
 * repository, the in-process emitter and the publisher the run engine and the daemon write
 * through, and the followers every view reads with. All views are views of this one stream.
 *
 * @module
 */
export {
  type AysEvent,
  type DaemonStartedEvent,
  type DaemonStoppedEvent,
  EVENT_TYPES,
  type EventBase,
  type EventBody,
  type EventDraft,
  type EventJobState,
  type EventSink,
  type EventType,
  type JobEndedEvent,
  type JobLogEvent,
  type JobRetryEvent,
  type JobStartedEvent,
  type RecurringEndedEvent,
  type RunEndedEvent,
  runExitCode,
  type RunStartedEvent,
  type ServiceStateEvent,
  type WorkerJoinedEvent,
  type WorkerLeftEvent,
} from "./types.ts";
export { EVENT_LOG_CAP, EventLog, type EventLogOptions, type SinceOptions } from "./event_log.ts";
export { EventBus, type EventListener } from "./bus.ts";
export { EventWriter, type EventWriterOptions } from "./writer.ts";
export { EventTail, type EventTailOptions, followEvents, type FollowOptions } from "./follow.ts";
export { openRepoEvents, type OpenRepoEventsOptions, type RepoEvents } from "./repo_events.ts";
export { findRunStart, type FindRunStartOptions, isRunEvent } from "./run_stream.ts";
