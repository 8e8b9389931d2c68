/**
 * The `job` object actions receive (SPEC §3.4), the messages between the pool and its job
 * workers, and the host-side helpers that prepare a job: the service views and the hash of
 * the actions file.
 *
 * The region between `#region job-types` and `#endregion` is what `ays types` prints (see
 * `job_types.ts`); a test keeps the two identical.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { ServiceRecord } from "../model/mod.ts";

// #region job-types
/** Levels of {@link Job.log}. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** A read-only view of a related service: parent, producer or consumer. */
export interface ServiceView {
  /** The instance, e.g. `web1`. */
  readonly name: string;
  readonly actor: string;
  readonly role: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/** The service a job acts on. */
export interface JobService<Data = Record<string, unknown>> {
  /** The instance, e.g. `web1`. */
  readonly name: string;
  readonly actor: string;
  readonly role: string;
  readonly key: string;
  /** A mutable copy: changes are validated and saved only if the job succeeds. */
  data: Data;
  readonly parent: ServiceView | null;
  /** Producers by role (the parent is one of them). */
  readonly producers: Readonly<Record<string, readonly ServiceView[]>>;
  readonly consumers: readonly ServiceView[];
}

/** Options of {@link Job.exec}. */
export interface ExecOptions {
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Working directory, relative to the repository root (default: the root). */
  cwd?: string;
  /** Text written to the command's standard input. */
  input?: string;
  /** Start a long-running process that outlives the job; resolves to its pid. */
  detach?: boolean;
  /** Do not copy the command's output into the job log. */
  quiet?: boolean;
}

/** What a finished {@link Job.exec} command printed. */
export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** What an action receives. */
export interface Job<Data = Record<string, unknown>> {
  readonly repo: { readonly name: string; readonly path: string };
  readonly service: JobService<Data>;
  readonly action: string;
  /** Arguments of the run (`ays do --args`), e.g. `changes` for `processChange`. */
  readonly args: Record<string, unknown>;
  readonly runId: string;
  /** 1 for the first attempt, 2 for the first retry, … */
  readonly attempt: number;
  /**
   * Fires when the run is cancelled (a grace period follows). A timeout does not wait: the
   * job's worker and its exec process groups are killed at once.
   */
  readonly signal: AbortSignal;
  /** Appends a line to the job log. */
  log(message: string, level?: LogLevel): void;
  /**
   * Runs `sh -c command` in the repository root in its own process group, with the
   * environment of ays plus `AYS_REPO`, `AYS_SERVICE`, `AYS_ACTION`, `AYS_RUN`; streams its
   * output into the job log; rejects on a non-zero exit.
   */
  exec(command: string, options: ExecOptions & { detach: true }): Promise<number>;
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
}

/** An exported action: its return value (JSON) is the job's result. */
export type Action<Data = Record<string, unknown>> = (job: Job<Data>) => unknown;
// #endregion

/** The plain data of a job's service, as sent to the worker (views are frozen there). */
export interface JobServiceData {
  name: string;
  actor: string;
  role: string;
  key: string;
  data: Record<string, unknown>;
  parent: ServiceView | null;
  producers: Record<string, ServiceView[]>;
  consumers: ServiceView[];
}

/** Everything a worker needs to run one job. */
export interface JobRequest {
  /** Absolute path of the actions file, or null when the actor has none. */
  actionsPath: string | null;
  action: string;
  args: Record<string, unknown>;
  runId: string;
  /** Set by the retry layer; 1 when absent. */
  attempt?: number;
  repo: { name: string; path: string };
  service: JobServiceData;
  /**
   * Values of the service's secret fields: masked as `***` in the job's log, error and result
   * before they leave the pool (SPEC §3.1: never logged). Build with `secretValues`.
   */
  secrets?: string[];
}

/** An error as stored on a job. */
export interface JobError {
  message: string;
  stack?: string;
}

/** What came of running one job. */
export interface JobOutcome {
  ok: boolean;
  /** The action's return value as JSON (null for none). */
  result: unknown;
  /** The service data as the action left it (save it only when `ok`). */
  data: Record<string, unknown>;
  /** The job log, at most {@link LOG_CAP} bytes, the tail kept. */
  log: string;
  error: JobError | null;
  /** Set when the job ran past its timeout. */
  timedOut?: boolean;
  /** Set when the job was cancelled or killed. */
  cancelled?: boolean;
  attempt: number;
  /** Milliseconds from posting the job to its end. */
  millis: number;
}

/** A job log keeps at most this many bytes (1 MiB), the tail. */
export const LOG_CAP = 1024 * 1024;

/** Messages from the pool to a job worker. */
export type HostMessage =
  | { type: "ping"; id: number }
  | { type: "run"; id: number; request: JobRequest }
  | { type: "cancel"; id: number; reason: string };

/** What a worker reports when a job ends (the log travels separately as `log` messages). */
export interface WorkerDone {
  ok: boolean;
  result: unknown;
  data: Record<string, unknown>;
  error: JobError | null;
}

/** Messages from a job worker to the pool. */
export type WorkerMessage =
  | { type: "pong"; id: number; runtime: string }
  /** A process group `job.exec` started; sent before the worker waits for it. */
  | { type: "pid"; id: number; pid: number; detached: boolean }
  | { type: "exited"; id: number; pid: number }
  | { type: "log"; id: number; text: string }
  | { type: "done"; id: number; done: WorkerDone };

/** Looks a service up by `role!instance`. */
export type ServiceLookup = (name: string) => ServiceRecord | undefined;

/** The read-only view of a related service. */
export function serviceView(service: ServiceRecord): ServiceView {
  return { name: service.name, actor: service.actor, role: service.role, data: service.data };
}

/**
 * The service part of a {@link JobRequest}: the service's data plus views of its parent,
 * producers (by role) and consumers. Links to services `lookup` does not know are left out.
 */
export function jobServiceData(service: ServiceRecord, lookup: ServiceLookup): JobServiceData {
  const view = (name: string) => {
    const s = lookup(name);
    return s ? serviceView(s) : null;
  };
  const producers: Record<string, ServiceView[]> = {};
  for (const [role, names] of Object.entries(service.producers)) {
    producers[role] = names.map(view).filter((v): v is ServiceView => v !== null);
  }
  return {
    name: service.name,
    actor: service.actor,
    role: service.role,
    key: service.key,
    data: service.data,
    parent: service.parent ? view(service.parent) : null,
    producers,
    consumers: service.consumers.map(view).filter((v): v is ServiceView => v !== null),
  };
}

/** An actions file's SHA-256 (hex) and source, to record on the job and keep in the store. */
export interface ActionsFile {
  hash: string;
  source: string;
}

/** Reads an actions file and hashes it. */
export async function hashActionsFile(path: string): Promise<ActionsFile> {
  const bytes = await readFile(path);
  return {
    hash: createHash("sha256").update(bytes).digest("hex"),
    source: new TextDecoder().decode(bytes),
  };
}
