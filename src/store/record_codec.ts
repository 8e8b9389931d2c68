/**
 * The seams between the records layer and Cap'n Proto: how a record (repository, actor,
 * service, run, job) becomes bytes, and how a service's data is encoded with its actor's own
 * schema. The records layer only ever calls these two interfaces.
 *
 * @module
 */
import {
  actorDataCodec,
  decodeRecord,
  encodeRecord,
  type RecordKind,
  type RecordKinds,
} from "../capnp/ays_models.ts";
import type { ActorRecord } from "../model/types.ts";

export type { RecordKind, RecordKinds };

/** Encodes and decodes whole records. */
export interface RecordCodec {
  /** A short name for messages and benchmarks. */
  readonly name: string;
  encode(kind: RecordKind, value: unknown): Uint8Array;
  decode(kind: RecordKind, bytes: Uint8Array): unknown;
}

/** Encodes and decodes the data of the services of one actor. */
export interface ServiceDataCodec {
  encode(data: Record<string, unknown>): Uint8Array;
  decode(bytes: Uint8Array): Record<string, unknown>;
}

/** Finds the data codec of an actor. */
export type DataCodecFor = (actor: ActorRecord) => ServiceDataCodec;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function toBase64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

function fromBase64(text: string): Uint8Array {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

/**
 * Records as JSON; a top-level bytes field (a stored service's `data`) becomes
 * `{"$bytes": base64}`. Not what the store writes (that is {@link capnpRecordCodec}); kept
 * to compare against and to read records by hand. Only the top level is looked at (no reviver
 * over every value), which keeps decoding fast.
 */
export const jsonRecordCodec: RecordCodec = {
  name: "json",
  encode(_kind, value) {
    let plain = value;
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
      for (const [key, field] of Object.entries(copy)) {
        if (field instanceof Uint8Array) copy[key] = { $bytes: toBase64(field) };
      }
      plain = copy;
    }
    return encoder.encode(JSON.stringify(plain));
  },
  decode(_kind, bytes) {
    const value = JSON.parse(decoder.decode(bytes));
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
        if (
          field !== null && typeof field === "object" &&
          typeof (field as { $bytes?: unknown }).$bytes === "string"
        ) {
          value[key] = fromBase64((field as { $bytes: string }).$bytes);
        }
      }
    }
    return value;
  },
};

/**
 * Records as Cap'n Proto messages of `schemas/ays.capnp` (`src/capnp/ays_models.ts`): the
 * codec the store uses.
 */
export const capnpRecordCodec: RecordCodec = {
  name: "capnp",
  encode: (kind, value) => encodeRecord(kind, value as RecordKinds[typeof kind]),
  decode: (kind, bytes) => decodeRecord(kind, bytes),
};

/**
 * The data codec of an actor from its capnp schema (`ActorRecord.capnpSchema`, root struct
 * `Schema`) and field specs (dicts are kept as JSON text), compiled once per schema.
 */
export function capnpDataCodec(actor: ActorRecord): ServiceDataCodec {
  return actorDataCodec(actor);
}
