/**
 * Cap'n Proto for ays (docs/capnp.md): a model of schema files, the HRD → capnp converter,
 * a parser for the supported subset of the capnp language, the layout the official compiler
 * computes, and a codec for messages.
 *
 * @module
 */
export type {
  CapnpType,
  EnumerantModel,
  EnumModel,
  FieldModel,
  PrimitiveKind,
  SchemaFile,
  SchemaIndex,
  StructModel,
} from "./model.ts";
export { findStruct, indexSchema, PRIMITIVE_KINDS, typeName } from "./model.ts";
export type { ParseCapnpOptions } from "./parse.ts";
export { parseCapnp } from "./parse.ts";
export type { EmitCapnpOptions } from "./emit.ts";
export { emitCapnp, formatValue } from "./emit.ts";
export type { SchemaFromFieldsOptions } from "./from_fields.ts";
export { capnpTypeOf, HRD_TYPE_MAP, schemaFileId, schemaFromFields } from "./from_fields.ts";
export type { FieldLayout, FieldPosition, StructLayout } from "./layout.ts";
export {
  formatPosition,
  formatStructSize,
  layoutSchema,
  layoutStruct,
  lgSizeOf,
} from "./layout.ts";
export type { CodecCallOptions, CompileCodecOptions, StructCodec } from "./codec.ts";
export type { FieldPick } from "./plan_pick.ts";
export { compileCodec } from "./codec.ts";
export type {
  DataCodec,
  RecordKind,
  RecordKinds,
  RepositoryRecord,
  ServiceHead,
  StoredService,
} from "./ays_models.ts";
export {
  actorDataCodec,
  decodeRecord,
  decodeService,
  decodeServiceHead,
  decodeServiceSummary,
  encodeRecord,
  encodeService,
} from "./ays_models.ts";
export { AYS_SCHEMA_TEXT } from "./ays_schema_text.ts";
