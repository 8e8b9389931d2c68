/**
 * The daemon's interfaces (`backend.ts`) over the real store and run engine (SPEC §8): the
 * read side of the HTTP API with the same view functions the CLI's `--json` uses, the
 * services for the recurring scheduler, one recurring action as a job of its own, and one
 * queued run planned and executed under the repository's run lock.
 *
 * @module
 */
import { loadLastJobs } from "../run/last_jobs.ts";
import { recurringPause } from "../model/recurring_pause.ts";
import { secretValues } from "../model/secrets.ts";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { InputError } from "../errors.ts";
import { serviceName } from "../model/names.ts";
import type { ActionState, JobRecord, ServiceRecord } from "../model/types.ts";
import { flatProducers, listEntry, showEntry, sortServices } from "../model/views.ts";
import { actionSettings } from "../run/execute.ts";
import { acceptOutcome, endAction, errorLogLine, logLines } from "../run/job_end.ts";
import {
  hashActionsFile,
  type JobOutcome,
  type JobRequest,
  jobServiceData,
} from "../run/job_api.ts";
import type { WorkerPool } from "../run/pool.ts";
import { executeRepoRun, holdRunLock, runJobId, type RunSession } from "../run/repo_run.ts";
import { runJob } from "../run/run_job.ts";
import { scheduleForRun } from "../run/schedule_for_run.ts";
import { loadRunDetail, runListEntry } from "../run/run_views.ts";
import type { StoreDriver } from "../store/driver.ts";
import type { RepoStore } from "../store/repo_store.ts";
import type {
  DaemonBackend,
  ExecuteQueuedRun,
  LoadServices,
  RecurringStartInfo,
  RecurringTarget,
  RunRecurring,
  RunRequest,
} from "./backend.ts";
import type { DaemonRepo } from "./daemon.ts";
import { type Logger, silentLogger } from "./logger.ts";
import { queueRunRequest, storeRunQueue } from "./store_queue.ts";

/** A repository the daemon serves, opened with its store. */
export interface ServedRepo {
  name: string;
  /** Absolute path of the repository root. */
  path: string;
  config?: { parallel?: number };
  store: RepoStore;
  driver: StoreDriver;
}

/** How many records of each recurring action (per service) are kept. */
export const RECURRING_HISTORY = 20;

/**
 * The pseudo run id under which the jobs of one recurring action of one service are recorded:
 * `recurring.<role!instance>.<action>`. There is no run record with this id (recurring jobs
 * are not runs and do not show in `ays runs`); the jobs are `job:<this id>:<job id>`.
 */
export function recurringRunId(service: string, action: string): string {
  return `recurring.${service}.${action}`;
}

/** The recorded jobs of one recurring action of a service, oldest first (at most the history). */
export function loadRecurringJobs(
  store: RepoStore,
  service: string,
  action: string,
): Promise<JobRecord[]> {
  return store.loadJobs(recurringRunId(service, action));
}

function repoOf(repos: ReadonlyMap<string, ServedRepo>, name: string): ServedRepo {
  const repo = repos.get(name);
  if (!repo) throw new InputError(`unknown repository '${name}'`);
  return repo;
}

function byName(repos: readonly ServedRepo[]): Map<string, ServedRepo> {
  return new Map(repos.map((repo) => [repo.name, repo]));
}

/**
 * The read side and queueing of the HTTP API: bodies built by the functions the CLI's
 * `--json` uses (`listEntry`, `showEntry`, `runListEntry`, `loadRunDetail`).
 */
export function storeBackend(repos: readonly ServedRepo[]): DaemonBackend {
  const served = byName(repos);
  return {
    async repos() {
      const rows = await Promise.all(repos.map(async (repo) => ({
        name: repo.name,
        path: repo.path,
        exists: (await stat(join(repo.path, ".ays")).catch(() => null)) !== null,
      })));
      return rows.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    },
    hasRepo: (name) => Promise.resolve(served.has(name)),
    async services(name) {
      const services = await repoOf(served, name).store.loadServices();
      return sortServices(services).map(listEntry);
    },
    async service(name, { role, instance }) {
      const { store } = repoOf(served, name);
      const service = await store.loadServiceByName(role, instance);
      if (!service) return null;
      const actor = await store.loadActor(service.actor);
      const jobs = await loadLastJobs(store, [service]);
      return showEntry(service, actor?.fields ?? [], { reveal: false, jobs });
    },
    async runs(name) {
      return (await repoOf(served, name).store.listRuns()).map(runListEntry);
    },
    async run(id) {
      for (const repo of repos) {
        // An exact id only: a prefix could name runs of several repositories.
        if ((await repo.store.loadRun(id)) === null) continue;
        return await loadRunDetail(repo.store, id, { tail: 20 });
      }
      return null;
    },
    queueRun(name, request: RunRequest) {
      return queueRunRequest(repoOf(served, name).driver, request, {
        repo: name,
        source: "http",
      });
    },
  };
}

