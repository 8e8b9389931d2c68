/**
 * Encodes JS values into Cap'n Proto messages and decodes them back, for any struct of a
 * {@link SchemaFile}, without generated code (docs/capnp.md, "Codec").
 *
 * The writer (`writer.ts`) lays a message out in one scratch segment the codec keeps and copies
 * it out framed at its exact size; the reader (`reader.ts`) views the given bytes' segments and
 * follows near and far pointers. Field values are read and written at the offsets `layoutStruct`
 * (`layout.ts`) computes; each struct gets a plan once (`type_plan.ts`), so a call does no schema
 * work. The state of one call lives in the codec's writer or in the reader the call makes.
 *
 * JSON form (docs/capnp.md, "JSON form"): Int64/UInt64 are numbers when safe, else decimal
 * strings; Data is base64 (or a Uint8Array with `data: "bytes"`); enums are enumerant names; Void
 * is null. Reading a null pointer gives the field's default (empty text, empty list, a struct of
 * defaults), as every capnp reader does.
 *
 * @module
 */
import { InputError } from "../errors.ts";
import type { StructLayout } from "./layout.ts";
import { findStruct, indexSchema, type SchemaFile } from "./model.ts";
import { decodeMessage, settleDefaults } from "./reader.ts";
import { type FieldPick, pickPlan } from "./plan_pick.ts";
import { planStructs } from "./type_plan.ts";
import { MessageWriter } from "./writer.ts";

/** Options of {@link compileCodec}. */
export interface CompileCodecOptions {
  /** The root struct (full or simple name); default `Schema`. */
  struct?: string;
  /** How decoded Data fields look: base64 strings (default) or Uint8Arrays. */
  data?: "base64" | "bytes";
  /**
   * Decode a null pointer (absent Text, Data, list or struct) as null instead of its default,
   * for records whose optional fields are absent pointers.
   */
  nulls?: boolean;
  /** Decode only these fields (`plan_pick.ts`); encoding still takes every field. */
  pick?: FieldPick;
}

/** Options of {@link StructCodec.encode} and {@link StructCodec.decode}. */
export interface CodecCallOptions {
  /** The packed encoding (default: unpacked). */
  packed?: boolean;
  /** Encoding: refuse keys that are not fields of their struct (default: ignore them). */
  strict?: boolean;
}

/** Encoder and decoder of one root struct. */
export interface StructCodec {
  /** Full name of the root struct. */
  readonly name: string;
  /** The root struct's layout. */
  readonly layout: StructLayout;
  /** A message (stream framing, one segment) holding `value` as its root. */
  encode(value: Record<string, unknown>, options?: CodecCallOptions): Uint8Array;
  /** The root of a message as a plain object in JSON form. */
  decode(bytes: Uint8Array, options?: CodecCallOptions): Record<string, unknown>;
}

/**
 * Compiles the encoder and decoder of the root struct (`options.struct`, default `Schema`)
 * of `file`. The work of planning is done here, once.
 */
export function compileCodec(file: SchemaFile, options: CompileCodecOptions = {}): StructCodec {
  const { struct: rootName = "Schema", data = "base64", nulls = false, pick } = options;
  if (data !== "base64" && data !== "bytes") {
    throw new InputError(`compileCodec: data must be "base64" or "bytes", not ${String(data)}`);
  }
  const model = findStruct(file, rootName);
  if (!model) {
    const names = [...indexSchema(file).structs.keys()].join(", ");
    throw new InputError(`no struct ${rootName} in the schema (it has: ${names || "none"})`, {
      location: file.file ? { file: file.file } : undefined,
    });
  }
  const bytes = data === "bytes";
  const { root, structs } = planStructs(file, model);
  settleDefaults(structs, { bytes });
  // Picked after the defaults are settled: the reduced plans share the fields' defaults.
  const readRoot = pick ? pickPlan(root, pick) : root;
  // Made once: a call passes one of these along instead of making an options object.
  const texts = new Map<number, string>();
  const unpackedForm = { packed: false, bytes, nulls, texts };
  const packedForm = { packed: true, bytes, nulls, texts };
  // One writer per codec: its scratch segment is reused by every message the codec encodes.
  const writer = new MessageWriter();
  return {
    name: root.name,
    layout: root.layout,
    encode(value, callOptions = {}) {
      return writer.encode(root, value, callOptions);
    },
    decode(message, callOptions = {}) {
      return decodeMessage(message, readRoot, callOptions.packed ? packedForm : unpackedForm);
    },
  };
}
