/**
 * Hand-built actors and services for blueprint tests: field specs written out as the HRD
 * reader would produce them, so these tests do not depend on it.
 *
 * @module
 */
import type { FieldSpec } from "../../src/model/field_spec.ts";
import { type FieldTags, newFieldSpec } from "../../src/model/fields.ts";
import { roleOf } from "../../src/model/names.ts";
import { makeServiceRecord } from "../helpers/service_record.ts";
import { newActionRecord } from "../../src/model/schedule.ts";
import type { ActorRecord, ServiceRecord } from "../../src/model/types.ts";
import { DEFAULT_ACTIONS } from "../../src/model/types.ts";

/** A field spec with the defaults of an untagged `name = type:str` line. */
export function field(name: string, tags: FieldTags = {}): FieldSpec {
  return newFieldSpec(name, tags);
}

/** Options of {@link actor}. */
export interface ActorOptions {
  /** Actions the actions file exports, besides the default ones. */
  actions?: string[];
  /** `recurring.<action>` periods in seconds. */
  recurring?: Record<string, number>;
}

/** An actor record with the given fields. */
export function actor(name: string, fields: FieldSpec[], options: ActorOptions = {}): ActorRecord {
  const recurring: ActorRecord["config"]["recurring"] = {};
  for (const [action, period] of Object.entries(options.recurring ?? {})) {
    recurring[action] = { period, log: true };
  }
  return {
    name,
    role: roleOf(name),
    templatePath: `/templates/${name}`,
    fields,
    capnpSchema: "",
    actionsPath: null,
    actionsHash: null,
    actionNames: [...DEFAULT_ACTIONS, ...(options.actions ?? [])],
    config: { recurring, actions: {}, flists: {}, events: {} },
  };
}

/** Actors by name. */
export function actorMap(...actors: ActorRecord[]): Map<string, ActorRecord> {
  return new Map(actors.map((a) => [a.name, a]));
}

/** A stored service, as the store would hand it to the resolver. */
export function storedService(
  repo: string,
  actorRecord: ActorRecord,
  name: string,
  rest: Partial<ServiceRecord> = {},
): ServiceRecord {
  const actions: ServiceRecord["actions"] = {};
  for (const action of actorRecord.actionNames) actions[action] = newActionRecord();
  return makeServiceRecord(actorRecord, name, { repo, actions, ...rest });
}