/** Every service of every served repository, one bulk load per repository. */
export function storeLoadServices(repos: readonly ServedRepo[]): LoadServices {
  return async () => {
    const lists = await Promise.all(
      repos.map(async (repo) =>
        (await repo.store.loadServices()).map((service): RecurringTarget => ({
          repo: repo.name,
          service,
        }))
      ),
    );
    return lists.flat();
  };
}

/** The run queues of the served repositories, for {@link startDaemon}. */
export function storeDaemonRepos(repos: readonly ServedRepo[], logger?: Logger): DaemonRepo[] {
  return repos.map((repo) => ({
    name: repo.name,
    queue: storeRunQueue(repo.driver, {
      onInvalid: (id, error) =>
        logger?.error("dropped a queued request that is not one", {
          repo: repo.name,
          id,
          error,
        }),
    }),
  }));
}

/** Options of {@link storeRunRecurring}. */
export interface RunRecurringOptions {
  /** The workers recurring jobs run in (shared by all of them; closed by the caller). */
  pool: WorkerPool;
  /** Records kept per recurring action and service; default {@link RECURRING_HISTORY}. */
  history?: number;
  logger?: Logger;
  /** Clock; default `Date.now`. */
  now?: () => number;
}

/**
 * Runs one recurring action as a job of its own (SPEC §8): outside the run lock, without
 * prerequisites. The job is recorded (`running`, then final) under
 * {@link recurringRunId}; the action is `running` with `lastRun` = the start before the job
 * starts, then `ok` (with the data the job changed, validated) or `error`; a job the
 * daemon's stop cancelled leaves the action as a run does ({@link endAction}). The job runs
 * like one of a run ({@link runJob}) and its log is appended as it comes. Older records
 * beyond the history are deleted with their logs.
 */
export function storeRunRecurring(
  repos: readonly ServedRepo[],
  options: RunRecurringOptions,
): RunRecurring {
  const served = byName(repos);
  const history = Math.max(1, options.history ?? RECURRING_HISTORY);
  const now = options.now ?? Date.now;
  const logger = options.logger ?? silentLogger;
  return async (target, action, info) => {
    const repo = repoOf(served, target.repo);
    await runRecurringJob(repo, target.service.key, action, info, {
      pool: options.pool,
      history,
      now,
      logger,
    });
  };
}

interface RecurringJobOptions {
  pool: WorkerPool;
  history: number;
  now: () => number;
  logger: Logger;
}

