/**
 * The executor each service's jobs use, named for `ays show` and `ays simulate`
 * (docs/executors.md): the same walk up the parent chain as the job worker's, with the
 * actions files imported here in the main thread (their `executor(job)` is called with the
 * service's view; actions are not run).
 *
 * @module
 */
import { pathToFileURL } from "node:url";
import { describeExecutor, type ExecutorLink, resolveExecutor } from "../executor/mod.ts";
import {
  type ActorRecord,
  parseServiceName,
  serviceName,
  type ServiceRecord,
} from "../model/mod.ts";
import type { RepoStore } from "../store/mod.ts";
import {
  type ActorLookup,
  jobAncestors,
  jobServiceData,
  type ServiceLookup,
} from "./job_request.ts";
import type { JobServiceData } from "./job_protocol.ts";

/** Options of {@link describeExecutors}. */
export interface DescribeExecutorsOptions {
  /** Services by `role!instance`: the parents of those described must be among them. */
  lookup: ServiceLookup;
  actors: ActorLookup;
  repo: { name: string; path: string };
}

/**
 * `role!instance` → where its jobs run: `local`, `ssh user@host:port`, or
 * `unknown (executor() failed: …)` — the command that shows it does not fail for it.
 */
export async function describeExecutors(
  services: Iterable<ServiceRecord>,
  options: DescribeExecutorsOptions,
): Promise<Map<string, string>> {
  const { lookup, actors, repo } = options;
  const out = new Map<string, string>();
  const load = (path: string) =>
    import(pathToFileURL(path).href) as Promise<Record<string, unknown>>;
  const context = (service: JobServiceData) =>
    Object.freeze({
      repo: { name: repo.name, path: repo.path },
      service: structuredClone(service),
    });
  for (const service of services) {
    const name = serviceName(service.role, service.name);
    if (out.has(name)) continue;
    const actor = actors(service.actor);
    const links: ExecutorLink[] = [
      {
        name,
        actionsPath: actor?.actionsPath ?? null,
        job: context(jobServiceData(service, lookup)),
      },
      ...jobAncestors(service, lookup, actors).map((a) => ({
        name: serviceName(a.service.role, a.service.name),
        actionsPath: a.actionsPath,
        job: context(a.service),
      })),
    ];
    try {
      const { spec } = await resolveExecutor(links, {
        load,
        pinnedLocal: actor?.config.executor === "local",
      });
      out.set(name, describeExecutor(spec));
    } catch (error) {
      out.set(name, `unknown (${(error as Error).message.split("\n")[0]})`);
    }
  }
  return out;
}

/** Options of {@link storedExecutors}. */
export interface StoredExecutorsOptions {
  /** Services already loaded (default none): ancestors not among them are loaded by name. */
  all?: readonly ServiceRecord[];
  /** Actors already loaded, by name (default none): the others are loaded as needed. */
  actors?: ReadonlyMap<string, ActorRecord>;
  repo: { name: string; path: string };
}

/**
 * {@link describeExecutors} for services of a store: the walk needs every ancestor, so those
 * not among `all` are loaded by name (and their actors). `ays show` and the daemon's
 * `GET /repos/{name}/services/{role}/{instance}` use it, so both name the same executor.
 */
export async function storedExecutors(
  store: RepoStore,
  shown: readonly ServiceRecord[],
  options: StoredExecutorsOptions,
): Promise<Map<string, string>> {
  const { all = [], repo } = options;
  const actors = new Map(options.actors ?? []);
  const byName = new Map(all.map((s) => [serviceName(s.role, s.name), s]));
  for (const service of shown) {
    byName.set(serviceName(service.role, service.name), service);
    if (!actors.has(service.actor)) {
      const actor = await store.loadActor(service.actor).catch(() => null);
      if (actor) actors.set(actor.name, actor);
    }
  }
  for (const service of shown) {
    let parent = service.parent;
    // Bounded: a parent chain is never this deep, and a corrupted one must not loop.
    for (let depth = 0; parent && depth < 64; depth++) {
      let found = byName.get(parent);
      if (!found) {
        const parsed = parseServiceName(parent);
        found = parsed
          ? (await store.loadServiceByName(parsed.role, parsed.instance).catch(() => null)) ??
            undefined
          : undefined;
        if (!found) break;
        byName.set(parent, found);
      }
      if (!actors.has(found.actor)) {
        const actor = await store.loadActor(found.actor).catch(() => null);
        if (actor) actors.set(actor.name, actor);
      }
      parent = found.parent;
    }
  }
  return await describeExecutors(shown, {
    lookup: (name) => byName.get(name),
    actors: (name) => actors.get(name),
    repo,
  });
}
