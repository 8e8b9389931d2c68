/**
 * One run being recorded and executed (docs/runs.md, "Runs over the store"): the run record
 * and all its jobs are written before anything runs, then the plan is walked with each job's
 * records kept by its {@link JobRecorder} — the same lifecycle as `ays do` and the daemon's
 * recurring jobs. `repo_run.ts` plans and locks; this module records and executes.
 *
 * @module
 */
import process from "node:process";
import type { ActorRecord, JobRecord, PlannedJob, RunRecord, ServiceRecord } from "../model/mod.ts";
import { type RepoStore, thisHost } from "../store/mod.ts";
import { remainingPaths } from "./critical_path.ts";
import { actionSettings, executePlan, type RunSettingDefaults } from "./execute.ts";
import { jobWeight, loadActionDurations } from "./job_durations.ts";
import { acceptOutcome } from "./job_end.ts";
import type { JobOutcome, JobRequest, JobRunner } from "./job_protocol.ts";
import { ActionSources, JobRecorder, newJobRecord } from "./job_recorder.ts";
import { jobRequest } from "./job_request.ts";
import { jobId as graphId } from "./plan.ts";
import { runJobId } from "./run_ids.ts";
import { RunEvents } from "./run_events.ts";
import { RunMirror } from "./run_mirror.ts";
import type {
  RepoPlan,
  RepoRunEvent,
  RepoRunOptions,
  RepoRunResult,
  RunScope,
} from "./repo_run_types.ts";

/** What a recorded run needs of its session. */
export interface RecordedRunSession {
  store: RepoStore;
  repo: { name: string; path: string; config?: { noexec?: boolean } & RunSettingDefaults };
}

/** Options of {@link RecordedRun}: those of the run, resolved. */
export interface RecordedRunOptions extends RepoRunOptions {
  runId: string;
  scope: RunScope;
  parallel: number;
  existing: RunRecord | null;
  now: () => number;
  pool: JobRunner;
  /** Fires when the repository lock is lost: the run stops as if cancelled. */
  lockLost: AbortSignal;
}

/** One run being recorded and executed. */
export class RecordedRun {
  readonly #session: RecordedRunSession;
  readonly #plan: RepoPlan;
  readonly #options: RecordedRunOptions;
  readonly #jobs = new Map<string, JobRecorder>();
  readonly #mirror: RunMirror | null;
  readonly #events: RunEvents;
  #run!: RunRecord;
  #previousJobs: JobRecord[] = [];
  /** Each job's remaining critical path, weighed by its action's recorded durations. */
  #priority: Map<string, number>;

