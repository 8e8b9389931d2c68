/**
 * The HRD → Cap'n Proto converter (docs/capnp.md, "HRD → capnp"): field specs become struct `Schema` with fields
 * `@0…@n-1` in order, under a file id derived from the actor name.
 *
 * @module
 */
import { sha256 } from "../digest.ts";
import { InputError } from "../errors.ts";
import type { FieldSpec, HrdType } from "../model/mod.ts";
import type { CapnpType, FieldModel, SchemaFile } from "./model.ts";

/** The capnp type of each HRD type (a `list` field wraps it in `List(…)`). */
export const HRD_TYPE_MAP: Readonly<Record<HrdType, CapnpType>> = {
  str: { kind: "Text" },
  multiline: { kind: "Text" },
  email: { kind: "Text" },
  tel: { kind: "Text" },
  ipaddr: { kind: "Text" },
  ipaddress: { kind: "Text" },
  path: { kind: "Text" },
  guid: { kind: "Text" },
  password: { kind: "Text" },
  // The port's digits, as the validator stores them (docs/hrd.md).
  ipport: { kind: "Text" },
  // JSON text: capnp has no map type.
  dict: { kind: "Text" },
  int: { kind: "Int64" },
  // Epoch seconds.
  date: { kind: "Int64" },
  float: { kind: "Float64" },
  bool: { kind: "Bool" },
};

/** The capnp type of one field spec. */
export function capnpTypeOf(spec: Pick<FieldSpec, "type" | "list">): CapnpType {
  const base = HRD_TYPE_MAP[spec.type] ?? { kind: "Text" };
  return spec.list ? { kind: "List", element: base } : base;
}

/**
 * The deterministic file id of an actor's schema: the first 8 bytes of SHA-256 of the actor
 * name (outside a repository, the schema file's folder name) with the top bit set.
 */
export function schemaFileId(actorName: string): bigint {
  const digest = sha256(actorName);
  let id = 0n;
  for (let i = 0; i < 8; i++) id = (id << 8n) | BigInt(digest[i]);
  return id | (1n << 63n);
}

/** Options of {@link schemaFromFields}. */
export interface SchemaFromFieldsOptions {
  /** The actor name the file id is derived from. */
  actor: string;
  /** Name of the struct (default `Schema`). */
  struct?: string;
}

/**
 * Converts field specs into a capnp model: struct `Schema`, fields in order of first appearance
 * with their camelCase names. HRD defaults are not written into the schema: ays applies them.
 */
export function schemaFromFields(
  fields: readonly FieldSpec[],
  options: SchemaFromFieldsOptions,
): SchemaFile {
  const structName = options.struct ?? "Schema";
  const seen = new Map<string, string>();
  for (const spec of fields) {
    if (!/^[a-z][A-Za-z0-9]*$/.test(spec.camelName)) {
      throw new InputError(
        `field ${spec.name} cannot become a Cap'n Proto field: its name ${spec.camelName} must ` +
          "start with a lower-case letter and hold only letters and digits",
        { location: spec.location },
      );
    }
    const previous = seen.get(spec.camelName);
    if (previous !== undefined) {
      throw new InputError(
        `fields ${previous} and ${spec.name} both become ${spec.camelName}`,
        { location: spec.location },
      );
    }
    seen.set(spec.camelName, spec.name);
  }
  const model: FieldModel[] = fields.map((spec, ordinal) => ({
    name: spec.camelName,
    ordinal,
    type: capnpTypeOf(spec),
    location: spec.location,
  }));
  return {
    id: schemaFileId(options.actor),
    structs: [{ name: structName, fullName: structName, fields: model, structs: [], enums: [] }],
    enums: [],
  };
}
