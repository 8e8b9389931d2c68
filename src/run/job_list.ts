/**
 * `ays jobs` and `GET /repos/{name}/jobs` (docs/events.md, "ays jobs"): the job records of the
 * repository's runs and of the daemon's recurring actions, newest first, filtered like the
 * other commands (`-r`, `-i`, `--action`) and by state and kind.
 *
 * @module
 */
import { InputError } from "../errors.ts";
import { compileNameRegex, type JobRecord, parseServiceName } from "../model/mod.ts";
import type { RepoStore } from "../store/mod.ts";
import { type JobView, jobView } from "./run_views.ts";

/** The job states a filter may name. */
export const JOB_STATES: readonly JobRecord["state"][] = [
  "new",
  "running",
  "ok",
  "error",
  "skipped",
  "cancelled",
];

/** Which jobs to list. */
export interface JobFilter {
  /** A role, or a full actor name. */
  role?: string;
  /** A regex matched against the whole instance name. */
  instance?: string;
  action?: string;
  /** true: only the recurring actions' jobs; false: only the runs' jobs; unset: both. */
  recurring?: boolean;
  state?: string;
  /** At most this many (the newest); default 100, 0 for all. */
  limit?: number;
}

/** One listed job: its record as `ays run show` shows it, with where it belongs. */
export interface JobListEntry extends JobView {
  /** The run it belongs to; for a recurring job, `recurring.<service>.<action>`. */
  runId: string;
  /** Whether it is a job of a recurring action (run by the daemon). */
  recurring: boolean;
}

/** Refuses a filter that could only match nothing by mistake (exit 2). */
export function checkJobFilter(filter: JobFilter): void {
  const { state, limit } = filter;
  if (state !== undefined && !(JOB_STATES as readonly string[]).includes(state)) {
    throw new InputError(`unknown job state '${state}': one of ${JOB_STATES.join(", ")}`);
  }
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) {
    throw new InputError(`the limit must be a whole number ≥ 0, not '${limit}'`);
  }
  if (filter.instance !== undefined) compileNameRegex(filter.instance, { what: "instance" });
}

/** The jobs of the repository matching `filter`, newest first (two bulk queries). */
export async function listJobs(
  store: Pick<RepoStore, "loadAllJobs" | "loadServices">,
  filter: JobFilter = {},
): Promise<JobListEntry[]> {
  checkJobFilter(filter);
  const { role, instance, action, recurring, state, limit = 100 } = filter;
  const [jobs, services] = await Promise.all([
    store.loadAllJobs(),
    role === undefined ? Promise.resolve([]) : store.loadServices(),
  ]);
  const actorOf = new Map(services.map((s) => [`${s.role}!${s.name}`, s.actor]));
  const pattern = instance === undefined ? null : compileNameRegex(instance, { what: "instance" });
  const matches = jobs.filter((job) => {
    const isRecurring = job.runId.startsWith("recurring.");
    if (recurring !== undefined && isRecurring !== recurring) return false;
    if (state !== undefined && job.state !== state) return false;
    if (action !== undefined && job.action !== action) return false;
    const name = nameOf(job.service);
    if (role !== undefined && name.role !== role && actorOf.get(job.service) !== role) {
      return false;
    }
    return pattern === null || pattern.test(name.instance);
  });
  // Newest first: by start (never-started jobs by their run's order), then by id.
  matches.sort((a, b) =>
    (b.startedAt ?? b.endedAt ?? 0) - (a.startedAt ?? a.endedAt ?? 0) ||
    (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)
  );
  const kept = limit === 0 ? matches : matches.slice(0, limit);
  return kept.map((job) => ({
    ...jobView(job),
    runId: job.runId,
    recurring: job.runId.startsWith("recurring."),
  }));
}

function nameOf(service: string): { role: string; instance: string } {
  return parseServiceName(service) ?? { role: service, instance: "" };
}
