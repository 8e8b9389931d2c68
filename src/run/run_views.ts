/**
 * The JSON shapes of runs and jobs (docs/runs.md, "JSON shapes"): what `ays runs --json`, `ays run show ID --json`
 * and `ays run --json` print, and what the daemon's HTTP API answers — one set of functions,
 * so they cannot drift apart. Times are ISO 8601 (or null), durations seconds.
 *
 * @module
 */
import { InputError } from "../errors.ts";
import type { JobRecord, RunRecord } from "../model/mod.ts";
import type { RepoStore } from "../store/mod.ts";

/** One run in `ays runs --json`. */
export interface RunListEntry {
  id: string;
  repo: string;
  state: RunRecord["state"];
  scope: RunRecord["scope"];
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  /** Seconds from start to end, or null. */
  duration: number | null;
  /** How many jobs were planned. */
  jobs: number;
  holder: RunRecord["holder"];
}

/** One job in `ays run show ID --json`. */
export interface JobView {
  id: string;
  service: string;
  action: string;
  state: JobRecord["state"];
  attempts: number;
  startedAt: string | null;
  endedAt: string | null;
  duration: number | null;
  result: unknown;
  error: JobRecord["error"];
  actionsHash: string | null;
  /** The last lines of the job log (when asked for). */
  log?: string[];
}

/** A run with its steps and jobs. */
export interface RunDetail extends Omit<RunListEntry, "jobs"> {
  steps: string[][];
  /** Jobs by state. */
  counts: Record<string, number>;
  jobs: JobView[];
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function seconds(start: number | null, end: number | null): number | null {
  return start === null || end === null ? null : (end - start) / 1000;
}

/** The list entry of a run. */
export function runListEntry(run: RunRecord): RunListEntry {
  return {
    id: run.id,
    repo: run.repo,
    state: run.state,
    scope: run.scope,
    createdAt: iso(run.createdAt)!,
    startedAt: iso(run.startedAt),
    endedAt: iso(run.endedAt),
    duration: seconds(run.startedAt, run.endedAt),
    jobs: run.steps.reduce((n, step) => n + step.length, 0),
    holder: run.holder,
  };
}

/** The view of a job; `log` lines when given. */
export function jobView(job: JobRecord, log?: string[]): JobView {
  const view: JobView = {
    id: job.id,
    service: job.service,
    action: job.action,
    state: job.state,
    attempts: job.attempts,
    startedAt: iso(job.startedAt),
    endedAt: iso(job.endedAt),
    duration: seconds(job.startedAt, job.endedAt),
    result: job.result ?? null,
    error: job.error,
    actionsHash: job.actionsHash,
  };
  if (log) view.log = log;
  return view;
}

/** A run with its jobs (in plan order) and, per job, the given log lines. */
export function runDetail(
  run: RunRecord,
  jobs: readonly JobRecord[],
  logs?: ReadonlyMap<string, string[]>,
): RunDetail {
  const { jobs: _count, ...entry } = runListEntry(run);
  const counts: Record<string, number> = {};
  for (const job of jobs) counts[job.state] = (counts[job.state] ?? 0) + 1;
  return {
    ...entry,
    steps: run.steps.map((step) => step.map((job) => `${job.service} ${job.action}`)),
    counts,
    jobs: jobs.map((job) => jobView(job, logs?.get(job.id))),
  };
}

/**
 * Finds a run by its id, an unambiguous prefix of it, or `last` (the newest); an unknown or ambiguous id is an
 * {@link InputError} (exit 2).
 */
export async function findRun(store: RepoStore, id: string): Promise<RunRecord> {
  const exact = await store.loadRun(id);
  if (exact) return exact;
  if (id === "last") {
    // The newest run (`ays run show last`, `ays watch last`).
    const newest = (await store.listRuns())[0];
    if (newest) return newest;
    throw new InputError("no runs in this repository yet (see ays runs)");
  }
  const matches = id === "" ? [] : (await store.listRuns()).filter((run) => run.id.startsWith(id));
  if (matches.length === 1) return matches[0];
  if (matches.length > 1) {
    throw new InputError(
      `run id ${id} is ambiguous: ${matches.slice(0, 5).map((r) => r.id).join(", ")}` +
        (matches.length > 5 ? ", …" : ""),
    );
  }
  throw new InputError(`no run ${id} in this repository (see ays runs)`);
}

/** `ays run show ID --json`: the run with its jobs and the last `tail` lines of each job log. */
export async function loadRunDetail(
  store: RepoStore,
  id: string,
  options: { tail?: number } = {},
): Promise<RunDetail> {
  const run = await findRun(store, id);
  const jobs = await store.loadJobs(run.id);
  const tail = options.tail ?? 20;
  const logs = new Map<string, string[]>();
  if (tail > 0) {
    for (const job of jobs) {
      if (job.state === "new") continue;
      const lines = await store.readJobLog(job.id);
      if (lines.length > 0) logs.set(job.id, lines.slice(-tail));
    }
  }
  return runDetail(run, jobs, logs);
}
