/**
 * The one job lifecycle (docs/runs.md, "One job's records"): every job — of a run, of
 * `ays do`, or a recurring action of the daemon — is recorded, started, logged, retried and
 * ended through a {@link JobRecorder}, so each writes the same records in the same order:
 *
 * 1. the job record exists (`new`, or `running` at once) with the SHA-256 of its actions file;
 * 2. start: the action is `running` (with `lastRun`, `lastJob`) and the job `running`, both
 *    durable before the job is handed to a runner — a crash from here on leaves an
 *    interrupted attempt that the next run (or recurring job) takes again;
 * 3. log text is appended as it comes, whole lines at a time, one write in flight per job;
 * 4. a retry records the next attempt's number and a `[warn]` line;
 * 5. end: the rest of the log (and the `[error]` line), the service (the action's final state
 *    with the data the job changed, in one write) and the job's final record, all durable
 *    before the caller goes on (dependents start).
 *
 * @module
 */
import type { ActionState, ActorRecord, JobRecord, ServiceRecord } from "../model/mod.ts";
import type { RepoStore } from "../store/mod.ts";
import { JobFailedError } from "./execute.ts";
import { endAction, errorLogLine, logLines } from "./job_end.ts";
import type { JobOutcome } from "./job_protocol.ts";
import { hashActionsFile } from "./job_request.ts";

/** What a recorder writes through: the repository's records. */
export type JobStore = Pick<
  RepoStore,
  "saveJob" | "appendJobLog" | "replaceJobLog" | "updateService" | "saveActionSource"
>;

/** How a job ended. */
export type JobEndState = "ok" | "error" | "cancelled";

/** Fields of a new job record besides its ids. */
export interface NewJobRecordOptions {
  /** `role!instance`. */
  service: string;
  action: string;
  /** SHA-256 of the actions file the job runs, if known. */
  actionsHash?: string | null;
}

/** A job record that has not started: state `new`, no attempt yet. */
export function newJobRecord(id: string, runId: string, options: NewJobRecordOptions): JobRecord {
  return {
    id,
    runId,
    service: options.service,
    action: options.action,
    state: "new",
    attempts: 0,
    startedAt: null,
    endedAt: null,
    result: null,
    error: null,
    actionsHash: options.actionsHash ?? null,
  };
}

/**
 * The hashes of actions files, each file read once and its text kept in the store under its
 * SHA-256 (what ran can be read back with the job).
 */
export class ActionSources {
  readonly #store: Pick<JobStore, "saveActionSource">;
  readonly #hashes = new Map<string, Promise<string | null>>();

  constructor(store: Pick<JobStore, "saveActionSource">) {
    this.#store = store;
  }

  /** The SHA-256 of the actor's actions file, or null (no actor, no file, unreadable). */
  hashOf(actor: ActorRecord | undefined): Promise<string | null> {
    const path = actor?.actionsPath;
    if (!path) return Promise.resolve(null);
    let hash = this.#hashes.get(path);
    if (!hash) {
      hash = hashActionsFile(path).then(
        (file) => this.#store.saveActionSource(file.source),
        // A missing file fails its jobs when the worker imports it; nothing to keep here.
        () => null,
      );
      this.#hashes.set(path, hash);
    }
    return hash;
  }
}

/** Options of {@link JobRecorder}. */
export interface JobRecorderOptions {
  /** The store key of the job's service. */
  serviceKey: string;
  /** The action's state before its job set it `running` (what a cancelled job restores). */
  before: ActionState;
  /** Clock (default `Date.now`). */
  now?: () => number;
  /**
   * The service as the recorder saved it; `final` is false for the transient `running` of
   * the start, true for the end (e.g. a run's mirror writes only final states).
   */
  onService?: (service: ServiceRecord, final: boolean) => void;
}

/** Records one job through its lifecycle. */
export class JobRecorder {
  readonly #store: JobStore;
  readonly #record: JobRecord;
  readonly #options: JobRecorderOptions;
  readonly #now: () => number;
  #pending = "";
  #writing: Promise<void> | null = null;
  #failed: unknown = undefined;

  constructor(store: JobStore, job: JobRecord, options: JobRecorderOptions) {
    this.#store = store;
    this.#record = { ...job };
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** A copy of the job record as it stands. */
  get job(): JobRecord {
    return { ...this.#record };
  }

  /**
   * Marks the action `running` and the job `running` (first attempt, started now or `at`),
   * both durable when this resolves. Resolves with the service as saved, or null when the
   * service or its action is gone (the job is then recorded `cancelled`).
   */
  async start(at: number = this.#now()): Promise<ServiceRecord | null> {
    const record = this.#record;
    record.state = "running";
    record.attempts = Math.max(1, record.attempts);
    record.startedAt = at;
    let found = true;
    // The action and the job become `running` in one atomic write.
    const saved = await this.#store.updateService(this.#options.serviceKey, (svc) => {
      const action = svc.actions[record.action];
      if (!action) {
        found = false;
        return null;
      }
      svc.actions[record.action] = {
        ...action,
        state: "running",
        lastRun: at,
        lastJob: record.id,
      };
      return svc;
    }, { jobs: [{ ...record }] });
    if (!saved || !found) {
      await this.skip("cancelled", "the service or its action was deleted");
      return null;
    }
    this.#options.onService?.(saved, false);
    return saved;
  }

