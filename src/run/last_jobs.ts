/**
 * The last job of every action of some services, so `ays show` and the daemon's API can say
 * why each action is in its state (docs/guide.md, "Other commands for services").
 *
 * @module
 */
import type { JobRecord, ServiceRecord } from "../model/mod.ts";
import type { RepoStore } from "../store/mod.ts";
import { runIdOfJob } from "./repo_run.ts";

/**
 * Loads the `lastJob` of every action of `services`, by job id. A job whose run was pruned
 * is simply not there.
 */
export async function loadLastJobs(
  store: Pick<RepoStore, "loadJob">,
  services: readonly ServiceRecord[],
): Promise<Map<string, JobRecord>> {
  const ids = services.flatMap((s) => Object.values(s.actions).map((a) => a.lastJob));
  const jobs = await Promise.all(ids.map(async (id) => {
    const run = runIdOfJob(id);
    return id === null || run === null ? null : await store.loadJob(run, id);
  }));
  return new Map(jobs.filter((j) => j !== null).map((j) => [j.id, j]));
}
