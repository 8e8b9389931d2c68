/**
 * Preparing a job on the host: the {@link JobRequest} a runner gets (the service with views
 * of its parent, producers and consumers, its arguments and secrets) and the hash of the
 * actions file recorded on the job. Shared by runs, `ays do` and the daemon's recurring jobs.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { type ActorRecord, secretValues, type ServiceRecord } from "../model/mod.ts";
import type { ServiceView } from "./job_api.ts";
import type { AncestorData, JobRequest, JobServiceData } from "./job_protocol.ts";

/** Looks a service up by `role!instance`. */
export type ServiceLookup = (name: string) => ServiceRecord | undefined;

/** Looks an actor up by its name. */
export type ActorLookup = (name: string) => ActorRecord | undefined;

/** The read-only view of a related service. */
export function serviceView(service: ServiceRecord): ServiceView {
  return { name: service.name, actor: service.actor, role: service.role, data: service.data };
}

/**
 * The service part of a {@link JobRequest}: the service's data plus views of its parent,
 * producers (by role) and consumers. Links to services `lookup` does not know are left out.
 */
export function jobServiceData(service: ServiceRecord, lookup: ServiceLookup): JobServiceData {
  const view = (name: string) => {
    const s = lookup(name);
    return s ? serviceView(s) : null;
  };
  const producers: Record<string, ServiceView[]> = {};
  for (const [role, names] of Object.entries(service.producers)) {
    producers[role] = names.map(view).filter((v): v is ServiceView => v !== null);
  }
  return {
    name: service.name,
    actor: service.actor,
    role: service.role,
    key: service.key,
    data: service.data,
    parent: service.parent ? view(service.parent) : null,
    producers,
    consumers: service.consumers.map(view).filter((v): v is ServiceView => v !== null),
  };
}

/**
 * Every secret value a job is given, whoever owns it: the service's own secret fields and
 * those of the parent, producers and consumers it sees, longest first (as `maskText` wants).
 */
function jobSecrets(
  data: JobServiceData,
  actor: ActorRecord | undefined,
  actors: ActorLookup,
): string[] {
  const values = new Set(secretValues(actor?.fields ?? [], data.data));
  const related = [
    ...(data.parent ? [data.parent] : []),
    ...Object.values(data.producers).flat(),
    ...data.consumers,
  ];
  for (const view of related) {
    for (const value of secretValues(actors(view.actor)?.fields ?? [], view.data)) {
      values.add(value);
    }
  }
  return [...values].sort((a, b) => b.length - a.length);
}

/** How many parents up the executor walk looks at most (a guard against a cycle). */
const MAX_ANCESTORS = 64;

/**
 * The ancestors of `service` (parent first) that `lookup` knows, with their actions files, for
 * the executor walk (docs/executors.md).
 */
export function jobAncestors(
  service: ServiceRecord,
  lookup: ServiceLookup,
  actors: ActorLookup,
): AncestorData[] {
  const out: AncestorData[] = [];
  const seen = new Set([serviceKeyOf(service)]);
  let name = service.parent;
  while (name && out.length < MAX_ANCESTORS) {
    const parent = lookup(name);
    if (!parent || seen.has(serviceKeyOf(parent))) break;
    seen.add(serviceKeyOf(parent));
    out.push({
      actionsPath: actors(parent.actor)?.actionsPath ?? null,
      service: jobServiceData(parent, lookup),
    });
    name = parent.parent;
  }
  return out;
}

function serviceKeyOf(service: ServiceRecord): string {
  return `${service.role}!${service.name}`;
}

/** Options of {@link jobRequest}. */
export interface JobRequestOptions {
  /** The service's actor (its actions file and secret fields), if it has one. */
  actor: ActorRecord | undefined;
  /** The related services (parent, producers, consumers) by `role!instance`. */
  lookup: ServiceLookup;
  /**
   * The actors of the related services: their secret fields are masked in the job's output
   * too, since the job sees those services' data (docs/repositories.md).
   */
  actors: ActorLookup;
  runId: string;
  repo: { name: string; path: string };
  /** `job.args` over the action record's own `args`. */
  args?: Record<string, unknown>;
  /** Record the action as done without running it (`ays noexec`). */
  noexec?: boolean;
}

/**
 * The request of one job of `action` on `service`. `job.args` are the action record's own
 * (`ays blueprint` puts processChange's `changes` there), then `args`.
 */
export function jobRequest(
  service: ServiceRecord,
  action: string,
  options: JobRequestOptions,
): JobRequest {
  const { actor, lookup, actors, runId, repo, args, noexec = false } = options;
  const serviceData = jobServiceData(service, lookup);
  const ancestors = jobAncestors(service, lookup, actors);
  const secrets = new Set(jobSecrets(serviceData, actor, actors));
  // An executor's key may be a secret field of any ancestor: mask those too.
  for (const a of ancestors) {
    for (const value of secretValues(actors(a.service.actor)?.fields ?? [], a.service.data)) {
      secrets.add(value);
    }
  }
  return {
    actionsPath: actor?.actionsPath ?? null,
    action,
    args: { ...service.actions[action]?.args, ...args },
    runId,
    repo: { name: repo.name, path: repo.path },
    service: serviceData,
    secrets: [...secrets].sort((a, b) => b.length - a.length),
    ...(noexec ? { noexec: true } : {}),
    ...(ancestors.length > 0 ? { ancestors } : {}),
    ...(actor?.config.executor === "local" ? { executorLocal: true } : {}),
  };
}

/** An actions file's SHA-256 (hex) and source, to record on the job and keep in the store. */
export interface ActionsFile {
  hash: string;
  source: string;
}

/** Reads an actions file and hashes it. */
export async function hashActionsFile(path: string): Promise<ActionsFile> {
  const bytes = await readFile(path);
  return {
    hash: createHash("sha256").update(bytes).digest("hex"),
    source: new TextDecoder().decode(bytes),
  };
}
