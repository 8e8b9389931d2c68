/**
 * One way for tests and benches to build a {@link ServiceRecord} by hand: a service of `actor`
 * as `ays` creates it (no parent, producers, consumers or data), with the fields a test cares
 * about overriding the rest.
 *
 * @module
 */
import { serviceKey } from "../../src/model/names.ts";
import type { ActorRecord, ServiceRecord } from "../../src/model/types.ts";

/** Options of {@link makeServiceRecord}: any record field, and the repository of its key. */
export interface ServiceRecordOptions extends Partial<ServiceRecord> {
  /** The repository name the key is derived from. Default `r`. */
  repo?: string;
}

/**
 * A fresh service `instance` of `actor`: its key derived from `options.repo`, no links, no data,
 * no actions, not changed; every other option replaces the field of that name.
 */
export function makeServiceRecord(
  actor: Pick<ActorRecord, "name" | "role">,
  instance: string,
  options: ServiceRecordOptions = {},
): ServiceRecord {
  const { repo = "r", ...fields } = options;
  if (instance.length === 0) throw new TypeError("makeServiceRecord: empty instance name");
  return {
    key: serviceKey(repo, actor.role, instance),
    name: instance,
    actor: actor.name,
    role: actor.role,
    parent: null,
    producers: {},
    consumers: [],
    data: {},
    changed: false,
    actions: {},
    eventFilters: [],
    ...fields,
  };
}
