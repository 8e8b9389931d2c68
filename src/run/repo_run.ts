/**
 * Runs over a repository's store (SPEC §6): plans from the stored services and actors,
 * records the run and each of its jobs as records of their own, keeps every action's state
 * durable before the next thing happens, and resumes after a crash. The engine underneath
 * (`planRun`, `executePlan`, `WorkerPool`) knows nothing about the store; this module is the
 * one place that connects them, for `ays run`, `ays do` and the daemon alike.
 *
 * @module
 */
import process from "node:process";
import { serviceName } from "../model/names.ts";
import { markSatisfied } from "../model/schedule.ts";
import type {
  ActionState,
  ActorRecord,
  JobRecord,
  PlannedJob,
  RunRecord,
  ServiceRecord,
} from "../model/types.ts";
import type { StoreDriver } from "../store/driver.ts";
import { currentHolder, isProcessAlive, thisHost } from "../store/holder.ts";
import { type HeldLock, holdRepoLock } from "../store/repo_lock.ts";
import { openRepoStore, REPO_LOCK, type RepoStore } from "../store/repo_store.ts";
import { actionSettings, executePlan, JobFailedError } from "./execute.ts";
import { secretValues } from "../model/secrets.ts";
import { acceptOutcome, endAction, errorLogLine, logLines } from "./job_end.ts";
import { hashActionsFile, type JobOutcome, type JobRequest, jobServiceData } from "./job_api.ts";
import { jobId as graphId, type Plan, planRun } from "./plan.ts";
import { WorkerPool } from "./pool.ts";
import { RunMirror } from "./run_mirror.ts";
import { scheduleForRun } from "./schedule_for_run.ts";

/** What a run needs: the repository's store and driver, its name, path and settings. */
export interface RunSession {
  store: RepoStore;
  driver: StoreDriver;
  repo: { name: string; path: string; config?: { parallel?: number } };
}

/** The filters of a run: `-r`, `-i`, and the action of `ays do ACTION`. */
export interface RunScope {
  role?: string;
  instance?: string;
  action?: string;
}

/** Options of {@link planRepoRun}. */
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
}

/** A plan with the records it was made from. */
export interface RepoPlan {
  plan: Plan;
  /** Every service of the repository by `role!instance`. */
  services: Map<string, ServiceRecord>;
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

/** What {@link executeRepoRun} reports as it goes (for progress output). */
export type RepoRunEvent =
  | { type: "run"; run: RunRecord; jobs: readonly JobRecord[] }
  | { type: "job"; job: JobRecord; run: RunRecord }
  | { type: "retry"; job: JobRecord; run: RunRecord; error: string; delayMs: number };

/** Arguments a job gets as `job.args`. */
export type JobArgs = Record<string, unknown>;

/** Options of {@link executeRepoRun}. */
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
   * which schedules under the same lock: see {@link holdRunLock}). Without it the run takes the
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
  /** A pool to use (left open); default a new one of `parallel` workers, warmed while planning. */
  pool?: WorkerPool;
  /** Each recorded change, after it is durable. */
  onEvent?: (event: RepoRunEvent) => void;
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

/** Run states after which a run never changes again. */
const FINAL_RUN_STATES = new Set(["ok", "error", "cancelled"]);

/**
 * A new run id: UTC time to the second plus a random suffix, e.g. `20261125-190512-a3f9`;
 * sortable, short enough to type, free of `:` and `.` (job ids are `<run id>.<n>`).
 */
