/**
 * What `ays delete` removes and changes (docs/cli.md): the chosen services with their children,
 * recursively, and the links the rest of the repository had to them — consumer lists of their
 * producers, producer lists of their consumers, and the instance names in the consumers'
 * relation fields. Pure: the records given are not modified.
 *
 * @module
 */
import type { FieldSpec } from "./field_spec.ts";
import { serviceName } from "./names.ts";
import type { ActorRecord, ServiceRecord } from "./types.ts";
import { sortServices } from "./views.ts";

/** Options of {@link planDelete}. */
export interface DeleteOptions {
  /** The actors, to undo links in the data of relation fields (`consume:`). */
  actors?: ReadonlyMap<string, ActorRecord>;
}

/** What deleting would do. */
export interface DeletePlan {
  /** The services removed: those chosen and their descendants, sorted by role and name. */
  deleted: ServiceRecord[];
  /** Services that stay but lose links, as they are afterwards, sorted. */
  updated: ServiceRecord[];
  /** e.g. a consumer left with fewer producers than its field's `min`. */
  warnings: string[];
}

/** The chosen services and all their descendants (by parent), as `role!name`. */
function withDescendants(
  services: readonly ServiceRecord[],
  roots: readonly string[],
): Set<string> {
  const children = new Map<string, string[]>();
  for (const service of services) {
    if (!service.parent) continue;
    const list = children.get(service.parent) ?? [];
    list.push(serviceName(service.role, service.name));
    children.set(service.parent, list);
  }
  const removed = new Set<string>();
  const queue = [...roots];
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (removed.has(name)) continue;
    removed.add(name);
    queue.push(...(children.get(name) ?? []));
  }
  return removed;
}

/** The data value of a relation field without the names of removed services. */
function withoutRemoved(
  field: FieldSpec,
  value: unknown,
  roles: readonly string[],
  removed: ReadonlySet<string>,
): unknown {
  const gone = (name: string) => roles.some((role) => removed.has(serviceName(role, name)));
  if (Array.isArray(value)) return value.filter((name) => !gone(String(name)));
  if (typeof value === "string" && value.length > 0) {
    const names = value.split(",").filter((name) => !gone(name));
    return field.list ? names : names.join(",");
  }
  return value;
}

/**
 * Plans deleting the services named `roots` (`role!name`) with their children (docs/cli.md:
 * "remove services, with children, links undone").
 */
export function planDelete(
  services: readonly ServiceRecord[],
  roots: readonly string[],
  options: DeleteOptions = {},
): DeletePlan {
  const removed = withDescendants(services, roots);
  const deleted: ServiceRecord[] = [];
  const updated: ServiceRecord[] = [];
  const warnings: string[] = [];
  for (const service of services) {
    const sname = serviceName(service.role, service.name);
    if (removed.has(sname)) {
      deleted.push(service);
      continue;
    }
    const consumers = service.consumers.filter((name) => !removed.has(name));
    const producers: Record<string, string[]> = {};
    let lostProducer = false;
    for (const [role, names] of Object.entries(service.producers)) {
      const kept = names.filter((name) => !removed.has(name));
      if (kept.length !== names.length) lostProducer = true;
      if (kept.length > 0) producers[role] = kept;
    }
    if (consumers.length === service.consumers.length && !lostProducer) continue;
    const next: ServiceRecord = structuredClone(service);
    next.consumers = consumers;
    next.producers = producers;
    const actor = options.actors?.get(service.actor);
    for (const field of actor?.fields ?? []) {
      if (!field.consume || !lostProducer) continue;
      const before = next.data[field.camelName];
      const after = withoutRemoved(field, before, field.consume.roles, removed);
      next.data[field.camelName] = after;
      const count = field.consume.roles.reduce((n, role) => n + (producers[role]?.length ?? 0), 0);
      if (count < field.consume.min) {
        warnings.push(
          `${sname} keeps ${count} producer(s) for '${field.name}', fewer than its minimum ${field.consume.min}`,
        );
      }
    }
    updated.push(next);
  }
  return { deleted: sortServices(deleted), updated: sortServices(updated), warnings };
}
