/**
 * The job protocol (docs/job_protocol.md): what a job runner is given (a {@link JobRequest}),
 * what it answers (a {@link JobOutcome}), and the messages between a host and the worker that
 * executes the job — init, request, log, exec, result, error — with their validation. The local
 * {@link WorkerPool} of Web Workers is one {@link JobRunner}; a remote worker or another
 * executor implements the same contract, so the recorder and the walker above it do not
 * change.
 *
 * Messages are plain structured-cloneable (and JSON-representable) objects, each naming the
 * job it belongs to by `id`; a message that does not validate is a protocol error, never
 * guessed at.
 *
 * @module
 */
import type { ExecutorSpec, RemoteReply, RemoteRequest } from "../executor/mod.ts";
import type { ServiceView } from "./job_api.ts";
import { isClaim, type JobClaim } from "./job_claim.ts";
import { type ExecSlots, isExecSlots } from "./exec_slots.ts";

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
   * Values of the secret fields of the service and of the services it sees (parent, producers,
   * consumers): masked as `***` in the job's log, error and result before they leave the runner
   * (docs/guide.md, "Secrets are masked for you"). Built by `jobRequest`.
   */
  secrets?: string[];
  /**
   * v8.1's noexec (`ays noexec --enable`, docs/from-v81.md): the worker records the action as
   * done without loading or running it.
   */
  noexec?: boolean;
  /**
   * The name of the fleet worker running the job (docs/fleet.md): its commands see it as
   * `AYS_WORKER`. Absent when the job runs in the local pool.
   */
  worker?: string;
  /**
   * The job's ancestors, parent first, for the executor walk (docs/executors.md): the first
   * of the job's own actions file and theirs that exports `executor` gives the job's executor.
   */
  ancestors?: AncestorData[];
  /** The job's actor is pinned to the local machine (`executor: local` in its config). */
  executorLocal?: boolean;
  /**
   * The job's executor, already resolved: the worker skips the walk over `ancestors`. A fleet
   * coordinator sets it (docs/fleet.md, "A job's executor on the fleet"), since a worker has
   * no copy of the ancestors' actions files.
   */
  executor?: ExecutorSpec;
}

/** One ancestor of a job's service, as the executor walk sees it. */
export interface AncestorData {
  actionsPath: string | null;
  service: JobServiceData;
}

/** An error as stored on a job. */
export interface JobError {
  message: string;
  stack?: string;
}

/** What came of running one attempt of a job. */
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
  /**
   * Set when the live log (`onLog`) was cut at {@link LOG_CAP}: `log` then holds the tail,
   * which the recorder stores in place of the live log's head.
   */
  logTruncated?: boolean;
  attempt: number;
  /** Milliseconds from posting the job to its end. */
  millis: number;
  /** The fleet worker that ran it (docs/fleet.md); absent for the local pool. */
  worker?: string;
}

/** A job log keeps at most this many bytes (1 MiB), the tail. */
export const LOG_CAP = 1024 * 1024;

/** Options of {@link JobRunner.run}: the settings of one attempt. */
export interface JobRunOptions {
  /** Milliseconds before the job fails "timed out after …" (default: none). */
  timeoutMs?: number;
  /**
   * `job`: a fresh worker for this job, discarded after it; `process`: a worker in a child
   * process with a memory limit (docs/runs.md, "Memory limits").
   */
  isolation?: "pool" | "job" | "process";
  /**
   * Bytes of memory the job may use; enforced for `isolation: process` (default 1 GiB), where
   * a job past it fails "out of memory (limit …)".
   */
  memory?: number;
  /** Fires `job.signal` in the worker: the action should end soon (cancellation). */
  signal?: AbortSignal;
  /** Terminates the job at once: its worker and its exec process groups are killed. */
  kill?: AbortSignal;
  /** Receives the job log as it is written (secrets already masked). */
  onLog?: (text: string) => void;
}

/**
 * Whatever executes jobs: runs one attempt and resolves with its outcome whether the action
 * succeeded or not (`ok`, `error`, `timedOut`, `cancelled`); rejects only when the runner
 * itself is gone (closed, unreachable). Secrets are masked in the outcome and the log.
 */
export interface JobRunner {
  /** How many jobs it runs at once. */
  readonly size: number;
  run(request: JobRequest, options?: JobRunOptions): Promise<JobOutcome>;
}