export function newRunId(now: number = Date.now()): string {
  const iso = new Date(now).toISOString();
  const stamp = `${iso.slice(0, 10).replaceAll("-", "")}-${iso.slice(11, 19).replaceAll(":", "")}`;
  const random = crypto.getRandomValues(new Uint8Array(3));
  return `${stamp}-${[...random].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** The id of the `n`th job (1-based) of a run: `<run id>.<n, six digits>`, in plan order. */
export function runJobId(runId: string, n: number): string {
  return `${runId}.${String(n).padStart(6, "0")}`;
}

/** The run id of a job id made by {@link runJobId}, or null for anything else. */
export function runIdOfJob(jobId: string | null): string | null {
  if (!jobId) return null;
  const i = jobId.lastIndexOf(".");
  return i > 0 && /^\d+$/.test(jobId.slice(i + 1)) ? jobId.slice(0, i) : null;
}

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
 * `running` actions — whether the run that started them is dead. Writes nothing.
 */
export async function planRepoRun(
  session: RunSession,
  options: PlanRepoRunOptions = {},
): Promise<RepoPlan> {
  const [serviceList, actorList] = await Promise.all([
    session.store.loadServices(),
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
  return { plan, services, actors, interrupted };
}

/**
 * The ids of the runs behind `running` actions whose holder is gone: a process on this host
 * that no longer exists, a run already final or unknown, or a run that no longer holds the
 * repository lock (its heartbeat lapsed).
 */
async function deadHolders(
  session: RunSession,
  services: readonly ServiceRecord[],
): Promise<Set<string>> {
  const runIds = new Set<string>();
  for (const s of services) {
    for (const record of Object.values(s.actions)) {
      if (record.state !== "running") continue;
      const id = runIdOfJob(record.lastJob);
      if (id) runIds.add(id);
    }
  }
  const dead = new Set<string>();
  if (runIds.size === 0) return dead;
  const lock = await session.driver.readLock(REPO_LOCK);
  for (const id of runIds) {
    const run = await session.store.loadRun(id);
    const holder = run?.holder;
    const alive = run !== null && !FINAL_RUN_STATES.has(run.state) && holder !== null &&
      !(holder!.host === thisHost() && !isProcessAlive(holder!.pid)) &&
      lock !== null && lock.holder.id === id;
    if (!alive) dead.add(id);
  }
  return dead;
}

/**
 * Plans and executes a run over the store (SPEC §6.2), or resumes the recorded run `runId`
 * when it is not final (a final one is returned as it is). The run is recorded before any job
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
  const ownPool = options.pool === undefined;
  const pool = options.pool ?? new WorkerPool({ size: parallel });
  // Starting workers costs tens of milliseconds each on Deno: overlap it with the store work.
  const warming = ownPool ? pool.warm().catch(() => {}) : Promise.resolve();
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
    const runStore = await openRepoStore(session.driver, { repoName: session.repo.name });
    const existing = await runStore.loadRun(runId);
    if (existing && FINAL_RUN_STATES.has(existing.state)) {
      return { run: existing, jobs: await runStore.loadJobs(runId) };
    }
    await closeDeadRuns(runStore, runId, now());
    const scope = cleanScope(existing?.scope ?? options.scope ?? {});
    const repoPlan = await planRepoRun(session, { scope, lockHeld: true });
    // Due default actions the file does not export are done without a job (docs/runs.md).
    const satisfied = markSatisfied(repoPlan.services, repoPlan.plan.satisfied);
    if (satisfied.length > 0) await session.store.save({ services: satisfied });
    for (const s of satisfied) repoPlan.services.set(serviceName(s.role, s.name), s);
    if (options.skipEmpty && !existing && repoPlan.plan.steps.length === 0) {
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
    const runner = new RecordedRun({ ...session, store: runStore }, repoPlan, {
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
    if (ownPool) await pool.close();
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

/**
 * Called under the repository lock: any other run still recorded as `running` belongs to a
 * holder that died (a live one would hold the lock). Ends it `error` and its jobs that were
 * running `error` ("interrupted"), those that never started `cancelled`, so history tells the
 * truth. The resumed run (`runId`) keeps its finished jobs; its interrupted ones end the same way
 * and its not started ones `cancelled` (the resumed run plans them again).
 */
async function closeDeadRuns(store: RepoStore, runId: string, at: number): Promise<void> {
  for (const run of await store.listRuns()) {
    if (run.state !== "running" && !(run.id === runId && run.state === "new")) continue;
    const jobs = await store.loadJobs(run.id);
    const holder = run.holder ? `pid ${run.holder.pid} on ${run.holder.host}` : "its holder";
    const changed: JobRecord[] = [];
    for (const job of jobs) {
      if (job.state === "running") {
        changed.push({
          ...job,
          state: "error",
          endedAt: at,
          error: { message: `interrupted: the run's process (${holder}) died` },
        });
      } else if (job.state === "new") {
        // A resumed run plans again: what it still has to do gets new job records.
        const message = run.id === runId
          ? "re-planned when the run was resumed"
          : "run interrupted";
        changed.push({ ...job, state: "cancelled", error: { message } });
      }
    }
    await store.saveJobs(changed);
    if (run.id !== runId) await store.saveRun({ ...run, state: "error", endedAt: at });
  }
}