  constructor(session: RecordedRunSession, plan: RepoPlan, options: RecordedRunOptions) {
    this.#session = session;
    this.#plan = plan;
    this.#options = options;
    this.#events = new RunEvents(options.events, options.runId);
    this.#priority = plan.plan.priority;
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
    await this.#weigh();
    const sources = new ActionSources(store);
    let seq = this.#previousJobs.length;
    for (const step of this.#plan.plan.steps) {
      for (const job of step) {
        const svc = this.#plan.services.get(job.service)!;
        const record = newJobRecord(runJobId(runId, ++seq), runId, {
          service: job.service,
          action: job.action,
          actionsHash: await sources.hashOf(this.#plan.actors.get(svc.actor)),
        });
        this.#jobs.set(
          graphId(job),
          new JobRecorder(store, record, {
            serviceKey: svc.key,
            before: svc.actions[job.action]?.state ?? "new",
            now,
            onService: (saved, final) => {
              // The run's view of the service follows; the mirror gets only final states.
              this.#plan.services.set(job.service, saved);
              if (final) this.#mirror?.mark(job.service);
              const state = saved.actions[job.action]?.state;
              if (state) this.#events.serviceState(job.service, job.action, state);
            },
          }),
        );
      }
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
    await store.saveJobs([...this.#jobs.values()].map((recorder) => recorder.job));
    await store.saveRun(this.#run);
    for (const id of this.#plan.interrupted) {
      const recorder = this.#jobs.get(id);
      if (!recorder) continue;
      const job = recorder.job;
      const last = this.#plan.services.get(job.service)?.actions[job.action]?.lastJob;
      await store.appendJobLog(
        job.id,
        `[warn] interrupted attempt (job ${last ?? "unknown"}): running it again`,
      );
    }
    this.#emit({ type: "run", run: this.#run, jobs: this.#allJobs() });
  }

  /** Executes the plan, recording as it goes; resolves with the final run. */
  async execute(): Promise<RepoRunResult> {
    const { store } = this.#session;
    const options = this.#options;
    this.#run = { ...this.#run, state: "running", startedAt: options.now() };
    await store.saveRun(this.#run);
    this.#emit({ type: "run", run: this.#run, jobs: this.#allJobs() });
    this.#events.started(this.#run, this.#jobs.size);
    const signals = [options.signal, options.lockLost].filter((s): s is AbortSignal => !!s);
    // A killed run can have left mirror files behind the store: bring them up to date first.
    // Its own jobs' services are written at the end anyway: not read and compared now.
    this.#mirror?.syncAll({ later: this.#plan.plan.steps.flat().map((job) => job.service) });
    this.#mirror?.start();
    try {
      const result = await executePlan(this.#plan.plan, {
        pool: options.pool,
        concurrency: options.parallel,
        failFast: options.failFast,
        signal: AbortSignal.any(signals),
        killSignal: options.killSignal,
        graceMs: options.graceMs,
        priority: (id) => this.#priority.get(id) ?? 0,
        settings: (job) =>
          actionSettings(this.#actorOf(job.service), job.action, {
            defaults: this.#session.repo.config,
          }),
        request: (job) => this.#request(job),
        accept: (job, outcome) => this.#accept(job, outcome),
        onLog: (job, text) => {
          const recorder = this.#recorder(graphId(job));
          recorder.log(text);
          this.#events.log(recorder.job, text);
        },
        onRetry: async (job, outcome, delayMs) => {
          const recorder = this.#recorder(graphId(job));
          const error = await recorder.retry(outcome, delayMs);
          this.#emit({ type: "retry", job: recorder.job, run: this.#run, error, delayMs });
          this.#events.retry(recorder.job, error);
        },
        onEvent: async (event) => {
          const recorder = this.#recorder(event.id);
          if (event.type === "start") await recorder.start(options.now());
          else if (event.type === "end") {
            await recorder.end(event.state, event.result, event.error);
          } else await recorder.skip(event.state, event.reason);
          this.#emit({ type: "job", job: recorder.job, run: this.#run });
          this.#events.job(recorder.job);
        },
      });
      await this.#mirror?.stop();
      this.#run = { ...this.#run, state: result.state, endedAt: options.now() };
      await store.saveRun(this.#run);
      this.#emit({ type: "run", run: this.#run, jobs: this.#allJobs() });
      this.#events.ended(this.#run, this.#allJobs());
      return { run: this.#run, jobs: this.#allJobs() };
    } finally {
      await this.#mirror?.stop();
    }
  }

  /**
   * Critical path first (docs/runs.md, "Which ready job starts first"): the plan's paths
   * counted in jobs become paths in expected seconds once the actions have a job history.
   */
  async #weigh(): Promise<void> {
    const { services, plan } = this.#plan;
    if (plan.steps.length === 0) return;
    const durations = await loadActionDurations(this.#session.store, services.values());
    if (durations.size === 0) return;
    const weight = jobWeight(durations, services);
    const layers = plan.steps.map((step) => step.map(graphId));
    this.#priority = remainingPaths(plan.graph, (_id, node) => weight(node), { layers });
  }

  #recorder(id: string): JobRecorder {
    const recorder = this.#jobs.get(id);
    if (!recorder) throw new Error(`no job ${id} in this run`);
    return recorder;
  }

  #allJobs(): JobRecord[] {
    return [
      ...this.#previousJobs.map((job) => ({ ...job })),
      ...[...this.#jobs.values()].map((recorder) => recorder.job),
    ];
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
    const svc: ServiceRecord = this.#plan.services.get(job.service)!;
    const scoped = this.#options.scope.action;
    const base = scoped === undefined || scoped === job.action ? this.#options.args : undefined;
    // Arguments of the command, then the caller's per-job ones (over the action's own).
    return jobRequest(svc, job.action, {
      actor: this.#actorOf(job.service),
      lookup: (name) => this.#plan.services.get(name),
      actors: (name) => this.#plan.actors.get(name),
      runId: this.#options.runId,
      repo: this.#session.repo,
      args: { ...base, ...this.#options.jobArgs?.(job, svc) },
      noexec: this.#session.repo.config?.noexec === true,
    });
  }

  /** A successful job's data must still fit the schema, or the job fails. */
  #accept(job: PlannedJob, outcome: JobOutcome): JobOutcome {
    return acceptOutcome(this.#actorOf(job.service), outcome);
  }
}
