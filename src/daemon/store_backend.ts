/**
 * The daemon's interfaces (`backend.ts`) over the real store and run engine (docs/daemon.md):
 * the read side of the HTTP API with the same view functions the CLI's `--json` uses, the
 * services for the recurring scheduler, and the glue that hands a recurring action to the one
 * job lifecycle of `src/run/` and a queued run to `executeRepoRun` under the run lock.
 *
 * @module
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { InputError } from "../errors.ts";
import {
  checkServiceFilter,
  type JobRecord,
  listEntry,
  ownValue,
  recurringPause,
  serviceName,
  showEntry,
  sortServices,
} from "../model/mod.ts";
import {
  executeRepoRun,
  holdRunLock,
  type JobRunner,
  listJobs,
  loadLastJobs,
  loadRunDetail,
  MAX_TIMER_MS,
  runJobId,
  runListEntry,
  runServiceJob,
  type RunSession,
  scheduleForRun,
  storedExecutors,
  tidyJobHistory,
} from "../run/mod.ts";
import type { RepoEvents } from "../events/mod.ts";
import { recurringRunId, type RepoStore, type StoreDriver } from "../store/mod.ts";
import type {
  DaemonBackend,
  ExecuteQueuedRun,
  LoadServices,
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
  /**
   * `noexec`: jobs are recorded as done without running (`ays noexec`); `isolation`, `memory`:
   * defaults of the action settings (docs/runs.md, "Memory limits").
   */
  config?: {
    parallel?: number;
    noexec?: boolean;
    isolation?: "pool" | "job" | "process";
    memory?: number;
    /** Its queued runs go to the fleet (docs/fleet.md); needs `redisUrl`. */
    fleet?: boolean;
  };
  store: RepoStore;
  driver: StoreDriver;
  /**
   * The URL of its store when that is Redis (password included: never print it): the Redis of
   * the fleet its queued runs go to with `fleet: true` (docs/fleet.md, "Queued runs of the
   * daemon") and whose workers its event stream reports; absent for SQLite.
   */
  redisUrl?: string;
  /** Its event stream: the daemon's runs and recurring jobs publish to it (docs/events.md). */
  events?: RepoEvents;
}

/** How many records of each recurring action (per service) are kept. */
export const RECURRING_HISTORY = 20;

export { recurringRunId };

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
      const repo = repoOf(served, name);
      const { store } = repo;
      const service = await store.loadServiceByName(role, instance);
      if (!service) return null;
      const actor = await store.loadActor(service.actor);
      const jobs = await loadLastJobs(store, [service]);
      const actors = new Map(actor ? [[actor.name, actor]] : []);
      const executors = await storedExecutors(store, [service], { actors, repo });
      // The same entry as `ays show --json` (docs/daemon.md).
      return {
        ...showEntry(service, actor?.fields ?? [], { reveal: false, jobs }),
        executor: executors.get(serviceName(service.role, service.name)) ?? "local",
      };
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
    async jobs(name, filter) {
      return await listJobs(repoOf(served, name).store, filter);
    },
    async queueRun(name, request: RunRequest) {
      const repo = repoOf(served, name);
      await checkRunRequest(repo.store, request);
      return queueRunRequest(repo.driver, request, { repo: name, source: "http" });
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
  pool: JobRunner;
  /** Records kept per recurring action and service; default {@link RECURRING_HISTORY}. */
  history?: number;
  logger?: Logger;
  /** Clock; default `Date.now`. */
  now?: () => number;
}

