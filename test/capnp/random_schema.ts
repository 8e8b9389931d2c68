/**
 * Seeded random schemas and values for compatibility tests against the capnp tool: many
 * shapes of structs (to exercise the layout's hole filling) and values of every type.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import {
  type CapnpType,
  type FieldModel,
  indexSchema,
  PRIMITIVE_KINDS,
  type SchemaFile,
  type SchemaIndex,
  type StructModel,
} from "../../src/capnp/mod.ts";

/** A small deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(rand: () => number, items: readonly T[]): T =>
  items[Math.floor(rand() * items.length)];

/** A random schema: struct `Schema` with up to 24 fields, a nested struct and an enum. */
export function randomSchema(seed: number): SchemaFile {
  const rand = prng(seed);
  const inner: StructModel = {
    name: "Inner",
    fullName: "Schema.Inner",
    fields: [],
    structs: [],
    enums: [],
  };
  const root: StructModel = {
    name: "Schema",
    fullName: "Schema",
    fields: [],
    structs: [inner],
    enums: [{
      name: "Mood",
      fullName: "Schema.Mood",
      enumerants: ["calm", "busy", "angry"].map((name, ordinal) => ({ name, ordinal })),
    }],
  };
  const scalar = (): CapnpType => {
    const r = rand();
    if (r < 0.7) return { kind: pick(rand, PRIMITIVE_KINDS) };
    if (r < 0.8) return { kind: "Text" };
    if (r < 0.85) return { kind: "Data" };
    return { kind: "enum", name: "Schema.Mood" };
  };
  const anyType = (depth: number): CapnpType => {
    const r = rand();
    if (r < 0.75 || depth > 1) return scalar();
    if (r < 0.85) return { kind: "List", element: depth === 0 ? anyType(depth + 1) : scalar() };
    if (r < 0.92) return { kind: "struct", name: "Schema.Inner" };
    return { kind: "List", element: { kind: "struct", name: "Schema.Inner" } };
  };
  const fieldCount = 1 + Math.floor(rand() * 24);
  const innerCount = Math.floor(rand() * 6);
  for (let i = 0; i < innerCount; i++) {
    inner.fields.push(withDefault(rand, { name: `n${i}`, ordinal: i, type: scalar() }));
  }
  for (let i = 0; i < fieldCount; i++) {
    root.fields.push(withDefault(rand, { name: `f${i}`, ordinal: i, type: anyType(0) }));
  }
  // Ordinals in a shuffled declaration order: the layout must follow ordinals.
  for (let i = root.fields.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [root.fields[i], root.fields[j]] = [root.fields[j], root.fields[i]];
  }
  const id = (BigInt(Math.floor(rand() * 2 ** 31)) << 32n) | BigInt(Math.floor(rand() * 2 ** 32));
  return { id: id | (1n << 63n), structs: [root], enums: [] };
}

function withDefault(rand: () => number, field: FieldModel): FieldModel {
  const t = field.type.kind;
  if (rand() < 0.3 && t !== "Void" && t !== "List" && t !== "struct") {
    field.default = nativeValue(rand, field.type);
  }
  return field;
}

/** A random native value (bigint for 64-bit, Uint8Array for Data) for a default. */
function nativeValue(rand: () => number, type: CapnpType): unknown {
  const v = randomValue(rand, type, undefined, 0);
  if (type.kind === "Int64" || type.kind === "UInt64") return BigInt(v as number | string);
  if (type.kind === "Data") return Uint8Array.from(Buffer.from(v as string, "base64"));
  return v;
}

const INT_RANGES: Record<string, [number, number]> = {
  Int8: [-128, 127],
  Int16: [-32768, 32767],
  Int32: [-2147483648, 2147483647],
  UInt8: [0, 255],
  UInt16: [0, 65535],
  UInt32: [0, 4294967295],
};

const WORDS = ["", "a", "web", "ünïcödé", "tab\there", 'quote"d', "back\\slash", "日本", "x y z"];

/** A random value of `type` in ays' JSON form. */
export function randomValue(
  rand: () => number,
  type: CapnpType,
  index: SchemaIndex | undefined,
  depth: number,
): unknown {
  switch (type.kind) {
    case "Void":
      return null;
    case "Bool":
      return rand() < 0.5;
    case "Int64":
    case "UInt64": {
      const r = rand();
      const signed = type.kind === "Int64";
      if (r < 0.2) return signed ? "-9223372036854775808" : "18446744073709551615";
      if (r < 0.3) return signed ? "9223372036854775807" : "9007199254740993";
      const n = Math.floor(rand() * 2 ** 53);
      return signed && rand() < 0.5 ? -n : n;
    }
    case "Float32":
      return Math.fround((rand() - 0.5) * 10 ** Math.floor(rand() * 12 - 4));
    case "Float64":
      return (rand() - 0.5) * 10 ** Math.floor(rand() * 40 - 10);
    case "Text":
      return Array.from({ length: Math.floor(rand() * 4) }, () => pick(rand, WORDS)).join(" ");
    case "Data":
      return Buffer.from(
        Array.from({ length: Math.floor(rand() * 12) }, () => Math.floor(rand() * 256)),
      ).toString("base64");
    case "enum": {
      const names = index?.enums.get(type.name)?.enumerants.map((e) => e.name);
      return pick(rand, names ?? ["calm", "busy", "angry"]);
    }
    case "List":
      return Array.from(
        { length: Math.floor(rand() * (depth > 1 ? 2 : 5)) },
        () => randomValue(rand, type.element, index, depth + 1),
      );
    case "struct": {
      const model = index!.structs.get(type.name)!;
      const out: Record<string, unknown> = {};
      for (const f of model.fields) {
        if (rand() < 0.8) out[f.name] = randomValue(rand, f.type, index, depth + 1);
      }
      return out;
    }
    default: {
      const [min, max] = INT_RANGES[type.kind];
      const r = rand();
      if (r < 0.15) return min;
      if (r < 0.3) return max;
      return min + Math.floor(rand() * (max - min + 1));
    }
  }
}

/** A random value of the struct `name` of `file`, some fields left out. */
export function randomStructValue(
  file: SchemaFile,
  name: string,
  seed: number,
): Record<string, unknown> {
  const rand = prng(seed);
  return randomValue(rand, { kind: "struct", name }, indexSchema(file), 0) as Record<
    string,
    unknown
  >;
}
