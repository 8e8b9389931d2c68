/**
 * Service and actor records for planner tests, built in memory.
 *
 * @module
 */
import type {
  ActionRecord,
  ActionSettings,
  ActionState,
  ActorRecord,
  ServiceRecord,
} from "../../src/model/types.ts";
import { DEFAULT_ACTIONS } from "../../src/model/types.ts";
import { roleOf, serviceKey } from "../../src/model/names.ts";

/** An actor with default actions plus `extra`, and per-action settings. */
export function actor(
  name: string,
  actions: Record<string, Partial<ActionSettings>> = {},
  extra: string[] = [],
): ActorRecord {
  return {
    name,
    role: roleOf(name),
    templatePath: `/templates/${name}`,
    fields: [],
    capnpSchema: "",
    actionsPath: null,
    actionsHash: null,
    actionNames: [...DEFAULT_ACTIONS, ...extra],
    config: { recurring: {}, actions, flists: {}, events: {} },
  };
}

/** Options of {@link service}. */
export interface ServiceSpec {
  parent?: string;
  producers?: Record<string, string[]>;
  consumers?: string[];
  /** Action states; unnamed default actions are `new`. */
  states?: Record<string, ActionState>;
  periods?: Record<string, number>;
}

/** A service of `actorName` named `instance`. */
export function service(
  actorName: string,
  instance: string,
  spec: ServiceSpec = {},
): ServiceRecord {
  const role = roleOf(actorName);
  const actions: Record<string, ActionRecord> = {};
  for (const a of [...DEFAULT_ACTIONS, ...Object.keys(spec.states ?? {})]) {
    actions[a] = {
      state: spec.states?.[a] ?? "new",
      period: spec.periods?.[a] ?? 0,
      lastRun: null,
      lastJob: null,
    };
  }
  return {
    key: serviceKey("repo", role, instance),
    name: instance,
    actor: actorName,
    role,
    parent: spec.parent ?? null,
    producers: spec.producers ?? {},
    consumers: spec.consumers ?? [],
    data: {},
    changed: false,
    actions,
    eventFilters: [],
  };
}

/** Links `consumer` to `producer` both ways (producers by role, consumers list). */
export function link(consumer: ServiceRecord, producer: ServiceRecord, asParent = false): void {
  const p = `${producer.role}!${producer.name}`;
  const c = `${consumer.role}!${consumer.name}`;
  (consumer.producers[producer.role] ??= []).push(p);
  if (asParent) consumer.parent = p;
  producer.consumers.push(c);
}