async function runRecurringJob(
  repo: ServedRepo,
  key: string,
  action: string,
  info: RecurringStartInfo,
  options: RecurringJobOptions,
): Promise<void> {
  const { store } = repo;
  const service = await store.loadService(key);
  const record = service?.actions[action];
  // Deleted, disabled or no longer recurring since the scheduler loaded it: nothing to do.
  if (!service || !record || record.state === "disabled" || !(record.period > 0)) return;
  const name = serviceName(service.role, service.name);
  const actor = await store.loadActor(service.actor);
  // Only while the service is up (monitor ← start): paused otherwise, without a job.
  if (recurringPause(service, actor ?? undefined, action) !== null) return;
  const settings = actionSettings(actor ?? undefined, action);
  const runId = recurringRunId(name, action);
  const startedAt = info.startedAt;
  const job: JobRecord = {
    id: runJobId(runId, startedAt),
    runId,
    service: name,
    action,
    state: "running",
    attempts: 1,
    startedAt,
    endedAt: null,
    result: null,
    error: null,
    actionsHash: null,
  };
  if (actor?.actionsPath) {
    try {
      job.actionsHash = await store.saveActionSource(
        (await hashActionsFile(actor.actionsPath)).source,
      );
    } catch {
      // A missing file fails the job when the worker imports it.
    }
  }
  const before: ActionState = record.state;
  await store.saveJob(job);
  const started = await store.updateService(key, (svc) => {
    const current = svc.actions[action];
    if (!current) return null;
    svc.actions[action] = { ...current, state: "running", lastRun: startedAt, lastJob: job.id };
    return svc;
  });
  if (!started) {
    await store.saveJob({ ...job, state: "cancelled", error: { message: "service deleted" } });
    return;
  }

  const request = await recurringRequest(repo, started, action, runId);
  const log = jobLogWriter(store, job.id);
  let outcome: JobOutcome;
  try {
    outcome = await runJob(options.pool, request, {
      settings,
      signal: info.signal,
      onLog: log.write,
      onRetry: (failed, delayMs) => {
        job.attempts = failed.attempt + 1;
        log.write(
          `[warn] attempt ${failed.attempt} failed: ${failed.error?.message ?? "failed"}; ` +
            `retrying in ${delayMs} ms\n`,
        );
      },
    });
    outcome = acceptOutcome(actor ?? undefined, outcome);
  } catch (error) {
    outcome = {
      ok: false,
      result: null,
      data: started.data,
      log: "",
      error: { message: (error as Error).message ?? String(error) },
      attempt: job.attempts,
      millis: options.now() - startedAt,
    };
  }
  const state: JobRecord["state"] = outcome.ok ? "ok" : outcome.cancelled ? "cancelled" : "error";
  await log.end(errorLogLine(outcome));
  await store.updateService(
    key,
    (svc) =>
      svc.actions[action]
        ? endAction(svc, action, { state, before, data: outcome.data, jobId: job.id })
        : null,
  );
  await store.saveJob({
    ...job,
    state,
    attempts: Math.max(job.attempts, outcome.attempt ?? 1),
    endedAt: options.now(),
    result: outcome.ok ? (outcome.result ?? null) : null,
    error: outcome.ok ? null : { ...(outcome.error ?? { message: state }) },
  });
  await tidyRecurring(store, runId, options.history, options.now()).catch((error) =>
    options.logger.warn("could not tidy recurring job records", { repo: repo.name, error })
  );
  if (!outcome.ok) {
    throw new Error(outcome.error?.message ?? `recurring job ${state}`);
  }
}

interface JobLogWriter {
  /** Takes log text as the job writes it; whole lines are appended at once, in order. */
  write: (text: string) => void;
  /** Appends what is left (a last partial line, then `last`) once every write is done. */
  end: (last?: string) => Promise<void>;
}

/** Appends a running job's log to its record line by line as it comes. */
function jobLogWriter(store: RepoStore, jobId: string): JobLogWriter {
  let pending = "";
  let chain: Promise<void> = Promise.resolve();
  let failed: unknown;
  const append = (lines: string[]) => {
    if (lines.length === 0) return;
    chain = chain.then(() => store.appendJobLog(jobId, lines)).catch((error) => {
      failed ??= error;
    });
  };
  return {
    write(text) {
      pending += text;
      const cut = pending.lastIndexOf("\n") + 1;
      if (cut === 0) return;
      append(logLines(pending.slice(0, cut)));
      pending = pending.slice(cut);
    },
    async end(last) {
      append([...logLines(pending), ...(last === undefined ? [] : [last])]);
      pending = "";
      await chain;
      if (failed !== undefined) throw failed;
    },
  };
}

/** The worker request of a recurring job: the service with its parent, producers, consumers. */
async function recurringRequest(
  repo: ServedRepo,
  service: ServiceRecord,
  action: string,
  runId: string,
): Promise<JobRequest> {
  const related = new Map<string, ServiceRecord>();
  const names = [
    ...(service.parent ? [service.parent] : []),
    ...flatProducers(service),
    ...service.consumers,
  ];
  for (const name of new Set(names)) {
    const i = name.indexOf("!");
    if (i <= 0) continue;
    const found = await repo.store.loadServiceByName(name.slice(0, i), name.slice(i + 1));
    if (found) related.set(name, found);
  }
  const actor = await repo.store.loadActor(service.actor);
  return {
    actionsPath: actor?.actionsPath ?? null,
    action,
    args: { ...service.actions[action]?.args },
    runId,
    repo: { name: repo.name, path: repo.path },
    service: jobServiceData(service, (name) => related.get(name)),
    secrets: secretValues(actor?.fields ?? [], service.data),
  };
}

