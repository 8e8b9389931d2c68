/**
 * Helpers over an actor's field specs: finding the field a blueprint key names (docs/blueprints.md),
 * type families, zero values and defaults.
 *
 * @module
 */
import type { FieldSpec, HrdType } from "./field_spec.ts";
import { camelCase } from "./names.ts";

/** Every HRD type, in the order of docs/hrd.md. */
export const HRD_TYPES: readonly HrdType[] = [
  "str",
  "int",
  "float",
  "bool",
  "multiline",
  "email",
  "tel",
  "ipaddr",
  "ipport",
  "ipaddress",
  "date",
  "path",
  "guid",
  "dict",
  "password",
];

/**
 * Spellings accepted after `type:` (lower-cased) and the type they mean. `string`, `integer`
 * and `boolean` are the long spellings v8.1 accepted.
 */
const TYPE_SPELLINGS: Readonly<Record<string, HrdType>> = {
  ...Object.fromEntries(HRD_TYPES.map((t) => [t, t])),
  string: "str",
  integer: "int",
  boolean: "bool",
};

/** The tags of {@link newFieldSpec}: every property of a field spec except its name. */
export type FieldTags = Partial<Omit<FieldSpec, "name">>;

/**
 * A field spec with the defaults of an untagged `name = type:str` line of `schema.hrd`
 * (see `docs/hrd.md`), overridden by `tags`: the camelCase name, `str`, not a list, not auto,
 * optional or secret, no aliases. A `password` field is secret unless `tags.secret` says
 * otherwise, as the schema reader makes it.
 */
export function newFieldSpec(name: string, tags: FieldTags = {}): FieldSpec {
  const { type = "str", secret = type === "password" } = tags;
  if (typeof name !== "string" || name.length === 0) {
    throw new TypeError("newFieldSpec: the field name must be a non-empty string");
  }
  if (!HRD_TYPES.includes(type)) {
    throw new TypeError(`newFieldSpec: unknown HRD type "${String(type)}" for field "${name}"`);
  }
  return {
    name,
    camelName: camelCase(name),
    list: false,
    auto: false,
    optional: false,
    aliases: [],
    ask: false,
    ...tags,
    type,
    secret,
  };
}

/** The HRD type a `type:` value names (case-insensitive), or undefined for an unknown one. */
export function hrdTypeOf(spelling: string): HrdType | undefined {
  const key = spelling.trim().toLowerCase();
  return Object.hasOwn(TYPE_SPELLINGS, key) ? TYPE_SPELLINGS[key] : undefined;
}

/** Types whose values are whole numbers (capnp `Int64`). */
export function isIntegerType(type: HrdType): boolean {
  return type === "int" || type === "date";
}

/** Types whose values are numbers: `int`, `float`, `date`. */
export function isNumericType(type: HrdType): boolean {
  return type === "int" || type === "float" || type === "date";
}

/**
 * Types whose values are strings (capnp `Text`): everything but `int`, `float`, `date`, `bool`,
 * `dict` (`dict` is stored as JSON Text but holds an object).
 */
export function isTextType(type: HrdType): boolean {
  return !isNumericType(type) && type !== "bool" && type !== "dict";
}

/** The value of one item of a type when nothing is given: `""`, `0`, `false`, `{}`. */
export function zeroValueOfType(type: HrdType): unknown {
  if (isNumericType(type)) return 0;
  if (type === "bool") return false;
  if (type === "dict") return {};
  return "";
}

/** The value of a field when nothing is given and it has no default: `[]` for a list. */
export function zeroValue(field: FieldSpec): unknown {
  return field.list ? [] : zeroValueOfType(field.type);
}

/** The field's default (a fresh copy), or its {@link zeroValue}. */
export function defaultValue(field: FieldSpec): unknown {
  return field.default === undefined ? zeroValue(field) : structuredClone(field.default);
}

const indexes = new WeakMap<readonly FieldSpec[], Map<string, FieldSpec>>();

function indexOf(fields: readonly FieldSpec[]): Map<string, FieldSpec> {
  let index = indexes.get(fields);
  if (index) return index;
  index = new Map();
  // Exact names first, so a field's own spelling always wins over another field's alias.
  for (const field of fields) {
    index.set(field.name, field);
    index.set(field.camelName, field);
  }
  for (const field of fields) {
    for (const alias of field.aliases) {
      if (!index.has(alias)) index.set(alias, field);
      const camel = camelCase(alias);
      if (!index.has(camel)) index.set(camel, field);
    }
  }
  indexes.set(fields, index);
  return index;
}

/**
 * The field a blueprint attribute key names, or undefined: the key may be the field's name as
 * written (`ssh.port`), with underscores (`ssh_port`), camelCase (`sshPort`), or one of its
 * aliases in any of those spellings. Matching is case-sensitive, as capnp names are.
 *
 * The lookup table is cached per `fields` array, so do not mutate the array after the first call.
 */
export function resolveField(fields: readonly FieldSpec[], key: string): FieldSpec | undefined {
  const index = indexOf(fields);
  return index.get(key) ?? index.get(camelCase(key));
}