interface RecordedRunOptions extends RepoRunOptions {
  runId: string;
  scope: RunScope;
  parallel: number;
  existing: RunRecord | null;
  now: () => number;
  pool: WorkerPool;
  lockLost: AbortSignal;
}

/** One run being recorded and executed. */
class RecordedRun {
  readonly #session: RunSession;
  readonly #plan: RepoPlan;
  readonly #options: RecordedRunOptions;
  readonly #jobs = new Map<string, JobRecord>();
  readonly #before = new Map<string, ActionState>();
  readonly #hashes = new Map<string, string | null>();
  readonly #logs = new Map<string, string[]>();
  #logTimer: ReturnType<typeof setInterval> | undefined;
  readonly #mirror: RunMirror | null;
  #run!: RunRecord;
  #previousJobs: JobRecord[] = [];

  constructor(session: RunSession, plan: RepoPlan, options: RecordedRunOptions) {
    this.#session = session;
    this.#plan = plan;
    this.#options = options;
    this.#mirror = options.mirror === false
      ? null
      : new RunMirror(session.repo.path, plan.services, plan.actors, (error) =>
        options.onMirrorError?.(error));
  }

  /** Records the run (state `new`) and all its jobs (`new`) before anything runs. */
  async record(): Promise<void> {
    const { store } = this.#session;
    const { runId, existing, now } = this.#options;
    this.#previousJobs = existing ? await store.loadJobs(runId) : [];
    let seq = this.#previousJobs.length;
    for (const step of this.#plan.plan.steps) {
      for (const job of step) {
        const id = runJobId(runId, ++seq);
        this.#jobs.set(graphId(job), {
          id,
          runId,
          service: job.service,
          action: job.action,
          state: "new",
          attempts: 0,
          startedAt: null,
          endedAt: null,
          result: null,
          error: null,
          actionsHash: null,
        });
        const svc = this.#plan.services.get(job.service)!;
        this.#before.set(graphId(job), svc.actions[job.action]?.state ?? "new");
      }
    }
    await this.#hashActions();
    for (const job of this.#jobs.values()) {
      const svc = this.#plan.services.get(job.service)!;
      job.actionsHash = this.#hashes.get(svc.actor) ?? null;
    }
    this.#run = {
      id: runId,
      repo: this.#session.repo.name,
      scope: this.#options.scope,
      steps: this.#plan.plan.steps,
      state: "new",
      createdAt: existing?.createdAt ?? now(),
      startedAt: null,
      endedAt: null,
      holder: { pid: process.pid, host: thisHost() },
    };
    await store.saveJobs([...this.#jobs.values()]);
    await store.saveRun(this.#run);
    const notes = this.#plan.interrupted.flatMap((id) => {
      const job = this.#jobs.get(id);
      if (!job) return [];
      const svc = this.#plan.services.get(job.service)!;
      const last = svc.actions[job.action]?.lastJob ?? "unknown";
      return [{ id: job.id, line: `[warn] interrupted attempt (job ${last}): running it again` }];
    });
    for (const note of notes) await store.appendJobLog(note.id, note.line);
    this.#emit({ type: "run", run: this.#run, jobs: this.#allJobs() });
  }

  /** Hashes each actions file of the plan once and keeps its source under its SHA-256. */
  async #hashActions(): Promise<void> {
    for (const job of this.#jobs.values()) {
      const svc = this.#plan.services.get(job.service)!;
      if (this.#hashes.has(svc.actor)) continue;
      const path = this.#plan.actors.get(svc.actor)?.actionsPath ?? null;
      let hash: string | null = null;
      if (path) {
        try {
          const file = await hashActionsFile(path);
          hash = await this.#session.store.saveActionSource(file.source);
        } catch {
          // A missing file fails its jobs when the worker imports it; nothing to keep here.
        }
      }
      this.#hashes.set(svc.actor, hash);
    }
  }

  /** Executes the plan, recording as it goes; resolves with the final run. */
  async execute(): Promise<RepoRunResult> {
    const { store } = this.#session;
    const options = this.#options;
    this.#run = { ...this.#run, state: "running", startedAt: options.now() };
    await store.saveRun(this.#run);
    this.#emit({ type: "run", run: this.#run, jobs: this.#allJobs() });
    const signal = anySignal([options.signal, options.lockLost]);
    this.#logTimer = setInterval(() => void this.#flushLogs().catch(() => {}), 1000);
    this.#mirror?.start();
    try {
      const result = await executePlan(this.#plan.plan, {
        pool: options.pool,
        concurrency: options.parallel,
        failFast: options.failFast,
        signal,
        killSignal: options.killSignal,
        graceMs: options.graceMs,
        settings: (job) => actionSettings(this.#actorOf(job.service), job.action),
        request: (job) => this.#request(job),
        accept: (job, outcome) => this.#accept(job, outcome),
        onLog: (job, text) => this.#log(graphId(job), text),
        onRetry: async (job, outcome, delayMs) => {
          const record = this.#jobs.get(graphId(job))!;
          record.attempts = outcome.attempt + 1;
          const error = outcome.error?.message ?? "failed";
          this.#log(
            graphId(job),
            `[warn] attempt ${outcome.attempt} failed: ${error}; ` +
              `retrying in ${delayMs} ms\n`,
          );
          await store.saveJob(record);
          this.#emit({ type: "retry", job: { ...record }, run: this.#run, error, delayMs });
        },
        onEvent: async (event) => {
          if (event.type === "start") await this.#started(event.id);
          else if (event.type === "end") {
            await this.#ended(event.id, event.state, event.result, event.error);
          } else await this.#skipped(event.id, event.state, event.reason);
        },
      });
      clearInterval(this.#logTimer);
      await this.#flushLogs();
      await this.#mirror?.stop();
      this.#run = { ...this.#run, state: result.state, endedAt: options.now() };
      await store.saveRun(this.#run);
      this.#emit({ type: "run", run: this.#run, jobs: this.#allJobs() });
      return { run: this.#run, jobs: this.#allJobs() };
    } finally {
      clearInterval(this.#logTimer);
      await this.#mirror?.stop();
    }
  }

  #allJobs(): JobRecord[] {
    return [...this.#previousJobs, ...this.#jobs.values()].map((job) => ({ ...job }));
  }

  #emit(event: RepoRunEvent): void {
    try {
      this.#options.onEvent?.(event);
    } catch {
      // Output must never break a run.
    }
  }

  #actorOf(name: string): ActorRecord | undefined {
    const svc = this.#plan.services.get(name);
    return svc ? this.#plan.actors.get(svc.actor) : undefined;
  }

  #request(job: PlannedJob): JobRequest {
    const svc = this.#plan.services.get(job.service)!;
    const actor = this.#plan.actors.get(svc.actor);
    const scoped = this.#options.scope.action;
    const base = scoped === undefined || scoped === job.action ? this.#options.args : undefined;
    // Arguments kept on the action (`ays blueprint` puts processChange's `changes` there),
    // then those of the command, then the caller's per-job ones.
    const args = {
      ...svc.actions[job.action]?.args,
      ...base,
      ...this.#options.jobArgs?.(job, svc),
    };
    return {
      actionsPath: actor?.actionsPath ?? null,
      action: job.action,
      args,
      runId: this.#options.runId,
      repo: { name: this.#session.repo.name, path: this.#session.repo.path },
      service: jobServiceData(svc, (name) => this.#plan.services.get(name)),
      secrets: secretValues(actor?.fields ?? [], svc.data),
    };
  }

  /** A successful job's data must still fit the schema, or the job fails. */
  #accept(job: PlannedJob, outcome: JobOutcome): JobOutcome {
    return acceptOutcome(this.#actorOf(job.service), outcome);
  }

  async #started(id: string): Promise<void> {
    const record = this.#jobs.get(id)!;
    const at = this.#options.now();
    record.state = "running";
    record.attempts = 1;
    record.startedAt = at;
    // The action is `running` and durable before its job starts (both writes are awaited
    // before the walker hands the job to a worker): a crash from here on leaves it for the
    // next run as an interrupted attempt.
    await Promise.all([
      this.#updateService(record.service, false, (svc) => {
        const action = svc.actions[record.action];
        if (action) {
          svc.actions[record.action] = {
            ...action,
            state: "running",
            lastRun: at,
            lastJob: record.id,
          };
        }
        return svc;
      }),
      this.#session.store.saveJob({ ...record }),
    ]);
    this.#emit({ type: "job", job: { ...record }, run: this.#run });
  }

  async #ended(id: string, state: "ok" | "error" | "cancelled", result: unknown, error: unknown) {
    const record = this.#jobs.get(id)!;
    const outcome = state === "ok"
      ? result as JobOutcome
      : error instanceof JobFailedError
      ? error.outcome
      : undefined;
    const before = this.#before.get(id) ?? "scheduled";
    record.state = state;
    record.attempts = Math.max(record.attempts, outcome?.attempt ?? 1);
    record.endedAt = this.#options.now();
    record.result = state === "ok" ? (outcome?.result ?? null) : null;
    record.error = state === "ok" ? null : errorOf(outcome, error, state);
    // The log, the service (data with the action's final state, one write) and the job
    // record; all three are durable before the walker lets dependents start.
    const log = async () => {
      await this.#flushLogs(record.id);
      const last = errorLogLine(outcome);
      if (last !== undefined) await this.#session.store.appendJobLog(record.id, last);
    };
    await Promise.all([
      log(),
      this.#updateService(
        record.service,
        true,
        (svc) =>
          endAction(svc, record.action, { state, before, data: outcome?.data, jobId: record.id }),
      ),
      this.#session.store.saveJob({ ...record }),
    ]);
    this.#emit({ type: "job", job: { ...record }, run: this.#run });
  }

  async #skipped(id: string, state: "skipped" | "cancelled", reason: string): Promise<void> {
    const record = this.#jobs.get(id)!;
    record.state = state;
    record.error = { message: reason };
    await this.#session.store.saveJob(record);
    this.#emit({ type: "job", job: { ...record }, run: this.#run });
  }

  /**
   * Read-modify-write of one service; the run's view of it follows. `mirrored`: the change
   * goes to the mirror too (not the transient `running`).
   */
  async #updateService(
    name: string,
    mirrored: boolean,
    mutate: (svc: ServiceRecord) => ServiceRecord,
  ) {
    const known = this.#plan.services.get(name)!;
    const saved = await this.#session.store.updateService(known.key, mutate);
    if (saved) this.#plan.services.set(name, saved);
    if (mirrored) this.#mirror?.mark(name);
  }

  #log(id: string, text: string): void {
    const record = this.#jobs.get(id);
    if (!record) return;
    let pending = this.#logs.get(record.id);
    if (!pending) this.#logs.set(record.id, pending = []);
    pending.push(text);
  }

  /**
   * Writes the log text gathered so far (of one job, or of all), one append per job. Until the
   * job ends (`all`), a trailing partial line waits for the rest of it.
   */
  async #flushLogs(only?: string): Promise<void> {
    const ids = only === undefined ? [...this.#logs.keys()] : [only];
    for (const jobId of ids) {
      const pending = this.#logs.get(jobId);
      if (!pending || pending.length === 0) continue;
      const text = pending.join("");
      const cut = only === undefined ? text.lastIndexOf("\n") + 1 : text.length;
      if (cut === 0) continue;
      pending.length = 0;
      if (cut < text.length) pending.push(text.slice(cut));
      else this.#logs.delete(jobId);
      const lines = logLines(text.slice(0, cut));
      if (lines.length > 0) await this.#session.store.appendJobLog(jobId, lines);
    }
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

/** A signal that fires when any of `signals` does. */
function anySignal(signals: (AbortSignal | undefined)[]): AbortSignal {
  const controller = new AbortController();
  for (const s of signals) {
    if (!s) continue;
    if (s.aborted) {
      controller.abort(s.reason);
      break;
    }
    s.addEventListener("abort", () => controller.abort(s.reason), { once: true });
  }
  return controller.signal;
}