  /** Takes log text as the job writes it; whole lines are appended in order. */
  log(text: string): void {
    this.#pending += text;
    this.#kick();
  }

  /** A failed attempt that will be retried after `delayMs`: recorded with a `[warn]` line. */
  async retry(outcome: JobOutcome, delayMs: number): Promise<string> {
    this.#record.attempts = outcome.attempt + 1;
    const error = outcome.error?.message ?? "failed";
    this.log(`[warn] attempt ${outcome.attempt} failed: ${error}; retrying in ${delayMs} ms\n`);
    await this.#store.saveJob({ ...this.#record });
    return error;
  }

  /**
   * Ends the job: its log (the rest, then the `[error]` line of a failure), the service (the
   * action's final state, and the job's data when `ok`) and the job record; all durable when
   * this resolves. `outcome` is the last attempt's (absent when none came back); `error` is
   * what ended the job when there is no outcome, or a {@link JobFailedError}.
   */
  async end(state: JobEndState, outcome?: JobOutcome, error?: unknown): Promise<JobRecord> {
    const last = outcome ?? (error instanceof JobFailedError ? error.outcome : undefined);
    const record = this.#record;
    record.state = state;
    record.attempts = Math.max(record.attempts, last?.attempt ?? 1);
    record.endedAt = this.#now();
    record.result = state === "ok" ? (last?.result ?? null) : null;
    record.error = state === "ok" ? null : errorOf(last, error, state);
    if (last?.worker !== undefined) record.worker = last.worker;
    const before = this.#options.before;
    let written = false;
    // The service and the job record end in one atomic write (with those of the other jobs
    // ending in the same moment, `src/store/write_group.ts`).
    const [, saved] = await Promise.all([
      this.#drain(errorLogLine(last), last?.logTruncated ? last.log : undefined),
      this.#store.updateService(
        this.#options.serviceKey,
        (svc) => {
          written = Object.hasOwn(svc.actions, record.action);
          if (!written) return null;
          return endAction(svc, record.action, {
            state,
            before,
            data: last?.data,
            jobId: record.id,
          });
        },
        { jobs: [{ ...record }] },
      ),
    ]);
    // No service or action left to end: the job record is written on its own.
    if (!saved || !written) await this.#store.saveJob({ ...record });
    if (saved) this.#options.onService?.(saved, true);
    return { ...record };
  }

  /** A job that never ran (`skipped`, `cancelled`) with the reason. */
  async skip(state: "skipped" | "cancelled", reason: string): Promise<JobRecord> {
    this.#record.state = state;
    this.#record.error = { message: reason };
    await this.#store.saveJob({ ...this.#record });
    return { ...this.#record };
  }

  /** Starts appending the whole lines gathered so far, unless a write is in flight. */
  #kick(): void {
    if (this.#writing) return;
    const cut = this.#pending.lastIndexOf("\n") + 1;
    if (cut === 0) return;
    const lines = logLines(this.#pending.slice(0, cut));
    this.#pending = this.#pending.slice(cut);
    // One write at a time keeps the order; what comes meanwhile goes in the next one.
    this.#writing = this.#store.appendJobLog(this.#record.id, lines)
      .catch((error) => {
        this.#failed ??= error;
      })
      .finally(() => {
        this.#writing = null;
        this.#kick();
      });
  }

  /**
   * Waits for the writes in flight, then appends the rest (a partial line) and `last`. With
   * `tail` (the log of an attempt whose live log was cut at its cap) the stored log is
   * replaced by that tail and `last` instead: a capped log keeps its end, where the failure is.
   */
  async #drain(last: string | undefined, tail?: string): Promise<void> {
    while (this.#writing) await this.#writing;
    const end = last === undefined ? [] : [last];
    if (tail !== undefined) {
      this.#pending = "";
      await this.#store.replaceJobLog(this.#record.id, [...logLines(tail), ...end]);
      if (this.#failed !== undefined) throw this.#failed;
      return;
    }
    const rest = [...logLines(this.#pending), ...end];
    this.#pending = "";
    if (rest.length > 0) await this.#store.appendJobLog(this.#record.id, rest);
    if (this.#failed !== undefined) throw this.#failed;
  }
}

function errorOf(
  outcome: JobOutcome | undefined,
  error: unknown,
  state: "error" | "cancelled",
): JobRecord["error"] {
  if (outcome?.error) return { ...outcome.error };
  if (error instanceof Error) return { message: error.message, stack: error.stack };
  return { message: state === "cancelled" ? "cancelled" : String(error ?? "failed") };
}
