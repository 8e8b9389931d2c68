/**
 * Tidying the jobs recorded under one pseudo run id (the daemon's recurring jobs of one
 * action of one service, docs/daemon.md): records a killed process left `running` end
 * `error`, and only the newest records are kept, with their logs.
 *
 * @module
 */
import type { RepoStore } from "../store/mod.ts";

/** Options of {@link tidyJobHistory}. */
export interface TidyJobHistoryOptions {
  /** How many records to keep (the newest); at least 1. */
  keep: number;
  /** When the stale records end (epoch ms). */
  at: number;
  /** The error of a record found `running` (its process died). */
  interrupted: string;
}

/**
 * Ends every job of `runId` still recorded `running` (only one process runs them, and it is
 * past them, so none is alive), then deletes the oldest records and their logs beyond
 * `keep`. Job ids must sort in start order (those of recurring jobs end in the start time).
 */
export async function tidyJobHistory(
  store: Pick<RepoStore, "loadJobs" | "saveJobs" | "deleteJobs">,
  runId: string,
  options: TidyJobHistoryOptions,
): Promise<void> {
  const { at, interrupted } = options;
  const keep = Math.max(1, options.keep);
  const jobs = await store.loadJobs(runId);
  const stale = jobs.filter((job) => job.state === "running");
  if (stale.length > 0) {
    await store.saveJobs(stale.map((job) => ({
      ...job,
      state: "error" as const,
      endedAt: at,
      error: { message: interrupted },
    })));
  }
  if (jobs.length > keep) await store.deleteJobs(jobs.slice(0, jobs.length - keep));
}
