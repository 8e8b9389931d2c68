/**
 * Writes a {@link SchemaFile} as `.capnp` text that the official compiler accepts: one field
 * per line as `name @N :Type;` (docs/capnp.md, "`ays schema FILE`"), nested declarations after the fields.
 *
 * @module
 */
import type { CapnpType, EnumModel, SchemaFile, SchemaIndex, StructModel } from "./model.ts";
import { indexSchema, typeName } from "./model.ts";

/** Options of {@link emitCapnp}. */
export interface EmitCapnpOptions {
  /** A comment put at the top (each line prefixed with `# `). */
  header?: string;
}

/** The `.capnp` text of `file`. */
export function emitCapnp(file: SchemaFile, options: EmitCapnpOptions = {}): string {
  const lines: string[] = [];
  if (options.header) {
    for (const line of options.header.split("\n")) lines.push(`# ${line}`.trimEnd());
  }
  lines.push(`@0x${file.id.toString(16).padStart(16, "0")};`);
  const index = indexSchema(file);
  for (const s of file.structs) {
    lines.push("");
    emitStruct(s, "", lines, index);
  }
  for (const e of file.enums) {
    lines.push("");
    emitEnum(e, "", lines);
  }
  return lines.join("\n") + "\n";
}

function emitStruct(
  struct: StructModel,
  indent: string,
  lines: string[],
  index: SchemaIndex,
): void {
  lines.push(`${indent}struct ${struct.name}${idSuffix(struct.id)} {`);
  const inner = indent + "  ";
  for (const field of struct.fields) {
    const value = field.default === undefined
      ? ""
      : ` = ${formatValue(field.type, field.default, index)}`;
    lines.push(`${inner}${field.name} @${field.ordinal} :${typeName(field.type)}${value};`);
  }
  for (const nested of struct.structs) emitStruct(nested, inner, lines, index);
  for (const e of struct.enums) emitEnum(e, inner, lines);
  lines.push(`${indent}}`);
}

function emitEnum(e: EnumModel, indent: string, lines: string[]): void {
  lines.push(`${indent}enum ${e.name}${idSuffix(e.id)} {`);
  for (const x of e.enumerants) lines.push(`${indent}  ${x.name} @${x.ordinal};`);
  lines.push(`${indent}}`);
}

function idSuffix(id: bigint | undefined): string {
  return id === undefined ? "" : ` @0x${id.toString(16)}`;
}

/** A native value as a capnp literal of `type`; `index` resolves struct types. */
export function formatValue(type: CapnpType, value: unknown, index?: SchemaIndex): string {
  switch (type.kind) {
    case "Void":
      return "void";
    case "Bool":
      return value ? "true" : "false";
    case "Float32":
    case "Float64": {
      const n = Number(value);
      if (Number.isNaN(n)) return "nan";
      if (n === Infinity) return "inf";
      if (n === -Infinity) return "-inf";
      // Integer-looking text is read as an integer literal, which capnp caps at 64 bits.
      const text = String(n);
      return /[.e]/.test(text) ? text : `${text}.0`;
    }
    case "Text":
      return quoteBytes(new TextEncoder().encode(String(value)));
    case "Data": {
      const bytes = value as Uint8Array;
      // capnp's lexer refuses an empty `0x""`.
      if (bytes.length === 0) return '""';
      return `0x"${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}"`;
    }
    case "enum":
      return String(value);
    case "List":
      return `[${(value as unknown[]).map((v) => formatValue(type.element, v, index)).join(", ")}]`;
    case "struct": {
      const struct = index?.structs.get(type.name);
      if (!struct) throw new Error(`formatValue: unknown struct ${type.name}`);
      const parts: string[] = [];
      for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
        const field = struct.fields.find((f) => f.name === name);
        if (!field) throw new Error(`formatValue: struct ${type.name} has no field ${name}`);
        parts.push(`${name} = ${formatValue(field.type, v, index)}`);
      }
      return `(${parts.join(", ")})`;
    }
    default:
      return String(value);
  }
}

/** A C-style string literal of UTF-8 bytes, escaping what the capnp lexer needs escaped. */
function quoteBytes(bytes: Uint8Array): string {
  let out = '"';
  const text = new TextDecoder().decode(bytes);
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return out + '"';
}
