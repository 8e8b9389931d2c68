/**
 * Refusing filters that name nothing (docs/cli.md, "Typos"): an unknown role or actor given
 * with `-r`, or an `-i` that matches no service, is bad input (exit 2) with a "did you mean"
 * suggestion, instead of an empty result that looks like success.
 *
 * @module
 */
import { InputError } from "../errors.ts";
import { type ServiceFilter, serviceMatcher } from "./schedule.ts";
import { didYouMean } from "./suggest.ts";
import type { ActorRecord, ServiceRecord } from "./types.ts";

/** Options of {@link checkServiceFilter}. */
export interface CheckFilterOptions {
  /** The repository's actors: a role or actor with no service yet is still known. */
  actors?: readonly Pick<ActorRecord, "name" | "role">[];
}

/**
 * Whether {@link checkServiceFilter} needs the repository's actors to judge `filter`: only for a
 * role (`-r`) that no service has as its role or actor. A command can then read the actors only
 * when they matter (`ays list` spends a tenth of its time on them otherwise).
 */
export function filterNeedsActors(
  services: readonly Pick<ServiceRecord, "role" | "actor">[],
  filter: ServiceFilter,
): boolean {
  const { role } = filter;
  return role !== undefined && !services.some((s) => s.role === role || s.actor === role);
}

/**
 * Throws an {@link InputError} when `filter.role` is neither a role nor an actor of the
 * repository, or when `filter.instance` matches no service (of that role), naming the nearest
 * known name. An empty filter passes.
 */
export function checkServiceFilter(
  services: readonly Pick<ServiceRecord, "role" | "actor" | "name">[],
  filter: ServiceFilter,
  options: CheckFilterOptions = {},
): void {
  const { actors = [] } = options;
  const { role, instance } = filter;
  if (role !== undefined) {
    const known = new Set<string>();
    for (const s of services) known.add(s.role).add(s.actor);
    for (const a of actors) known.add(a.role).add(a.name);
    if (!known.has(role)) {
      throw new InputError(`unknown role or actor '${role}'${didYouMean(role, [...known])}`);
    }
  }
  if (instance !== undefined) {
    const inRole = services.filter(serviceMatcher({ role }));
    if (!inRole.some(serviceMatcher({ instance }))) {
      const names = inRole.map((s) => s.name);
      throw new InputError(
        `no service matches -i ${instance}${role === undefined ? "" : ` -r ${role}`}${
          didYouMean(instance, names)
        }`,
      );
    }
  }
}