/**
 * After a job of a recurring action: ends records a daemon killed mid-job left `running` (one
 * daemon per repository and no overlap, so none of them is alive), then deletes the oldest
 * records (and their logs) beyond `keep`.
 */
async function tidyRecurring(
  store: RepoStore,
  runId: string,
  keep: number,
  at: number,
): Promise<void> {
  const jobs = await store.loadJobs(runId);
  const stale = jobs.filter((job) => job.state === "running");
  if (stale.length > 0) {
    await store.saveJobs(stale.map((job) => ({
      ...job,
      state: "error" as const,
      endedAt: at,
      error: { message: "interrupted: the daemon running it died" },
    })));
  }
  if (jobs.length <= keep) return;
  // Job ids end in the start time (13 digits), so key order is start order.
  const old = jobs.slice(0, jobs.length - keep);
  await store.driver.batch(
    old.map((job) => ({ op: "delete" as const, key: `job:${runId}:${job.id}` })),
  );
  for (const job of old) await store.driver.deleteLog(`job:${job.id}`);
}

/** Options of {@link storeExecuteRun}. */
export interface ExecuteRunOptions {
  logger?: Logger;
  /**
   * Workers for the runs (left open). Default: a new pool per run sized by its `parallel`,
   * as `ays run` does, so a request's parallelism is never capped by a shared pool.
   */
  pool?: WorkerPool;
  /**
   * Milliseconds between the daemon's stop and terminating a queued run's running jobs.
   * Default: never (each job finishes or hits its own timeout, SPEC §8).
   */
  graceMs?: number;
}

/** Longest delay `setTimeout` takes (~24.8 days): "until the job's own timeout". */
const NO_GRACE = 2 ** 31 - 1;

/**
 * Plans and executes one queued run under the repository's run lock (waiting for it like
 * `ays run --wait`), with the request id as run id: a request delivered again resumes its
 * recorded run, or is just acknowledged when that run is final. A request naming an action
 * schedules it on the matching services first (like `ays do`), under the same lock.
 */
export function storeExecuteRun(
  repos: readonly ServedRepo[],
  options: ExecuteRunOptions = {},
): ExecuteQueuedRun {
  const served = byName(repos);
  const logger = options.logger ?? silentLogger;
  return async (item, { signal }) => {
    const repo = repoOf(served, item.request.repo);
    const runId = item.id;
    const session: RunSession = {
      store: repo.store,
      driver: repo.driver,
      repo: { name: repo.name, path: repo.path, config: repo.config },
    };
    const lock = await holdRunLock(repo.driver, runId, { wait: true, signal });
    try {
      if (signal.aborted) throw new Error("the daemon stopped before the run started");
      const { action, role, instance, parallel } = item.request;
      const recorded = await repo.store.loadRun(runId);
      if (!recorded && action) {
        const services = await repo.store.loadServices();
        let result;
        try {
          result = scheduleForRun(services, action, { role, instance });
        } catch (error) {
          if (!(error instanceof InputError)) throw error;
          throw new InputError(`queued run ${runId}: ${error.message}`);
        }
        if (result.updated.length > 0) await repo.store.save({ services: result.updated });
      }
      const { run, jobs } = await executeRepoRun(session, {
        runId,
        lock,
        scope: { action, role, instance },
        parallel,
        signal,
        pool: options.pool,
        graceMs: options.graceMs ?? NO_GRACE,
      });
      logger.info("queued run recorded", {
        repo: repo.name,
        id: run.id,
        state: run.state,
        jobs: jobs.length,
      });
      if (run.state === "cancelled" && signal.aborted) {
        // The daemon stopped: the jobs that ran are recorded, the others were cancelled and
        // their actions are still due. Queue the same request again so the next daemon
        // finishes the work instead of it waiting for someone to notice.
        const again = await queueRunRequest(repo.driver, { action, role, instance, parallel }, {
          repo: repo.name,
          source: item.request.source,
        });
        logger.info("queued run stopped by the daemon's stop; queued again", {
          repo: repo.name,
          id: run.id,
          again,
        });
      }
    } finally {
      await lock.release().catch(() => {});
    }
  };
}
