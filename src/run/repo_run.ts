/**
 * Runs over a repository's store (docs/runs.md, "Runs over the store"): plans from the stored
 * services and actors, takes the repository lock, closes what a dead run left behind and
 * resumes a recorded run. The engine underneath (`planRun`, `executePlan`, a job runner)
 * knows nothing about the store; the run's records are kept by `recorded_run.ts`, each job's
 * by the one job recorder (`job_recorder.ts`) that `ays do` and the daemon use too.
 *
 * @module
 */
import { markSatisfied, type RunRecord, serviceName, type ServiceRecord } from "../model/mod.ts";
import {
  currentHolder,
  type HeldLock,
  holdRepoLock,
  openRepoStore,
  type StoreDriver,
} from "../store/mod.ts";
import { closeDeadRuns, deadHolders, FINAL_RUN_STATES } from "./crash_recovery.ts";
import type { JobRunner } from "./job_protocol.ts";
import { planRun } from "./plan.ts";
import { WorkerPool } from "./pool.ts";
import { RecordedRun } from "./recorded_run.ts";
import { RunMirror } from "./run_mirror.ts";
import { scheduleForRun } from "./schedule_for_run.ts";
import type {
  PlanRepoRunOptions,
  RepoPlan,
  RepoRunOptions,
  RepoRunResult,
  RunScope,
  RunSession,
} from "./repo_run_types.ts";
import { newRunId, runIdOfJob } from "./run_ids.ts";

export { newRunId, runIdOfJob, runJobId } from "./run_ids.ts";
export type {
  JobArgs,
  PlanRepoRunOptions,
  RepoPlan,
  RepoRunEvent,
  RepoRunOptions,
  RepoRunResult,
  RunScope,
  RunSession,
} from "./repo_run_types.ts";

/**
 * Takes the repository lock for a run (holder id = the run id); throws `LockedError` naming
 * the holder (the CLI exits 3) when another run or writer holds it, unless `wait`.
 */
export function holdRunLock(
  driver: StoreDriver,
  runId: string,
  options: { wait?: boolean; signal?: AbortSignal; onLost?: () => void } = {},
): Promise<HeldLock> {
  return holdRepoLock(driver, currentHolder(runId), options);
}

/**
 * Plans a run from the store: every service in one bulk load, every actor, and — for
 * `running` actions — whether the run that started them is dead. Writes nothing. When the
 * due index (docs/store.md, "The due index") holds no service and nothing is to be
 * scheduled, the plan is empty without reading a service: the planner takes actions only in
 * the states that index covers.
 */
export async function planRepoRun(
  session: RunSession,
  options: PlanRepoRunOptions = {},
): Promise<RepoPlan> {
  if (!(options.schedule && options.scope?.action)) {
    const [due, actorList] = await Promise.all([
      session.store.dueServiceKeys(),
      session.store.loadActors(),
    ]);
    if (due.length === 0) {
      const actors = new Map(actorList.map((a) => [a.name, a]));
      const plan = planRun([], actorList);
      return { plan, services: new Map(), actors, interrupted: [], complete: false };
    }
  }
  const [serviceList, actorList] = await Promise.all([
    session.store.loadServices({ keepDue: options.keepDue ?? false }),
    session.store.loadActors(),
  ]);
  const services = new Map<string, ServiceRecord>();
  for (const s of serviceList) services.set(serviceName(s.role, s.name), s);
  const actors = new Map(actorList.map((a) => [a.name, a]));
  const scope = options.scope ?? {};
  if (options.schedule && scope.action) {
    const { role, instance, action } = scope;
    const scheduled = scheduleForRun(serviceList, action, { ...options.schedule, role, instance });
    for (const s of scheduled.updated) services.set(serviceName(s.role, s.name), s);
  }
  const dead = options.lockHeld ? null : await deadHolders(session, serviceList);
  const interrupted: string[] = [];
  const plan = planRun(services.values(), actors.values(), {
    role: scope.role,
    instance: scope.instance,
    action: scope.action,
    isInterrupted: (service, action) => {
      const runId = runIdOfJob(service.actions[action]?.lastJob ?? null);
      const gone = dead === null || runId === null || dead.has(runId);
      if (gone) interrupted.push(`${serviceName(service.role, service.name)}:${action}`);
      return gone;
    },
  });
  return { plan, services, actors, interrupted, complete: true };
}

/**
 * Plans and executes a run over the store (docs/runs.md, "Runs over the store"), or resumes
 * the recorded run `runId` when it is not final (a final one is returned as it is). The run is recorded before any job
 * starts; each job is its own record; each action is `running` and durable before its job
 * starts, and its end (with the data the job changed, validated, in the same write as the
 * action's `ok`) before its dependents start. Resolves with the run as recorded; rejects
 * only when the store fails (then the run stays `running` and the next run resumes it).
 */
