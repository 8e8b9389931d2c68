/**
 * The typed events of a repository (docs/events.md): what the run engine, the daemon and the
 * fleet publish, and what every view — the terminal, `ays run --events`, `ays watch`, the
 * daemon's `GET /events` and the dashboard — reads. The shapes are the documented contract:
 * fields are only ever added.
 *
 * @module
 */

/** The job and run states an event can carry (those of the records). */
export type EventJobState = "new" | "running" | "ok" | "error" | "skipped" | "cancelled";

/** Fields every event has. */
export interface EventBase {
  /** Increases by one per event of the repository; never reused, also after pruning. */
  id: number;
  /** ISO 8601 of when it happened. */
  time: string;
  /** The repository's name. */
  repo: string;
}

/** A run began executing. */
export interface RunStartedEvent extends EventBase {
  type: "run.started";
  runId: string;
  /** The action of `ays do ACTION` or of a queued request naming one. */
  action?: string;
  /** How many jobs the run has. */
  jobs: number;
}

/** A run ended; always the last event of a run. */
export interface RunEndedEvent extends EventBase {
  type: "run.ended";
  runId: string;
  /** `ok`, `error` or `cancelled`. */
  state: string;
  /** What `ays run` exits with for this run: 0 ok, 1 failed, 130 cancelled. */
  exitCode: number;
  /** Jobs by final state, e.g. `{ok: 9, error: 1}`. */
  counts: Record<string, number>;
}

/** A job started (its first attempt). */
export interface JobStartedEvent extends EventBase {
  type: "job.started";
  runId: string;
  jobId: string;
  /** `actor!instance`. */
  service: string;
  action: string;
  attempt: number;
  /** The fleet worker running it; absent for the local pool. */
  worker?: string;
}

/** Lines a job wrote to its log (secrets already masked). */
export interface JobLogEvent extends EventBase {
  type: "job.log";
  runId: string;
  jobId: string;
  lines: string[];
}

/** An attempt of a job failed and the job will be tried again. */
export interface JobRetryEvent extends EventBase {
  type: "job.retry";
  runId: string;
  jobId: string;
  /** The attempt that comes next. */
  attempt: number;
  /** The failed attempt's error message. */
  error: string;
}

/** A job ended: `ok`, `error`, `skipped` or `cancelled`. */
export interface JobEndedEvent extends EventBase {
  type: "job.ended";
  runId: string;
  jobId: string;
  service: string;
  action: string;
  state: string;
  /** Why it did not succeed. */
  error?: string;
  /** From its start to its end; 0 for a job that never started. */
  durationMs: number;
}

/** An action of a service changed state. */
export interface ServiceStateEvent extends EventBase {
  type: "service.state";
  service: string;
  action: string;
  state: string;
}

/** A recurring action's job (run by the daemon) ended. */
export interface RecurringEndedEvent extends EventBase {
  type: "recurring.ended";
  service: string;
  action: string;
  state: string;
  error?: string;
  jobId: string;
}

/** A daemon began serving the repository. */
export interface DaemonStartedEvent extends EventBase {
  type: "daemon.started";
  /** `host:pid` of the daemon. */
  daemon?: string;
  /** Where its HTTP API listens. */
  address?: string;
}

/** A daemon stopped serving the repository. */
export interface DaemonStoppedEvent extends EventBase {
  type: "daemon.stopped";
  daemon?: string;
}

/** A fleet worker joined. */
export interface WorkerJoinedEvent extends EventBase {
  type: "worker.joined";
  worker: string;
  /** Its host name, labels (`default` included) and concurrency, as it registered. */
  host?: string;
  labels?: string[];
  concurrency?: number;
}

/** A fleet worker left (stopped, or stopped answering). */
export interface WorkerLeftEvent extends EventBase {
  type: "worker.left";
  worker: string;
  /** `stopped`: it left the fleet; `gone`: its heartbeat is older than 15 s (docs/fleet.md). */
  reason?: "stopped" | "gone";
}

/** Every event of a repository's stream. */
export type AysEvent =
  | RunStartedEvent
  | RunEndedEvent
  | JobStartedEvent
  | JobLogEvent
  | JobRetryEvent
  | JobEndedEvent
  | ServiceStateEvent
  | RecurringEndedEvent
  | DaemonStartedEvent
  | DaemonStoppedEvent
  | WorkerJoinedEvent
  | WorkerLeftEvent;

/** The type names, e.g. `job.ended`. */
export type EventType = AysEvent["type"];

/** Every type name, in the order docs/events.md lists them. */
export const EVENT_TYPES: readonly EventType[] = [
  "run.started",
  "run.ended",
  "job.started",
  "job.log",
  "job.retry",
  "job.ended",
  "service.state",
  "recurring.ended",
  "daemon.started",
  "daemon.stopped",
  "worker.joined",
  "worker.left",
];

type Without<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An event as a publisher gives it: the store assigns the id, the publisher stamps the rest. */
export type EventBody = Without<AysEvent, keyof EventBase>;

/** An event stamped with its time and repository, waiting for its id. */
export type EventDraft = Without<AysEvent, "id">;

/** Where the core publishes events: the run engine and the daemon take one of these. */
export interface EventSink {
  /** Takes one event; never throws and never waits (storing happens in the background). */
  publish(event: EventBody): void;
}

/** The exit code a run's final state means (docs/cli.md, "Exit codes"). */
export function runExitCode(state: string): number {
  if (state === "ok") return 0;
  if (state === "cancelled") return 130;
  return 1;
}
