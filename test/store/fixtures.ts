/**
 * Actors and services for the store tests and `bench/store.ts`, built through the real HRD
 * field → capnp path so service data is encoded with a real actor schema.
 *
 * @module
 */
import { emitCapnp, schemaFromFields } from "../../src/capnp/mod.ts";
import type { FieldSpec, HrdType } from "../../src/model/field_spec.ts";
import { type FieldTags, newFieldSpec } from "../../src/model/fields.ts";
import { makeServiceRecord } from "../helpers/service_record.ts";
import { roleOf, serviceName } from "../../src/model/names.ts";
import type { ActorRecord, ServiceRecord } from "../../src/model/types.ts";

function field(name: string, type: HrdType, extra: FieldTags = {}): FieldSpec {
  return newFieldSpec(name, { type, ...extra });
}

/** An actor `name` with a few typed fields (a string, an int, a bool, a list, a secret). */
export function makeActor(name: string): ActorRecord {
  const fields = [
    field("description", "str"),
    field("ssh.port", "int"),
    field("enabled", "bool"),
    field("tags", "str", { list: true }),
    field("password", "password", { secret: true }),
  ];
  return {
    name,
    role: roleOf(name),
    templatePath: `/templates/${name}`,
    fields,
    capnpSchema: emitCapnp(schemaFromFields(fields, { actor: name })),
    actionsPath: null,
    actionsHash: null,
    actionNames: ["init", "install", "start", "stop", "monitor", "uninstall", "processChange"],
    config: { recurring: {}, actions: {}, flists: {}, events: {} },
  };
}

/** A service of `actor` named `instance` in repository `repo`. */
export function makeService(
  repo: string,
  actor: ActorRecord,
  instance: string,
  extra: Partial<ServiceRecord> = {},
): ServiceRecord {
  const action = { state: "new" as const, period: 0, lastRun: null, lastJob: null };
  return makeServiceRecord(actor, instance, {
    repo,
    data: {
      description: `service ${instance}`,
      sshPort: 22,
      enabled: true,
      tags: ["a", "b"],
      password: "",
    },
    actions: Object.fromEntries(actor.actionNames.map((name) => [name, { ...action }])),
    ...extra,
  });
}

/** `role!instance` of a service. */
export function nameOf(service: ServiceRecord): string {
  return serviceName(service.role, service.name);
}