/** Messages from the host to a job worker. */
export type HostMessage =
  /**
   * The worker's exec slots (`exec_slots.ts`): where it keeps the process groups of its
   * commands for the host. Posted on its own, before any job; a worker given none reports its
   * commands by `exec` messages alone.
   */
  | { type: "init"; id: 0; slots: ExecSlots }
  /** Liveness: the worker answers `pong`. */
  | { type: "ping"; id: number }
  /**
   * The request: run this job. Without `claim` the worker runs it at once; with one (a job
   * sent behind the job the worker is running, docs/job_protocol.md) it runs it after the jobs
   * before it ended, and only when it takes the claim first (`job_claim.ts`): the host may
   * have taken the job back meanwhile.
   */
  | { type: "run"; id: number; request: JobRequest; claim?: JobClaim }
  /** Fires the job's `job.signal` with `reason`. */
  | { type: "cancel"; id: number; reason: string }
  /**
   * Several messages for one worker, handled in their order as if each came alone (`id` 0):
   * what the host sent a worker in one turn of its event loop (docs/job_protocol.md,
   * "Several messages in one"). Never nested.
   */
  | { type: "batch"; id: 0; messages: HostMessage[] }
  /** The answer to the worker's `remote` request `call`: its reply, or why it failed. */
  | { type: "remote-reply"; id: number; call: number; ok: true; reply: RemoteReply }
  | { type: "remote-reply"; id: number; call: number; ok: false; error: JobError };

/** Messages from a job worker to the host. */
export type WorkerMessage =
  | { type: "pong"; id: number; runtime: string }
  /** Log text as the job writes it (whole lines or parts of one). */
  | { type: "log"; id: number; text: string }
  /**
   * A process group `job.exec` started (`started`, sent before the worker waits for it, so
   * the host can kill it on a timeout) or that ended (`exited`). Detached ones outlive the job.
   */
  | { type: "exec"; id: number; pid: number; state: "started" | "exited"; detached: boolean }
  /**
   * The job succeeded: its JSON result and the service data as it left it; `millis`, the
   * milliseconds its action ran in the worker (the pool packs short jobs, docs/runs.md).
   */
  | { type: "result"; id: number; result: unknown; data: Record<string, unknown>; millis?: number }
  /** The job failed: its error and the service data as it left it. */
  | { type: "error"; id: number; error: JobError; data: Record<string, unknown> }
  /**
   * The action called `process.exit` (or `Deno.exit`): its worker is ending, the job fails
   * at once and the host replaces the worker.
   */
  | { type: "exit"; id: number; code: number }
  /**
   * Run `request` on the job's executor (an SSH target): the host holds the run's connections
   * and answers with `remote-reply` of the same `call`; a command's output goes into the job
   * log on the host as it comes.
   */
  | { type: "remote"; id: number; call: number; request: RemoteRequest };

