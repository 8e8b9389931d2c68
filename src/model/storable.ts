/**
 * Service data as codecs store it (docs/capnp.md: `dict` → `Text`): `dict` values as JSON text
 * and back. Apart from validation (`validate.ts`), so that reading records does not load the
 * schema library.
 *
 * @module
 */
import { InputError } from "../errors.ts";
import type { FieldSpec } from "./field_spec.ts";

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Date);
}

/**
 * A copy of `data` with every `dict` value (and every item of a `dict` list) as JSON text, so a
 * codec that only knows `Text` can store it (docs/capnp.md: `dict` → `Text`).
 */
export function toStorable(
  fields: readonly FieldSpec[],
  data: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...data };
  for (const field of fields) {
    if (field.type !== "dict" || !(field.camelName in data)) continue;
    const value = data[field.camelName];
    out[field.camelName] = Array.isArray(value)
      ? value.map((v) => (typeof v === "string" ? v : JSON.stringify(v)))
      : typeof value === "string"
      ? value
      : JSON.stringify(value);
  }
  return out;
}

/**
 * The inverse of {@link toStorable}: JSON text of `dict` fields back to objects (empty text is
 * `{}`). Throws {@link InputError} naming the field when the text is not a JSON object.
 */
export function fromStorable(
  fields: readonly FieldSpec[],
  data: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...data };
  const parse = (field: FieldSpec, text: unknown): unknown => {
    if (typeof text !== "string") return text;
    if (text === "") return {};
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new InputError(`${field.camelName}: stored dict is not JSON`, { cause: error });
    }
    if (!isPlainObject(value)) {
      throw new InputError(`${field.camelName}: stored dict is not a JSON object`);
    }
    return value;
  };
  for (const field of fields) {
    if (field.type !== "dict" || !(field.camelName in data)) continue;
    const value = data[field.camelName];
    out[field.camelName] = Array.isArray(value)
      ? value.map((v) => parse(field, v))
      : parse(field, value);
  }
  return out;
}