export async function executeRepoRun(
  session: RunSession,
  options: RepoRunOptions = {},
): Promise<RepoRunResult> {
  const now = options.now ?? Date.now;
  const runId = options.runId ?? options.lock?.lock.holder.id ?? newRunId(now());
  options.onRunId?.(runId);
  const parallel = Math.max(1, options.parallel ?? session.repo.config?.parallel ?? 10);
  const local = options.pool
    ? null
    : new WorkerPool({ size: parallel, guardMemory: session.repo.config?.memory });
  const pool: JobRunner = options.pool ?? local!;
  // Starting workers costs milliseconds of CPU each (tens on Deno): overlap it with the store
  // work, and start no more than the due index (one query) says can be busy — none when nothing
  // is due. A service's lifecycle actions wait for its own earlier ones, so mostly one job per
  // due service is ready at a time; for more (custom actions of one service are not ordered)
  // the pool starts workers as jobs wait (docs/runs.md, "Starting the workers").
  const due = local !== null && options.scope?.action === undefined
    ? (await session.store.dueServiceKeys()).length
    : undefined;
  const warming = local && due !== 0
    ? local.warm({ workers: due }).catch(() => {})
    : Promise.resolve();
  const lockLost = new AbortController();
  let lock: HeldLock | undefined = options.lock;
  const ownLock = lock === undefined;
  try {
    lock ??= await holdRunLock(session.driver, runId, {
      wait: options.wait,
      signal: options.signal,
      onLost: () => lockLost.abort(new Error("the repository lock was lost")),
    });
    // The run's own writes skip the store's mirror: RunMirror writes it off the critical path.
    const runStore = await openRepoStore(session.driver, {
      repoName: session.repo.name,
      repoPath: session.repo.path,
    });
    const existing = await runStore.loadRun(runId);
    if (existing && FINAL_RUN_STATES.has(existing.state)) {
      return { run: existing, jobs: await runStore.loadJobs(runId) };
    }
    const closed = await closeDeadRuns(runStore, runId, now());
    const scope = cleanScope(existing?.scope ?? options.scope ?? {});
    // Planned through the store the jobs write with: their starts reuse what the plan read.
    const repoPlan = await planRepoRun({ ...session, store: runStore }, {
      scope,
      lockHeld: true,
      keepDue: true,
    });
    // Due default actions the file does not export are done without a job (docs/runs.md).
    const satisfied = markSatisfied(repoPlan.services, repoPlan.plan.satisfied);
    if (satisfied.length > 0) {
      await session.store.save({ services: satisfied });
      // Written by the other store: the bytes the plan kept of them are old now.
      runStore.forgetScanned(satisfied.map((s) => s.key));
    }
    for (const s of satisfied) repoPlan.services.set(serviceName(s.role, s.name), s);
    if (options.skipEmpty && !existing && repoPlan.plan.steps.length === 0) {
      // Nothing to run, yet a killed run may have left the mirror behind the store: only
      // then is every service read and its file compared (docs/store.md).
      if (options.mirror !== false && closed.length > 0) {
        const all = repoPlan.complete ? repoPlan.services : new Map(
          (await session.store.loadServices()).map((s) => [serviceName(s.role, s.name), s]),
        );
        const mirror = new RunMirror(
          session.repo.path,
          all,
          repoPlan.actors,
          (error) => options.onMirrorError?.(error),
        );
        mirror.syncAll();
        await mirror.stop();
      }
      const at = now();
      const run: RunRecord = {
        id: runId,
        repo: session.repo.name,
        scope,
        steps: [],
        state: "ok",
        createdAt: at,
        startedAt: at,
        endedAt: at,
        holder: null,
      };
      return { run, jobs: [] };
    }
    const runner = new RecordedRun({ store: runStore, repo: session.repo }, repoPlan, {
      ...options,
      runId,
      scope,
      parallel,
      existing,
      now,
      pool,
      lockLost: lockLost.signal,
    });
    await runner.record();
    // Jobs start on warm workers; a run with nothing to do need not wait for them.
    if (repoPlan.plan.steps.length > 0) await warming;
    return await runner.execute();
  } finally {
    if (ownLock) await lock?.release().catch(() => {});
    await local?.close();
  }
}

/** Drops empty filters so the recorded scope and the plan agree. */
function cleanScope(scope: RunScope): RunScope {
  const out: RunScope = {};
  if (scope.role) out.role = scope.role;
  if (scope.instance) out.instance = scope.instance;
  if (scope.action) out.action = scope.action;
  return out;
}