/** A message that does not follow the protocol. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(`job protocol: ${message}`);
    this.name = "ProtocolError";
  }
}

type Fields = Record<string, unknown>;

function isRecord(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function need(ok: boolean, what: string, message: Fields): void {
  if (!ok) throw new ProtocolError(`${String(message.type)} message: ${what}`);
}

function checkId(message: Fields): void {
  need(Number.isSafeInteger(message.id) && (message.id as number) >= 0, "bad id", message);
}

function checkJobError(value: unknown, message: Fields): void {
  need(isRecord(value) && typeof value.message === "string", "bad error", message);
  const stack = (value as Fields).stack;
  need(stack === undefined || typeof stack === "string", "bad error stack", message);
}

function checkRequest(value: unknown, message: Fields): void {
  need(isRecord(value), "no request", message);
  const r = value as Fields;
  need(r.actionsPath === null || typeof r.actionsPath === "string", "bad actionsPath", message);
  need(typeof r.action === "string" && r.action !== "", "bad action", message);
  need(isRecord(r.args), "bad args", message);
  need(typeof r.runId === "string", "bad runId", message);
  need(r.attempt === undefined || Number.isSafeInteger(r.attempt), "bad attempt", message);
  need(
    isRecord(r.repo) && typeof r.repo.name === "string" && typeof r.repo.path === "string",
    "bad repo",
    message,
  );
  const s = r.service as Fields;
  need(
    isRecord(s) && typeof s.name === "string" && typeof s.role === "string" &&
      typeof s.actor === "string" && typeof s.key === "string" && isRecord(s.data) &&
      isRecord(s.producers) && Array.isArray(s.consumers),
    "bad service",
    message,
  );
  need(
    r.secrets === undefined ||
      (Array.isArray(r.secrets) && r.secrets.every((x) => typeof x === "string")),
    "bad secrets",
    message,
  );
  need(r.noexec === undefined || typeof r.noexec === "boolean", "bad noexec", message);
  need(
    r.ancestors === undefined || (Array.isArray(r.ancestors) &&
      r.ancestors.every((a) =>
        isRecord(a) && (a.actionsPath === null || typeof a.actionsPath === "string") &&
        isRecord(a.service) && isRecord(a.service.data)
      )),
    "bad ancestors",
    message,
  );
  need(
    r.executorLocal === undefined || typeof r.executorLocal === "boolean",
    "bad executorLocal",
    message,
  );
  need(r.worker === undefined || typeof r.worker === "string", "bad worker", message);
  need(r.executor === undefined || isRecord(r.executor), "bad executor", message);
}

const REMOTE_OPS = new Set(["exec", "put", "get"]);

function checkCall(message: Fields): void {
  need(Number.isSafeInteger(message.call) && (message.call as number) >= 0, "bad call", message);
}

function checkRemoteRequest(value: unknown, message: Fields): void {
  need(isRecord(value) && REMOTE_OPS.has(value.op as string), "bad request", message);
  const r = value as Fields;
  need(
    isRecord(r.target) && r.target.kind === "ssh" && typeof r.target.host === "string" &&
      typeof r.target.knownHosts === "string",
    "bad target",
    message,
  );
  if (r.op === "exec") need(typeof r.command === "string", "bad command", message);
  else need(typeof r.remotePath === "string", "bad remotePath", message);
}

/** `value` as a {@link HostMessage}; throws {@link ProtocolError} when it is not one. */
export function parseHostMessage(value: unknown): HostMessage {
  if (!isRecord(value)) throw new ProtocolError("a message must be an object");
  checkId(value);
  switch (value.type) {
    case "init":
      need(value.id === 0 && isExecSlots(value.slots), "bad slots", value);
      break;
    case "ping":
      break;
    case "run":
      checkRequest(value.request, value);
      if (value.claim !== undefined) need(isClaim(value.claim), "bad claim", value);
      break;
    case "cancel":
      need(typeof value.reason === "string", "bad reason", value);
      break;
    case "batch":
      need(value.id === 0 && Array.isArray(value.messages), "bad messages", value);
      for (const inner of value.messages as unknown[]) {
        need(isRecord(inner), "bad messages", value);
        need((inner as { type?: unknown }).type !== "batch", "nested batch", value);
        parseHostMessage(inner);
      }
      break;
    case "remote-reply":
      checkCall(value);
      if (value.ok === true) need(isRecord(value.reply), "bad reply", value);
      else if (value.ok === false) checkJobError(value.error, value);
      else need(false, "bad ok", value);
      break;
    default:
      throw new ProtocolError(`unknown host message type ${JSON.stringify(value.type)}`);
  }
  return value as unknown as HostMessage;
}

/** `value` as a {@link WorkerMessage}; throws {@link ProtocolError} when it is not one. */
export function parseWorkerMessage(value: unknown): WorkerMessage {
  if (!isRecord(value)) throw new ProtocolError("a message must be an object");
  checkId(value);
  switch (value.type) {
    case "pong":
      need(typeof value.runtime === "string", "bad runtime", value);
      break;
    case "log":
      need(typeof value.text === "string", "bad text", value);
      break;
    case "exec":
      need(Number.isSafeInteger(value.pid) && (value.pid as number) > 0, "bad pid", value);
      need(value.state === "started" || value.state === "exited", "bad state", value);
      need(typeof value.detached === "boolean", "bad detached", value);
      break;
    case "result":
      need("result" in value, "no result", value);
      need(isRecord(value.data), "bad data", value);
      need(
        value.millis === undefined ||
          (typeof value.millis === "number" && Number.isFinite(value.millis) && value.millis >= 0),
        "bad millis",
        value,
      );
      break;
    case "error":
      checkJobError(value.error, value);
      need(isRecord(value.data), "bad data", value);
      break;
    case "exit":
      need(Number.isSafeInteger(value.code), "bad code", value);
      break;
    case "remote":
      checkCall(value);
      checkRemoteRequest(value.request, value);
      break;
    default:
      throw new ProtocolError(`unknown worker message type ${JSON.stringify(value.type)}`);
  }
  return value as unknown as WorkerMessage;
}
