/**
 * An in-memory model of a Cap'n Proto schema file restricted to the subset ays supports
 * (docs/capnp.md, "The supported capnp subset"): a file id, structs with plain fields, nested structs and enums. The parser, the
 * HRD converter, the emitter, the layout computation and the codec all share it.
 *
 * Default values are kept in their "native" form: bigint for 64-bit integers, Uint8Array for
 * Data, the enumerant name for enums, plain objects for structs and arrays for lists.
 *
 * @module
 */
import type { SourceLocation } from "../errors.ts";

/** Names of the types that live in a struct's data section (Void takes no room). */
export type PrimitiveKind =
  | "Void"
  | "Bool"
  | "Int8"
  | "Int16"
  | "Int32"
  | "Int64"
  | "UInt8"
  | "UInt16"
  | "UInt32"
  | "UInt64"
  | "Float32"
  | "Float64";

/** A field or list element type. Struct and enum types name their target by full name. */
export type CapnpType =
  | { kind: PrimitiveKind }
  | { kind: "Text" }
  | { kind: "Data" }
  | { kind: "List"; element: CapnpType }
  | { kind: "struct"; name: string }
  | { kind: "enum"; name: string };

/** Every primitive type name, in the order the capnp language documents them. */
export const PRIMITIVE_KINDS: readonly PrimitiveKind[] = [
  "Void",
  "Bool",
  "Int8",
  "Int16",
  "Int32",
  "Int64",
  "UInt8",
  "UInt16",
  "UInt32",
  "UInt64",
  "Float32",
  "Float64",
];

/** One field of a struct: `name @ordinal :Type = default;`. */
export interface FieldModel {
  name: string;
  ordinal: number;
  type: CapnpType;
  /** The explicit default in native form, or undefined for the type's zero value. */
  default?: unknown;
  location?: SourceLocation;
}

/** One enumerant: `name @ordinal;`. */
export interface EnumerantModel {
  name: string;
  ordinal: number;
}

/** An enum declaration. */
export interface EnumModel {
  name: string;
  /** The explicit `@0x…` id, when the schema gives one (else capnp derives it). */
  id?: bigint;
  /** Dotted path from the file's top level, e.g. `Schema.Color`. */
  fullName: string;
  enumerants: EnumerantModel[];
  location?: SourceLocation;
}

/** A struct declaration with its nested declarations. */
export interface StructModel {
  name: string;
  /** The explicit `@0x…` id, when the schema gives one (else capnp derives it). */
  id?: bigint;
  /** Dotted path from the file's top level, e.g. `Schema.Inner`. */
  fullName: string;
  /** In declaration order; the layout is allocated in ordinal order. */
  fields: FieldModel[];
  structs: StructModel[];
  enums: EnumModel[];
  location?: SourceLocation;
}

/** A whole `.capnp` file. */
export interface SchemaFile {
  /** The 64-bit file id (top bit set). */
  id: bigint;
  structs: StructModel[];
  enums: EnumModel[];
  /** Where the schema came from, for messages. */
  file?: string;
}

/** Every struct and enum of a file by full name, for type lookups. */
export interface SchemaIndex {
  structs: Map<string, StructModel>;
  enums: Map<string, EnumModel>;
}

/** Indexes every struct and enum of `file` (nested ones included) by full name. */
export function indexSchema(file: SchemaFile): SchemaIndex {
  const structs = new Map<string, StructModel>();
  const enums = new Map<string, EnumModel>();
  const visit = (s: StructModel): void => {
    structs.set(s.fullName, s);
    for (const e of s.enums) enums.set(e.fullName, e);
    for (const n of s.structs) visit(n);
  };
  for (const s of file.structs) visit(s);
  for (const e of file.enums) enums.set(e.fullName, e);
  return { structs, enums };
}

/** Finds a struct by full name (`Schema.Inner`) or, failing that, by its simple name. */
export function findStruct(file: SchemaFile, name: string): StructModel | undefined {
  const index = indexSchema(file);
  const exact = index.structs.get(name);
  if (exact) return exact;
  const matches = [...index.structs.values()].filter((s) => s.name === name);
  return matches.length === 1 ? matches[0] : undefined;
}

/** The capnp spelling of a type, as in a schema file (`List(Text)`, `Schema.Inner`). */
export function typeName(type: CapnpType, scope?: string): string {
  switch (type.kind) {
    case "List":
      return `List(${typeName(type.element, scope)})`;
    case "struct":
    case "enum":
      return relativeName(type.name, scope);
    default:
      return type.kind;
  }
}

/**
 * The shortest name for `fullName` seen from inside the struct `scope`: capnp resolves a
 * name in the enclosing scopes first, so a sibling or child can be named without its parents.
 */
function relativeName(fullName: string, scope?: string): string {
  if (!scope) return fullName;
  const parts = fullName.split(".");
  const scopeParts = scope.split(".");
  let common = 0;
  while (
    common < parts.length - 1 && common < scopeParts.length && parts[common] === scopeParts[common]
  ) common++;
  return parts.slice(common).join(".");
}
