/**
 * How long each action of an actor is expected to take, from the job history (docs/runs.md,
 * "Which ready job starts first"): the median duration of the last jobs of that action across
 * the actor's services. The run weighs its critical paths with it; an action without history
 * weighs 1 (one second).
 *
 * @module
 */
import type { JobRecord, PlannedJob, ServiceRecord } from "../model/mod.ts";
import type { RepoStore } from "../store/mod.ts";
import { runIdOfJob } from "./run_ids.ts";

/** The weight of a job whose action has no recorded job yet, in seconds. */
export const UNKNOWN_DURATION = 1;

/** Options of {@link loadActionDurations}. */
export interface ActionDurationsOptions {
  /** How many of the newest jobs of each action count (default 5; at least 1). */
  last?: number;
}

/** Expected seconds per `actor` and `action`. */
export class ActionDurations {
  readonly #seconds: ReadonlyMap<string, number>;

  constructor(seconds: ReadonlyMap<string, number>) {
    this.#seconds = seconds;
  }

  /** The median seconds of the action's last jobs, or {@link UNKNOWN_DURATION}. */
  of(actor: string, action: string): number {
    return this.#seconds.get(durationKey(actor, action)) ?? UNKNOWN_DURATION;
  }

  /** How many actions have a recorded duration. */
  get size(): number {
    return this.#seconds.size;
  }
}

/**
 * Loads the last jobs of every action of `services` — per actor and action the `last` newest
 * by the action's `lastRun`, so a few loads however many services there are — and keeps the
 * median duration of those that ran to an end (`ok` or `error`).
 */
export async function loadActionDurations(
  store: Pick<RepoStore, "loadJob">,
  services: Iterable<ServiceRecord>,
  options: ActionDurationsOptions = {},
): Promise<ActionDurations> {
  const { last = 5 } = options;
  if (!Number.isInteger(last) || last < 1) {
    throw new TypeError(`last must be a whole number ≥ 1, got ${last}`);
  }
  const newest = new Map<string, { at: number; job: string }[]>();
  for (const service of services) {
    for (const [action, record] of Object.entries(service.actions)) {
      if (record.lastJob === null || record.lastRun === null) continue;
      const key = durationKey(service.actor, action);
      let kept = newest.get(key);
      if (!kept) newest.set(key, kept = []);
      if (kept.length === last && kept[last - 1].at >= record.lastRun) continue;
      kept.push({ at: record.lastRun, job: record.lastJob });
      kept.sort((a, b) => b.at - a.at);
      if (kept.length > last) kept.pop();
    }
  }
  const seconds = new Map<string, number>();
  await Promise.all([...newest].map(async ([key, kept]) => {
    const jobs = await Promise.all(kept.map(({ job }) => {
      const run = runIdOfJob(job);
      return run === null ? null : store.loadJob(run, job);
    }));
    const durations = jobs.flatMap((job) => {
      const d = job ? durationOf(job) : null;
      return d === null ? [] : [d];
    });
    if (durations.length > 0) seconds.set(key, median(durations));
  }));
  return new ActionDurations(seconds);
}

/** A job's weight for the planner: the expected seconds of its service's actor's action. */
export function jobWeight(
  durations: ActionDurations,
  services: ReadonlyMap<string, ServiceRecord>,
): (job: PlannedJob) => number {
  return (job) => {
    const service = services.get(job.service);
    return service ? durations.of(service.actor, job.action) : UNKNOWN_DURATION;
  };
}

function durationKey(actor: string, action: string): string {
  return `${actor}\n${action}`;
}

function durationOf(job: JobRecord): number | null {
  if (job.state !== "ok" && job.state !== "error") return null;
  if (job.startedAt === null || job.endedAt === null || job.endedAt < job.startedAt) return null;
  return (job.endedAt - job.startedAt) / 1000;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
