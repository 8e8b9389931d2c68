/**
 * Drives the official `capnp` tool for compatibility tests, and translates values between the
 * forms it speaks (its text literals, its JSON) and ays' JSON form.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Buffer } from "node:buffer";
import {
  type CapnpType,
  formatValue,
  indexSchema,
  type SchemaFile,
  type SchemaIndex,
} from "../../src/capnp/mod.ts";

/** Output of one `capnp` run. */
export interface ToolResult {
  code: number | null;
  stdout: Uint8Array;
  stderr: string;
}

/** Runs `capnp args…` with `input` on stdin. */
export function capnp(args: string[], input?: Uint8Array | string): ToolResult {
  const result = spawnSync("capnp", args, { input: input ?? "", maxBuffer: 64 << 20 });
  if (result.error) throw result.error;
  return {
    code: result.status,
    stdout: new Uint8Array(result.stdout),
    stderr: String(result.stderr),
  };
}

/** Runs `capnp` and throws with its stderr unless it succeeds. */
export function capnpOk(args: string[], input?: Uint8Array | string): Uint8Array {
  const result = capnp(args, input);
  if (result.code !== 0) throw new Error(`capnp ${args.join(" ")} failed: ${result.stderr}`);
  return result.stdout;
}

/** A scratch folder for schema files, removed by `remove()`. */
export function scratchDir(): {
  path: string;
  write(name: string, text: string): string;
  remove(): void;
} {
  const path = mkdtempSync(join(tmpdir(), "ays-capnp-"));
  return {
    path,
    write(name, text) {
      const file = join(path, name);
      writeFileSync(file, text);
      return file;
    },
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}

/** One field's position as `capnp compile -ocapnp` prints it. */
export interface ToolLayout {
  /** `Schema.Inner` → `{size: "8 bytes, 1 ptrs", fields: {x: "bits[0, 16)"}}`. */
  [struct: string]: { size: string; fields: Record<string, string> };
}

/** Compiles `file` with `-ocapnp` and reads struct sizes and field positions from the output. */
export function toolLayout(file: string): ToolLayout {
  const text = new TextDecoder().decode(capnpOk(["compile", "-ocapnp", file]));
  const layout: ToolLayout = {};
  const stack: { name: string; kind: "struct" | "enum" }[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const struct = /^struct (\w+) @0x[0-9a-f]+ \{\s+# (.*)$/.exec(line);
    if (struct) {
      stack.push({ name: struct[1], kind: "struct" });
      const full = stack.map((s) => s.name).join(".");
      layout[full] = { size: struct[2], fields: {} };
      continue;
    }
    const en = /^enum (\w+) @0x[0-9a-f]+ \{/.exec(line);
    if (en) {
      stack.push({ name: en[1], kind: "enum" });
      continue;
    }
    if (line === "}") {
      stack.pop();
      continue;
    }
    const field = /^(\w+) @\d+ :.*;\s+# (bits\[\d+, \d+\)|ptr\[\d+\])$/.exec(line);
    if (field && stack.length && stack[stack.length - 1].kind === "struct") {
      layout[stack.map((s) => s.name).join(".")].fields[field[1]] = field[2];
    }
  }
  return layout;
}

/**
 * A value in ays' JSON form as the capnp tool reads it back: what our decoder returns for it.
 * Converts the tool's JSON (64-bit integers as strings, Data as byte arrays, null pointers
 * left out) to ays' form (numbers when safe, base64, defaults filled in).
 */
export function fromToolJson(
  file: SchemaFile,
  struct: string,
  json: Record<string, unknown>,
): Record<string, unknown> {
  return normalizeStruct(indexSchema(file), struct, json);
}

/**
 * What our decoder must return for a value given in ays' JSON form: the same value with every
 * missing field at its default and 64-bit integers as numbers when safe.
 */
export function withDefaults(
  file: SchemaFile,
  struct: string,
  value: Record<string, unknown>,
): Record<string, unknown> {
  return normalizeStruct(indexSchema(file), struct, value, "ays");
}

function normalizeStruct(
  index: SchemaIndex,
  name: string,
  json: Record<string, unknown>,
  form: "tool" | "ays" = "tool",
): Record<string, unknown> {
  const model = index.structs.get(name)!;
  const out: Record<string, unknown> = {};
  for (const field of model.fields) {
    let v = Object.hasOwn(json, field.name) ? json[field.name] : undefined;
    if (v === undefined || (form === "ays" && v === null)) {
      v = defaultOf(index, field.type, field.default);
    } else v = normalizeValue(index, field.type, v, form);
    out[field.name] = v;
  }
  return out;
}

function defaultOf(index: SchemaIndex, type: CapnpType, native: unknown): unknown {
  if (native !== undefined) return nativeToForm(index, type, native);
  switch (type.kind) {
    case "Text":
    case "Data":
      return "";
    case "List":
      return [];
    case "struct":
      return normalizeStruct(index, type.name, {});
    case "Void":
      return null;
    case "Bool":
      return false;
    case "enum":
      return index.enums.get(type.name)!.enumerants.find((e) => e.ordinal === 0)!.name;
    default:
      return 0;
  }
}

function nativeToForm(index: SchemaIndex, type: CapnpType, v: unknown): unknown {
  switch (type.kind) {
    case "Int64":
    case "UInt64":
      return Number.isSafeInteger(Number(v)) ? Number(v) : String(v);
    case "Data":
      return Buffer.from(v as Uint8Array).toString("base64");
    case "List":
      return (v as unknown[]).map((x) => nativeToForm(index, type.element, x));
    case "struct": {
      const model = index.structs.get(type.name)!;
      const given = v as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const f of model.fields) {
        out[f.name] = Object.hasOwn(given, f.name)
          ? nativeToForm(index, f.type, given[f.name])
          : defaultOf(index, f.type, f.default);
      }
      return out;
    }
    default:
      return v;
  }
}

function normalizeValue(
  index: SchemaIndex,
  type: CapnpType,
  v: unknown,
  form: "tool" | "ays",
): unknown {
  switch (type.kind) {
    case "Int64":
    case "UInt64":
      return Number.isSafeInteger(Number(v)) ? Number(v) : String(v);
    case "Float32":
      return Math.fround(Number(v));
    case "Float64":
      // The tool writes non-finite numbers as "Infinity", "-Infinity", "NaN".
      return Number(v);
    case "Data":
      return form === "tool" ? Buffer.from(v as number[]).toString("base64") : v;
    case "List":
      return (v as unknown[]).map((x) => normalizeValue(index, type.element, x, form));
    case "struct":
      return normalizeStruct(index, type.name, v as Record<string, unknown>, form);
    default:
      return v;
  }
}

/** A value in ays' JSON form as a capnp text literal, for `capnp encode`. */
export function toCapnpText(file: SchemaFile, struct: string, value: Record<string, unknown>) {
  return textOf(indexSchema(file), { kind: "struct", name: struct }, value);
}

function textOf(index: SchemaIndex, type: CapnpType, v: unknown): string {
  switch (type.kind) {
    case "Void":
      return "void";
    case "Text":
    case "Float32":
    case "Float64":
      return formatValue(type, v);
    case "Data":
      if (v === "") return '""';
      return `0x"${Buffer.from(String(v), "base64").toString("hex")}"`;
    case "List":
      return `[${(v as unknown[]).map((x) => textOf(index, type.element, x)).join(", ")}]`;
    case "struct": {
      const model = index.structs.get(type.name)!;
      const given = v as Record<string, unknown>;
      const parts = model.fields.filter((f) =>
        Object.hasOwn(given, f.name) && given[f.name] !== undefined
      ).map((f) => `${f.name} = ${textOf(index, f.type, given[f.name])}`);
      return `(${parts.join(", ")})`;
    }
    case "enum":
      return String(v);
    default:
      return String(v);
  }
}

/** Splits a stream of unpacked messages into single messages using their frame headers. */
export function splitStream(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at < bytes.length) {
    const segments = view.getUint32(at, true) + 1;
    let header = 4 + segments * 4;
    header += header % 8;
    let body = 0;
    for (let i = 0; i < segments; i++) body += view.getUint32(at + 4 + i * 4, true) * 8;
    out.push(bytes.slice(at, at + header + body));
    at += header + body;
  }
  return out;
}

/** JSON lines of `capnp convert …:json --short` as objects. */
export function jsonLines(bytes: Uint8Array): Record<string, unknown>[] {
  return new TextDecoder().decode(bytes).split("\n").filter((l) => l.trim()).map((l) =>
    JSON.parse(l)
  );
}
