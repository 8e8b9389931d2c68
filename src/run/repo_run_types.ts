/**
 * The shapes of a run over the store (docs/runs.md, "Runs over the store"): its session,
 * scope, options, events and result, shared by the planner and locker (`repo_run.ts`) and
 * the recorder of the run (`recorded_run.ts`).
 *
 * @module
 */
import type { EventSink } from "../events/mod.ts";
import type { ActorRecord, JobRecord, PlannedJob, RunRecord, ServiceRecord } from "../model/mod.ts";
import type { HeldLock, RepoStore, StoreDriver } from "../store/mod.ts";
import type { RunSettingDefaults } from "./execute.ts";
import type { JobRunner } from "./job_protocol.ts";
import type { Plan } from "./plan.ts";

/** What a run needs: the repository's store and driver, its name, path and settings. */
export interface RunSession {
  store: RepoStore;
  driver: StoreDriver;
  /**
   * `noexec`: jobs are recorded as done without running (`ays noexec`, docs/from-v81.md);
   * `isolation`, `memory`: defaults of the action settings (docs/runs.md, "Memory limits").
   */
  repo: {
    name: string;
    path: string;
    config?: { parallel?: number; noexec?: boolean } & RunSettingDefaults;
  };
}

/** The filters of a run: `-r`, `-i`, and the action of `ays do ACTION`. */
export interface RunScope {
  role?: string;
  instance?: string;
  action?: string;
}

/** Options of `planRepoRun`. */
export interface PlanRepoRunOptions {
  scope?: RunScope;
  /**
   * The caller holds the repository lock: then no other run can be alive, so every `running`
   * action was left by a dead holder. Without it (`ays simulate`), a `running` action is taken
   * only when its run's holder is a dead process on this host or the lock has lapsed.
   */
  lockHeld?: boolean;
  /**
   * Plan as if `ays do ACTION` had scheduled first (`ays simulate --action`): the action is
   * scheduled in memory, by the same `scheduleForRun`, on the services of the scope.
   */
  schedule?: { force?: boolean };
  /**
   * The plan is for a run its store executes: the store keeps the read bytes of the due
   * services for their jobs' starts (`loadServices({ keepDue })`, docs/runs.md). Off for a plan
   * only shown (`ays simulate`, the dashboard's graph), which would hold them for nothing.
   */
  keepDue?: boolean;
}

/** A plan with the records it was made from. */
export interface RepoPlan {
  plan: Plan;
  /**
   * Every service of the repository by `role!instance` — or none when `complete` is false
   * (nothing was due: the due index answered without reading a service).
   */
  services: Map<string, ServiceRecord>;
  /** Whether `services` holds every service of the repository. */
  complete: boolean;
  /** Every actor by name. */
  actors: Map<string, ActorRecord>;
  /** Graph ids (`role!instance:action`) of the actions taken because their holder died. */
  interrupted: string[];
}

/** A run and its jobs, as recorded. */
export interface RepoRunResult {
  run: RunRecord;
  /** In plan order. */
  jobs: JobRecord[];
}

/** What `executeRepoRun` reports as it goes (for progress output). */
export type RepoRunEvent =
  | { type: "run"; run: RunRecord; jobs: readonly JobRecord[] }
  | { type: "job"; job: JobRecord; run: RunRecord }
  | { type: "retry"; job: JobRecord; run: RunRecord; error: string; delayMs: number };

/** Arguments a job gets as `job.args`. */
export type JobArgs = Record<string, unknown>;

/** Options of `executeRepoRun`. */
export interface RepoRunOptions {
  /** Execute under this id (a queued request's id); resumes the run when it is recorded and not final. */
  runId?: string;
  scope?: RunScope;
  /** Jobs at once (default: the repository's `parallel`, else 10). */
  parallel?: number;
  failFast?: boolean;
  /** Cancellation (Ctrl-C, SIGTERM, daemon stop): no new jobs, running ones get `job.signal`. */
  signal?: AbortSignal;
  /** Terminates running jobs at once (a second Ctrl-C). */
  killSignal?: AbortSignal;
  /** Milliseconds between cancellation and terminating running jobs (default 10 000). */
  graceMs?: number;
  /**
   * The repository lock, already held by the caller with holder id = the run id (`ays do`,
   * which schedules under the same lock: see `holdRunLock` of `repo_run.ts`). Without it the run takes the
   * lock itself and releases it at the end.
   */
  lock?: HeldLock;
  /** Wait for the lock instead of failing with exit 3 (only when the run takes it itself). */
  wait?: boolean;
  /** `job.args` of the jobs of `scope.action` (all jobs when the scope names no action). */
  args?: JobArgs;
  /**
   * `job.args` of one job, merged over `args`. The action record's own `args` (e.g.
   * `changes` of a `processChange` scheduled by `ays blueprint`) come first.
   */
  jobArgs?: (job: PlannedJob, service: ServiceRecord) => JobArgs | undefined;
  /**
   * Where the jobs run (left open): any runner of the job protocol. Default a new local
   * worker pool of `parallel` workers, warmed while planning.
   */
  pool?: JobRunner;
  /** Each recorded change, after it is durable. */
  onEvent?: (event: RepoRunEvent) => void;
  /**
   * The repository's event stream (docs/events.md): the run publishes its start and end,
   * its jobs' starts, log lines, retries and ends, and the actions' state changes.
   */
  events?: EventSink;
  /** Called with the run id as soon as it is known (before the lock is taken). */
  onRunId?: (id: string) => void;
  /** Clock (default `Date.now`). */
  now?: () => number;
  /**
   * Keep the readable mirror of the changed services (default true), written in the
   * background during the run and completed before its end is recorded (`run_mirror.ts`).
   */
  mirror?: boolean;
  /** Where a mirror write failure goes (default: ignored; the store is the source of truth). */
  onMirrorError?: (error: unknown) => void;
  /**
   * Do not record a run with nothing to do (`ays run`, `ays do`; docs/runs.md): the result is
   * then an `ok` run with no steps that is in no store. Default false (a queued run keeps the
   * id its client was given).
   */
  skipEmpty?: boolean;
}
