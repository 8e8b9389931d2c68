/**
 * Executes a {@link Plan}: the eager walker over the plan's graph, each job run in the
 * worker pool with its timeout, isolation and retries. It writes nothing itself: the caller
 * persists through `onEvent` (awaited before dependents start) and `onRetry`.
 *
 * @module
 */
import { type ActionSettings, type ActorRecord, ownValue, type PlannedJob } from "../model/mod.ts";
import type { JobOutcome, JobRequest, JobRunner } from "./job_protocol.ts";
import type { Plan, PlannedNode } from "./plan.ts";
import { runJob } from "./run_job.ts";
import { walk, type WalkEvent, type WalkResult } from "./walk.ts";

/** Default action settings (docs/runs.md, "Timeouts and process groups", "Retries"; seconds). */
export const DEFAULT_ACTION_SETTINGS: Readonly<ActionSettings> = {
  timeout: 3600,
  retries: 0,
  retryDelay: 1,
};

/** Run-wide defaults of the action settings (`.ays/config.yaml`, `ays run --isolation`). */
export interface RunSettingDefaults {
  /** The isolation of actions whose `actor.yaml` names none (default `pool`). */
  isolation?: ActionSettings["isolation"];
  /** The memory limit of `isolation: process` jobs whose action gives none (default 1 GiB). */
  memory?: number;
}

/** Options of {@link actionSettings}. */
export interface ActionSettingsOptions {
  /** The run-wide defaults, under the action's own settings. */
  defaults?: RunSettingDefaults;
}

/**
 * The settings of one action of an actor: `actor.yaml` values over the run-wide defaults over
 * the built-in ones. An action with a `memory:` and no `isolation:` runs with `isolation:
 * process`, the one isolation that can hold a limit (docs/runs.md, "Memory limits").
 */
export function actionSettings(
  actor: ActorRecord | undefined,
  action: string,
  options: ActionSettingsOptions = {},
): ActionSettings {
  const { defaults = {} } = options;
  const own = actor ? ownValue(actor.config.actions, action) : undefined;
  const isolation = own?.isolation ??
    (own?.memory !== undefined ? "process" : defaults.isolation);
  const memory = own?.memory ?? defaults.memory;
  return {
    ...DEFAULT_ACTION_SETTINGS,
    ...own,
    ...(isolation === undefined ? {} : { isolation }),
    ...(memory === undefined ? {} : { memory }),
  };
}

/** A job that failed for good; `outcome` is its last attempt. */
export class JobFailedError extends Error {
  readonly outcome: JobOutcome;

  constructor(outcome: JobOutcome) {
    super(outcome.error?.message ?? "job failed");
    this.name = "JobFailedError";
    this.outcome = outcome;
    if (outcome.error?.stack) this.stack = outcome.error.stack;
  }
}

/** Options of {@link executePlan}. */
export interface ExecuteOptions {
  /** Where the jobs run: the local worker pool, or any other runner of the job protocol. */
  pool: JobRunner;
  /** Builds the worker request of a job (service views, args, run id, repository). */
  request: (job: PlannedJob) => JobRequest | Promise<JobRequest>;
  /** The job's action settings (default {@link DEFAULT_ACTION_SETTINGS}). */
  settings?: (job: PlannedJob) => ActionSettings;
  /**
   * Which ready job starts first, by node id: the highest (default: the plan's
   * {@link Plan.priority}, its critical paths counted in jobs).
   */
  priority?: (id: string) => number;
  /** Jobs at once (default: the pool's size). */
  concurrency?: number;
  failFast?: boolean;
  /** Cancellation (Ctrl-C): no new jobs, running ones get `job.signal`, then the grace. */
  signal?: AbortSignal;
  /** Milliseconds between cancellation and terminating running jobs (default 10 000). */
  graceMs?: number;
  /** Terminates running jobs at once (a second Ctrl-C). */
  killSignal?: AbortSignal;
  /**
   * Each job's start, end (with its {@link JobOutcome} as `result`, or a
   * {@link JobFailedError} as `error`) and skip; awaited before dependents start.
   */
  onEvent?: (event: WalkEvent<PlannedNode, JobOutcome>) => void | Promise<void>;
  /** A failed attempt that will be retried after `delayMs`. */
  onRetry?: (job: PlannedJob, outcome: JobOutcome, delayMs: number) => void | Promise<void>;
  /** The job log as it is written. */
  onLog?: (job: PlannedJob, text: string) => void;
  /**
   * Looks at a successful outcome before the job counts as done (e.g. validates the data it
   * changed) and may turn it into a failure by returning an outcome with `ok: false`. Not
   * retried: the action itself succeeded.
   */
  accept?: (job: PlannedJob, outcome: JobOutcome) => JobOutcome | Promise<JobOutcome>;
}

/** Runs the plan; resolves with every job's outcome and the run's state. */
export function executePlan(
  plan: Plan,
  options: ExecuteOptions,
): Promise<WalkResult<JobOutcome>> {
  return walk<PlannedNode, JobOutcome>(plan.graph, async (node, context) => {
    const job = { service: node.service, action: node.action };
    const settings = options.settings?.(job) ?? DEFAULT_ACTION_SETTINGS;
    const request = await options.request(job);
    let outcome = await runJob(options.pool, request, {
      settings,
      signal: context.signal,
      kill: context.kill,
      onLog: options.onLog ? (text) => options.onLog!(job, text) : undefined,
      onRetry: options.onRetry ? (o, d) => options.onRetry!(job, o, d) : undefined,
    });
    if (outcome.ok && options.accept) outcome = await options.accept(job, outcome);
    if (!outcome.ok) throw new JobFailedError(outcome);
    return outcome;
  }, {
    concurrency: options.concurrency ?? options.pool.size,
    // Critical path first: the jobs with the longest remaining path start before the others.
    priority: options.priority ?? ((id) => plan.priority.get(id) ?? 0),
    failFast: options.failFast,
    signal: options.signal,
    graceMs: options.graceMs,
    killSignal: options.killSignal,
    onEvent: options.onEvent,
  });
}
