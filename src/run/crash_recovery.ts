/**
 * After a crash (docs/runs.md, "Crash recovery"): which `running` actions were left by a
 * holder that is gone, and closing the runs such a holder left `running`, so that history
 * tells the truth and the next run takes the interrupted actions again.
 *
 * @module
 */
import type { JobRecord, RunRecord, ServiceRecord } from "../model/mod.ts";
import {
  isProcessAlive,
  REPO_LOCK,
  type RepoStore,
  type StoreDriver,
  thisHost,
} from "../store/mod.ts";
import { runIdOfJob } from "./run_ids.ts";

/** Run states after which a run never changes again. */
export const FINAL_RUN_STATES: ReadonlySet<RunRecord["state"]> = new Set([
  "ok",
  "error",
  "cancelled",
]);

/** What {@link deadHolders} reads. */
export interface HolderSession {
  store: Pick<RepoStore, "loadRun">;
  driver: Pick<StoreDriver, "readLock">;
}

/**
 * The ids of the runs behind `running` actions whose holder is gone: a process on this host
 * that no longer exists, a run already final or unknown, or a run that no longer holds the
 * repository lock (its heartbeat lapsed).
 */
export async function deadHolders(
  session: HolderSession,
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
    const holder = run?.holder ?? null;
    const alive = run !== null && !FINAL_RUN_STATES.has(run.state) && holder !== null &&
      !(holder.host === thisHost() && !isProcessAlive(holder.pid)) &&
      lock !== null && lock.holder.id === id;
    if (!alive) dead.add(id);
  }
  return dead;
}

/**
 * Called under the repository lock: any other run still recorded as `running` belongs to a
 * holder that died (a live one would hold the lock). Ends it `error` and its jobs that were
 * running `error` ("interrupted"), those that never started `cancelled`, so history tells the
 * truth. The resumed run (`runId`) keeps its finished jobs; its interrupted ones end the same way
 * and its not started ones `cancelled` (the resumed run plans them again). Returns the ids of
 * the runs it closed (or re-planned): their mirror writes may not have happened.
 */
export async function closeDeadRuns(
  store: Pick<RepoStore, "openRuns" | "loadJobs" | "saveJobs" | "saveRun">,
  runId: string,
  at: number,
): Promise<string[]> {
  const closed: string[] = [];
  // Only the runs not final yet (the open-runs index, docs/store.md): the history stays unread.
  for (const run of await store.openRuns()) {
    if (run.state !== "running" && !(run.id === runId && run.state === "new")) continue;
    closed.push(run.id);
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
  return closed;
}
