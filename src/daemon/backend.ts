/**
 * What the daemon needs from the rest of ays, as small interfaces: the daemon itself knows
 * nothing of the store or the run engine, so it can be tested with an in-memory double and the
 * CLI layer wires it to the real store (docs/daemon.md).
 *
 * @module
 */
import type { ServiceRecord } from "../model/mod.ts";
import type { JobFilter } from "../run/mod.ts";

/** The body of `POST /repos/{name}/runs` and of `ays run --queue`: the filters of the run. */
export interface RunRequest {
  /** Run only this action (scheduled for the matching services first, like `ays do`). */
  action?: string;
  /** `-r/--role`: a role or a full actor name. */
  role?: string;
  /** `-i/--instance`: a regex matched against the whole instance name. */
  instance?: string;
  /** `--parallel N`. */
  parallel?: number;
}

/** A run request as it sits in a repository's queue. */
export interface QueuedRequest extends RunRequest {
  /** The repository (its name) the run is for. */
  repo: string;
  /** Epoch milliseconds when it was queued. */
  queuedAt: number;
  /** Who queued it: `cli` or `http`. */
  source: "cli" | "http";
}

/**
 * The read side and the queueing of the HTTP API. Bodies are the JSON the CLI prints with
 * `--json`, so the API and the CLI cannot drift apart: the implementation produces them with
 * the same functions the commands use.
 */
export interface DaemonBackend {
  /** `ays repos --json`: the repositories this daemon serves. */
  repos(): Promise<unknown[]>;
  /** Whether the daemon serves a repository of that name. */
  hasRepo(repo: string): Promise<boolean>;
  /** `ays list --json` of a served repository. */
  services(repo: string): Promise<unknown[]>;
  /** `ays show ROLE!INSTANCE --json`, or null when there is no such service. */
  service(repo: string, name: { role: string; instance: string }): Promise<unknown | null>;
  /** `ays runs --json` of a served repository. */
  runs(repo: string): Promise<unknown[]>;
  /** `ays run show ID --json` (any served repository), or null when there is no such run. */
  run(id: string): Promise<unknown | null>;
  /**
   * `ays jobs --json` of a served repository (`GET /repos/{name}/jobs`); a bad filter is an
   * `InputError`. A backend without it answers that path with 404.
   */
  jobs?(repo: string, filter: JobFilter): Promise<unknown[]>;
  /**
   * Puts a request into the repository's reliable queue and returns its id. The run that
   * executes it should carry the same id, so `GET /runs/{id}` finds it once it started.
   */
  queueRun(repo: string, request: RunRequest): Promise<string>;
}

/** One request taken from a queue: leased to the consumer until acknowledged. */
export interface QueueItem {
  /** The request id ({@link DaemonBackend.queueRun}'s answer). */
  id: string;
  request: QueuedRequest;
  /** Removes the item for good; called only after the run record is final. */
  ack(): Promise<void>;
  /** Extends the lease while a long run executes; called every `leaseRenewMs`. */
  renew?(): Promise<void>;
  /** Gives the item back at once (the daemon stops before starting it). */
  release?(): Promise<void>;
}

/** Options of {@link RunQueue.pop}. */
export interface PopOptions {
  /**
   * How long it may block waiting for an item before answering null. Answering null at once
   * is fine too (the consumer then polls).
   */
  timeoutMs: number;
}

/**
 * A repository's reliable queue of run requests. An item that was popped but not acknowledged
 * (its consumer was killed) is delivered again once its lease runs out, so delivery is at least
 * once and the executor must recognise a request it already finished.
 */
export interface RunQueue {
  /** The next item, leased to `consumerId`, or null after `timeoutMs` without one. */
  pop(consumerId: string, options: PopOptions): Promise<QueueItem | null>;
}

/** A service the recurring scheduler looks at, with the repository it belongs to. */
export interface RecurringTarget {
  /** Repository name. */
  repo: string;
  service: ServiceRecord;
}

/** When the scheduler started a recurring action, for the callback and for measurements. */
export interface RecurringStartInfo {
  /** Epoch milliseconds when the action was due. */
  dueAt: number;
  /** Epoch milliseconds when it was started (`startedAt - dueAt` is the lateness). */
  startedAt: number;
  /** Aborted when the daemon stops: no new work, finish or give up within the timeout. */
  signal: AbortSignal;
}

/**
 * Runs one recurring action as a job of its own: records the job, sets the action `running`,
 * saves `lastRun = info.startedAt`, executes, and leaves the action `ok` or `error`. It must not
 * take the repository's run lock nor schedule prerequisites (docs/daemon.md, "Recurring actions"). Resolves when the job
 * record is final; a rejection is logged and counts as a finished attempt.
 */
export type RunRecurring = (
  target: RecurringTarget,
  action: string,
  info: RecurringStartInfo,
) => Promise<void>;

/** Loads every service of every served repository (one bulk query per repository). */
export type LoadServices = () => Promise<RecurringTarget[]>;

/** Options given to {@link ExecuteQueuedRun}. */
export interface ExecuteOptions {
  /** Aborted when the daemon stops: start no new jobs, let running ones finish or time out. */
  signal: AbortSignal;
}

/**
 * Plans and executes one queued run (with the request id as run id) and resolves when the run
 * record is final, whatever the run's outcome. A request that was already executed (delivered
 * again after a crash) must not run twice: resume the recorded run if it is not final, or just
 * resolve if it is. An `InputError` (the request can never succeed) is logged and the item
 * acknowledged; any other rejection leaves the item to be delivered again.
 */
export type ExecuteQueuedRun = (item: QueueItem, options: ExecuteOptions) => Promise<void>;

/** A job the daemon is running, for `ays daemon status`. */
export interface DaemonJob {
  kind: "recurring" | "run";
  repo: string;
  /** `role!instance` of a recurring job. */
  service?: string;
  /** The action of a recurring job, or of a run's request when it named one. */
  action?: string;
  /** The request (= run) id of a queued run. */
  runId?: string;
  /** ISO 8601. */
  startedAt: string;
}

/** What `ays daemon status` shows: saved by the daemon when it starts, changes and beats. */
export interface DaemonStatus {
  pid: number;
  host: string;
  /** ISO 8601: when the daemon started. */
  since: string;
  /** `host:port` of the HTTP API (`[::1]:5000` for IPv6). */
  address: string;
  /** Names of the repositories it serves. */
  repos: string[];
  jobs: DaemonJob[];
  /** ISO 8601 of the last save; a status older than a few heartbeats is a dead daemon's. */
  updatedAt: string;
  /** Milliseconds between heartbeat saves. */
  heartbeatMs: number;
}

/** Where the daemon keeps its status, per served repository (implemented over the store). */
export interface DaemonStatusStore {
  /** Saves the status for each repository in `status.repos`. */
  save(status: DaemonStatus): Promise<void>;
  /** Removes the status of a daemon that stopped (only if it is still this daemon's). */
  clear(status: DaemonStatus): Promise<void>;
}
