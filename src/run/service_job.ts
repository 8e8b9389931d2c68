/**
 * One job of one action of one service outside a run — the daemon's recurring actions
 * (docs/daemon.md, "Recurring actions") — through the same {@link JobRecorder} as the jobs of
 * a run: recorded `running` with the action before it starts, its log appended as it comes,
 * retried per the action's settings, its data validated, then ended. Without prerequisites
 * and outside the run lock (the store's guarded updates keep concurrent writers apart).
 *
 * @module
 */
import {
  type ActorRecord,
  flatProducers,
  type JobRecord,
  parseServiceName,
  serviceName,
  type ServiceRecord,
} from "../model/mod.ts";
import type { RepoStore } from "../store/mod.ts";
import { actionSettings, type RunSettingDefaults } from "./execute.ts";
import { acceptOutcome } from "./job_end.ts";
import type { JobOutcome, JobRunner } from "./job_protocol.ts";
import { ActionSources, JobRecorder, newJobRecord } from "./job_recorder.ts";
import { jobRequest } from "./job_request.ts";
import { runJob } from "./run_job.ts";

/** Where the job runs: the repository's records and folder. */
export interface ServiceJobSession {
  store: RepoStore;
  repo: { name: string; path: string; config?: { noexec?: boolean } & RunSettingDefaults };
}

/** The job: an action of a service (as loaded by the caller). */
export interface ServiceJobTarget {
  service: ServiceRecord;
  action: string;
  /**
   * The service's actor when the caller has loaded it already (null: it has none); left out,
   * it is loaded here. Saves the daemon's recurring jobs a second store read per job.
   */
  actor?: ActorRecord | null;
}

/** Options of {@link runServiceJob}. */
export interface ServiceJobOptions {
  /** The runner the job goes to (left open). */
  pool: JobRunner;
  /** The run id the job is recorded under (a pseudo run: no run record). */
  runId: string;
  /** The job's id. */
  jobId: string;
  /** When it started (the action's `lastRun`); default now. */
  startedAt?: number;
  /** Cancellation: the job gets `job.signal`; no retry starts. */
  signal?: AbortSignal;
  /** Clock (default `Date.now`). */
  now?: () => number;
}

/**
 * Runs `target.action` on `target.service` as a job of its own and resolves with its final
 * record (`ok`, `error` or `cancelled`; `cancelled` too when the service or the action was
 * deleted meanwhile). Rejects only when the store fails.
 */
export async function runServiceJob(
  session: ServiceJobSession,
  target: ServiceJobTarget,
  options: ServiceJobOptions,
): Promise<JobRecord> {
  const { pool, runId, jobId, signal } = options;
  const now = options.now ?? Date.now;
  const startedAt = options.startedAt ?? now();
  const { store } = session;
  const { service, action } = target;
  const actor =
    (target.actor === undefined ? await store.loadActor(service.actor) : target.actor) ??
      undefined;
  const record = newJobRecord(jobId, runId, {
    service: serviceName(service.role, service.name),
    action,
    actionsHash: await new ActionSources(store).hashOf(actor),
  });
  const recorder = new JobRecorder(store, record, {
    serviceKey: service.key,
    before: service.actions[action]?.state ?? "new",
    now,
  });
  const started = await recorder.start(startedAt);
  if (!started) return recorder.job;
  const related = await loadRelated(store, started);
  const relatedActors = await loadActors(store, related.values());
  const request = jobRequest(started, action, {
    actor,
    lookup: (name) => related.get(name),
    actors: (name) => relatedActors.get(name),
    runId,
    repo: session.repo,
    noexec: session.repo.config?.noexec === true,
  });
  let outcome: JobOutcome;
  try {
    outcome = await runJob(pool, request, {
      settings: actionSettings(actor, action, { defaults: session.repo.config }),
      signal,
      onLog: (text) => recorder.log(text),
      onRetry: (failed, delayMs) => recorder.retry(failed, delayMs).then(() => {}),
    });
    outcome = acceptOutcome(actor, outcome);
  } catch (error) {
    // The runner is gone (closed, unreachable): the job failed without an outcome.
    return await recorder.end("error", undefined, error);
  }
  const state = outcome.ok ? "ok" : outcome.cancelled ? "cancelled" : "error";
  return await recorder.end(state, outcome);
}

/** The parent, producers and consumers of a service, by `role!instance`. */
async function loadRelated(
  store: RepoStore,
  service: ServiceRecord,
): Promise<Map<string, ServiceRecord>> {
  const related = new Map<string, ServiceRecord>();
  const names = [
    ...(service.parent ? [service.parent] : []),
    ...flatProducers(service),
    ...service.consumers,
  ];
  for (const name of new Set(names)) {
    const parsed = parseServiceName(name);
    if (!parsed) continue;
    const found = await store.loadServiceByName(parsed.role, parsed.instance);
    if (found) related.set(name, found);
  }
  // The parent's ancestors too: the job's executor may come from any of them
  // (docs/executors.md).
  let ancestor = service.parent ? related.get(service.parent)?.parent : null;
  for (let depth = 0; ancestor && !related.has(ancestor) && depth < 64; depth++) {
    const parsed = parseServiceName(ancestor);
    const found = parsed && await store.loadServiceByName(parsed.role, parsed.instance);
    if (!found) break;
    related.set(ancestor, found);
    ancestor = found.parent;
  }
  return related;
}

/** The actors of `services` by name (their secret fields are masked in the job's output). */
async function loadActors(
  store: RepoStore,
  services: Iterable<ServiceRecord>,
): Promise<Map<string, ActorRecord>> {
  const actors = new Map<string, ActorRecord>();
  for (const name of new Set([...services].map((s) => s.actor))) {
    const found = await store.loadActor(name);
    if (found) actors.set(name, found);
  }
  return actors;
}