/**
 * Runs one recurring action as a job of its own (docs/daemon.md, "Recurring actions") with
 * the one job lifecycle of runs ({@link runServiceJob}), recorded under
 * {@link recurringRunId} with the start time in its id. A service deleted, disabled or no
 * longer recurring since the scheduler loaded it is left alone. Afterwards the history is
 * tidied ({@link tidyJobHistory}): older records beyond `history` go with their logs.
 * Rejects when the job did not end `ok`, so the scheduler logs it.
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
    const service = await repo.store.loadService(target.service.key);
    const record = service ? ownValue(service.actions, action) : undefined;
    if (!service || !record || record.state === "disabled" || !(record.period > 0)) return;
    // Only while the service is up (monitor ← start): paused otherwise, without a job.
    const actor = await repo.store.loadActor(service.actor);
    if (recurringPause(service, actor ?? undefined, action) !== null) return;
    const runId = recurringRunId(serviceName(service.role, service.name), action);
    const session = {
      store: repo.store,
      repo: { name: repo.name, path: repo.path, config: repo.config },
    };
    const job = await runServiceJob(session, { service, action, actor }, {
      pool: options.pool,
      runId,
      jobId: runJobId(runId, info.startedAt),
      startedAt: info.startedAt,
      signal: info.signal,
      now,
    });
    const name = serviceName(service.role, service.name);
    repo.events?.writer.publish({
      type: "recurring.ended",
      service: name,
      action,
      state: job.state,
      ...(job.state !== "ok" && job.error ? { error: job.error.message } : {}),
      jobId: job.id,
    });
    // The action ends in the job's state (a cancelled one goes back to where it was).
    if (job.state === "ok" || job.state === "error") {
      repo.events?.writer.publish({
        type: "service.state",
        service: name,
        action,
        state: job.state,
      });
    }
    await tidyJobHistory(repo.store, runId, {
      keep: history,
      at: now(),
      interrupted: "interrupted: the daemon running it died",
    }).catch((error) =>
      logger.warn("could not tidy recurring job records", { repo: repo.name, error })
    );
    if (job.state !== "ok") throw new Error(job.error?.message ?? `recurring job ${job.state}`);
  };
}

/** Options of {@link storeExecuteRun}. */
export interface ExecuteRunOptions {
  logger?: Logger;
  /**
   * Where the runs' jobs go (left open). Default: a new pool per run sized by its
   * `parallel`, as `ays run` does, so a request's parallelism is never capped by a shared pool.
   */
  pool?: JobRunner;
  /**
   * The job runner of one queued run of `repo` when it is not the local pool — the fleet of a
   * repository with `fleet: true` (docs/fleet.md) — or null; closed when the run ends.
   * Ignored when `pool` is given.
   */
  openRunner?: (repo: ServedRepo) => Promise<(JobRunner & { close(): Promise<void> }) | null>;
  /**
   * Milliseconds between the daemon's stop and terminating a queued run's running jobs.
   * Default: never (each job finishes or hits its own timeout, docs/daemon.md).
   */
  graceMs?: number;
}

/** "Until the job's own timeout": the longest a timer waits (about 24.8 days). */
const NO_GRACE = MAX_TIMER_MS;

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
    let runner: (JobRunner & { close(): Promise<void> }) | null = null;
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
      runner = options.pool ? null : (await options.openRunner?.(repo)) ?? null;
      const { run, jobs } = await executeRepoRun(session, {
        runId,
        lock,
        scope: { action, role, instance },
        // With the fleet the workers' concurrency paces the jobs (docs/fleet.md).
        parallel: parallel ?? runner?.size,
        signal,
        pool: options.pool ?? runner ?? undefined,
        graceMs: options.graceMs ?? NO_GRACE,
        events: repo.events?.writer,
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
      await runner?.close().catch(() => {});
      await lock.release().catch(() => {});
    }
  };
}

/**
 * Refuses, when it is queued, a run request the daemon could only drop later
 * (docs/daemon.md): an unknown role or actor, an instance filter that matches nothing, an
 * action no matching service has (looked up as an own property: `__proto__` is just a name).
 * Throws InputError (400 over HTTP, exit 2 on the CLI); writes nothing.
 */
export async function checkRunRequest(store: RepoStore, request: RunRequest): Promise<void> {
  const { action, role, instance } = request;
  if (action === undefined && role === undefined && instance === undefined) return;
  const [services, actors] = await Promise.all([store.loadServices(), store.loadActors()]);
  checkServiceFilter(services, { role, instance }, { actors });
  // Scheduling in memory is the check `ays do` makes; the result is not saved.
  if (action !== undefined) scheduleForRun(services, action, { role, instance });
}
