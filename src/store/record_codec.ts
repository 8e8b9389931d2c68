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
  decodeServiceHead,
  decodeServiceSummary,
  encodeRecord,
  type RecordKind,
  type RecordKinds,
  type ServiceHead,
} from "../capnp/mod.ts";
import type { ActorRecord, ServiceSummary } from "../model/mod.ts";

export type { RecordKind, RecordKinds };

/** Encodes and decodes whole records. */
export interface RecordCodec {
  /** A short name for messages and benchmarks. */
  readonly name: string;
  encode(kind: RecordKind, value: unknown): Uint8Array;
  decode(kind: RecordKind, bytes: Uint8Array): unknown;
  /** What a listing shows of a service record, reading nothing else of it. */
  decodeServiceSummary(bytes: Uint8Array): ServiceSummary;
  /** A service record without its actions and event filters, reading nothing else of it. */
  decodeServiceHead(bytes: Uint8Array): ServiceHead;
}

/** Encodes and decodes the data of the services of one actor. */
export interface ServiceDataCodec {
  encode(data: Record<string, unknown>): Uint8Array;
  decode(bytes: Uint8Array): Record<string, unknown>;
}

/** Finds the data codec of an actor. */
export type DataCodecFor = (actor: ActorRecord) => ServiceDataCodec;

/**
 * Records as Cap'n Proto messages of `schemas/ays.capnp` (`src/capnp/ays_models.ts`): the
 * codec the store uses.
 */
export const capnpRecordCodec: RecordCodec = {
  name: "capnp",
  encode: (kind, value) => encodeRecord(kind, value as RecordKinds[typeof kind]),
  decode: (kind, bytes) => decodeRecord(kind, bytes),
  decodeServiceSummary,
  decodeServiceHead,
};

/**
 * The data codec of an actor from its capnp schema (`ActorRecord.capnpSchema`, root struct
 * `Schema`) and field specs (dicts are kept as JSON text), compiled once per schema.
 */
export function capnpDataCodec(actor: ActorRecord): ServiceDataCodec {
  return actorDataCodec(actor);
}
