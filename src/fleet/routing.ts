/**
 * Which queue a job goes to (docs/fleet.md, "Routing"): the label of the actor config's
 * `worker: LABEL`, else that of the nearest ancestor (parent chain) that has one — services run
 * where their node is — else `default`, the queue every worker serves.
 *
 * @module
 */
import { type ActorRecord, serviceName, type ServiceRecord } from "../model/mod.ts";
import type { RepoStore } from "../store/mod.ts";
import type { JobRequest } from "../run/mod.ts";
import { DEFAULT_LABEL } from "./names.ts";

/** Picks the label of a job. */
export type Router = (request: JobRequest) => string | Promise<string>;

/** The label of service `name` (`role!instance`) among the `services` with their `actors`. */
export function labelOf(
  name: string,
  records: {
    services: ReadonlyMap<string, ServiceRecord>;
    actors: ReadonlyMap<string, ActorRecord>;
  },
): string {
  const { services, actors } = records;
  const seen = new Set<string>();
  let current: string | null = name;
  while (current !== null && !seen.has(current)) {
    seen.add(current);
    const service = services.get(current);
    if (!service) break;
    const label = actors.get(service.actor)?.config.worker;
    if (label) return label;
    current = service.parent;
  }
  return DEFAULT_LABEL;
}

/**
 * A router over a repository's store: its services and actors are loaded once (one bulk
 * query each), when the first job is routed.
 */
export function storeRouter(store: Pick<RepoStore, "loadServices" | "loadActors">): Router {
  let loaded: Promise<[Map<string, ServiceRecord>, Map<string, ActorRecord>]> | null = null;
  return async (request) => {
    loaded ??= Promise.all([store.loadServices(), store.loadActors()]).then(([s, a]) => [
      new Map(s.map((svc) => [serviceName(svc.role, svc.name), svc])),
      new Map(a.map((actor) => [actor.name, actor])),
    ]);
    const [services, actors] = await loaded;
    return labelOf(serviceName(request.service.role, request.service.name), { services, actors });
  };
}
