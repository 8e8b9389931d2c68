/**
 * Encodes JS values into Cap'n Proto messages and decodes them back, for any struct of a
 * {@link SchemaFile}, without generated code (SPEC §3.2).
 *
 * capnp-es provides the message: framing, segments, allocation, packing (`Message`,
 * `Segment.allocate`, `toArrayBuffer`, `toPackedArrayBuffer`, `new Message(buf, packed)`), the
 * root struct (`initRoot` with a runtime `Struct` class of the computed `ObjectSize`) and far
 * pointers (`utils.followFars`, `utils.getContent`, `utils.initPointer`). Field values are read
 * and written at the offsets {@link layoutStruct} computes, through the segment's typed
 * accessors; each struct gets a plan once, so a call does no schema work.
 *
 * JSON form (SPEC §3.2): Int64/UInt64 are numbers when safe, else decimal strings; Data is
 * base64 (or a Uint8Array with `data: "bytes"`); enums are enumerant names; Void is null.
 * Reading a null pointer gives the field's default (empty text, empty list, a struct of
 * defaults), as every capnp reader does.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { Message, ObjectSize, Pointer, Struct, type StructCtor, utils } from "capnp-es";
import { InputError } from "../errors.ts";
import { layoutStruct, type StructLayout } from "./layout.ts";
import {
  type CapnpType,
  findStruct,
  indexSchema,
  type SchemaFile,
  type SchemaIndex,
  type StructModel,
} from "./model.ts";

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

// Type codes of plans; numbers keep the hot switch cheap.
const VOID = 0;
const BOOL = 1;
const INT8 = 2;
const INT16 = 3;
const INT32 = 4;
const INT64 = 5;
const UINT8 = 6;
const UINT16 = 7;
const UINT32 = 8;
const UINT64 = 9;
const FLOAT32 = 10;
const FLOAT64 = 11;
const TEXT = 12;
const DATA = 13;
const LIST = 14;
const STRUCT = 15;
const ENUM = 16;

const KIND_CODES: Record<string, number> = {
  Void: VOID,
  Bool: BOOL,
  Int8: INT8,
  Int16: INT16,
  Int32: INT32,
  Int64: INT64,
  UInt8: UINT8,
  UInt16: UINT16,
  UInt32: UINT32,
  UInt64: UINT64,
  Float32: FLOAT32,
  Float64: FLOAT64,
  Text: TEXT,
  Data: DATA,
  List: LIST,
  struct: STRUCT,
  enum: ENUM,
};

// ListElementSize codes of the encoding spec.
const SIZE_VOID = 0;
const SIZE_BIT = 1;
const SIZE_BYTE = 2;
const SIZE_BYTE2 = 3;
const SIZE_BYTE4 = 4;
const SIZE_BYTE8 = 5;
const SIZE_POINTER = 6;
const SIZE_COMPOSITE = 7;

interface EnumPlan {
  name: string;
  byName: Map<string, number>;
  byOrdinal: string[];
}

interface TypePlan {
  code: number;
  /** What the type looks like in messages, for errors. */
  label: string;
  element?: TypePlan;
  struct?: StructPlan;
  enumPlan?: EnumPlan;
  /** ListElementSize of a list of this type. */
  listSize: number;
  /** Bytes per element in a list (0 for bits, void, composite). */
  listBytes: number;
}

interface FieldPlan {
  name: string;
  type: TypePlan;
  /** Data fields: byte offset in the data section. Pointer fields: -1. */
  byteOffset: number;
  /** Bool fields: the bit mask within its byte. */
  bitMask: number;
  /** Pointer fields: the pointer index. */
  ptrIndex: number;
  /** Raw default bits XOR-ed into the stored value (low and high 32 bits). */
  defLo: number;
  defHi: number;
  /** The default of a pointer field in JSON form, or undefined. */
  defJson: unknown;
  /** The default of a pointer field in native form (from the schema), or undefined. */
  defNative: unknown;
}

interface StructPlan {
  name: string;
  fieldNames: Set<string>;
  dataWords: number;
  pointerCount: number;
  dataBytes: number;
  /** In declaration order: the order of keys in decoded objects. */
  fields: FieldPlan[];
  /**
   * In ordinal order, so pointer targets are laid out in pointer order as capnp's own writer
   * does (our packed bytes then equal the tool's).
   */
  writeOrder: FieldPlan[];
  ctor: typeof Struct;
  layout: StructLayout;
}

const scratch = new DataView(new ArrayBuffer(8));
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder("utf-8", { fatal: false });
const TWO32 = 4294967296;

/** Builds (once) the plans of every struct reachable from the root. */
class Planner {
  private structs = new Map<string, StructPlan>();
  private enums = new Map<string, EnumPlan>();
  private index: SchemaIndex;

  constructor(private file: SchemaFile, private dataForm: "base64" | "bytes") {
    this.index = indexSchema(file);
  }

  structPlan(model: StructModel): StructPlan {
    const existing = this.structs.get(model.fullName);
    if (existing) return existing;
    const layout = layoutStruct(model);
    const size = new ObjectSize(layout.dataWords * 8, layout.pointerCount);
    const ctor = class extends Struct {
      static override readonly _capnp = { displayName: model.fullName, id: "0", size };
    };
    const plan: StructPlan = {
      name: model.fullName,
      fieldNames: new Set(model.fields.map((f) => f.name)),
      dataWords: layout.dataWords,
      pointerCount: layout.pointerCount,
      dataBytes: layout.dataWords * 8,
      fields: [],
      writeOrder: [],
      ctor: ctor as unknown as typeof Struct,
      layout,
    };
    // Registered before its fields so recursive types find it.
    this.structs.set(model.fullName, plan);
    const ordinals = new Map<FieldPlan, number>();
    for (const { field, position } of layout.fields) {
      const type = this.typePlan(field.type);
      const fp: FieldPlan = {
        name: field.name,
        type,
        byteOffset: -1,
        bitMask: 0,
        ptrIndex: -1,
        defLo: 0,
        defHi: 0,
        defJson: undefined,
        defNative: undefined,
      };
      if (position.section === "pointer") {
        fp.ptrIndex = position.index;
        if (field.default !== undefined) {
          // Turned into JSON form by finalize(), once every struct it may contain is planned.
          fp.defNative = field.default;
        }
      } else {
        fp.byteOffset = position.offsetBits >> 3;
        fp.bitMask = 1 << (position.offsetBits & 7);
        if (field.default !== undefined) {
          const [lo, hi] = defaultBits(type, field.default);
          fp.defLo = lo;
          fp.defHi = hi;
        }
      }
      plan.fields.push(fp);
      ordinals.set(fp, field.ordinal);
    }
    plan.writeOrder = [...plan.fields].sort((a, b) => ordinals.get(a)! - ordinals.get(b)!);
    return plan;
  }

  /** Computes the JSON form of pointer defaults, now that every plan is complete. */
  finalize(): void {
    for (const plan of this.structs.values()) {
      for (const f of plan.fields) {
        if (f.defNative !== undefined && f.defJson === undefined) {
          f.defJson = nativeToJson(f.type, f.defNative, this.dataForm);
        }
      }
    }
  }

  typePlan(type: CapnpType): TypePlan {
    const code = KIND_CODES[type.kind];
    const plan: TypePlan = { code, label: type.kind, listSize: SIZE_POINTER, listBytes: 8 };
    switch (code) {
      case VOID:
        plan.listSize = SIZE_VOID;
        plan.listBytes = 0;
        break;
      case BOOL:
        plan.listSize = SIZE_BIT;
        plan.listBytes = 0;
        break;
      case INT8:
      case UINT8:
        plan.listSize = SIZE_BYTE;
        plan.listBytes = 1;
        break;
      case INT16:
      case UINT16:
      case ENUM:
        plan.listSize = SIZE_BYTE2;
        plan.listBytes = 2;
        break;
      case INT32:
      case UINT32:
      case FLOAT32:
        plan.listSize = SIZE_BYTE4;
        plan.listBytes = 4;
        break;
      case INT64:
      case UINT64:
      case FLOAT64:
        plan.listSize = SIZE_BYTE8;
        plan.listBytes = 8;
        break;
    }
    if (type.kind === "List") {
      plan.element = this.typePlan(type.element);
      plan.label = `List(${plan.element.label})`;
    } else if (type.kind === "struct") {
      const model = this.index.structs.get(type.name);
      if (!model) throw new InputError(`unknown struct ${type.name}`);
      plan.label = type.name;
      plan.listSize = SIZE_COMPOSITE;
      plan.listBytes = 0;
      // structPlan registers a plan before planning its fields, so recursion ends.
      plan.struct = this.structPlan(model);
    } else if (type.kind === "enum") {
      plan.enumPlan = this.enumPlan(type.name);
      plan.label = type.name;
    }
    return plan;
  }

  private enumPlan(name: string): EnumPlan {
    const existing = this.enums.get(name);
    if (existing) return existing;
    const model = this.index.enums.get(name);
    if (!model) throw new InputError(`unknown enum ${name}`);
    const plan: EnumPlan = { name, byName: new Map(), byOrdinal: [] };
    for (const e of model.enumerants) {
      plan.byName.set(e.name, e.ordinal);
      plan.byOrdinal[e.ordinal] = e.name;
    }
    this.enums.set(name, plan);
    return plan;
  }
}

/** The raw bits of a data-section default, as two 32-bit halves. */
function defaultBits(type: TypePlan, value: unknown): [number, number] {
  switch (type.code) {
    case BOOL:
      return [value ? 1 : 0, 0];
    case INT8:
    case UINT8:
      return [Number(value) & 0xff, 0];
    case INT16:
    case UINT16:
      return [Number(value) & 0xffff, 0];
    case ENUM:
      return [type.enumPlan!.byName.get(String(value)) ?? 0, 0];
    case INT32:
    case UINT32:
      return [Number(value) >>> 0, 0];
    case FLOAT32:
      scratch.setFloat32(0, Number(value), true);
      return [scratch.getUint32(0, true), 0];
    case FLOAT64:
      scratch.setFloat64(0, Number(value), true);
      return [scratch.getUint32(0, true), scratch.getUint32(4, true)];
    case INT64:
    case UINT64: {
      const n = BigInt.asUintN(64, BigInt(value as bigint));
      return [Number(n & 0xffffffffn), Number(n >> 32n)];
    }
    default:
      return [0, 0];
  }
}

/** A native default (bigint, Uint8Array, …) in JSON form. */
function nativeToJson(type: TypePlan, value: unknown, dataForm: "base64" | "bytes"): unknown {
  switch (type.code) {
    case INT64:
    case UINT64: {
      const n = BigInt(value as bigint);
      const asNumber = Number(n);
      return Number.isSafeInteger(asNumber) ? asNumber : n.toString();
    }
    case DATA:
      return dataForm === "bytes"
        ? Uint8Array.from(value as Uint8Array)
        : Buffer.from(value as Uint8Array).toString("base64");
    case LIST:
      return (value as unknown[]).map((v) => nativeToJson(type.element!, v, dataForm));
    case STRUCT: {
      const plan = type.struct!;
      const given = value as Record<string, unknown>;
      // A struct default reads like the struct it encodes: every field, defaults filled in.
      for (const f of plan.fields) {
        if (!(f.name in given) && f.defNative !== undefined && f.defJson === undefined) {
          f.defJson = nativeToJson(f.type, f.defNative, dataForm);
        }
      }
      const mode: DecodeMode = { bytes: dataForm === "bytes", nulls: false };
      const out = readStruct(undefined as unknown as Segment, 0, 0, 0, plan, mode, 0);
      for (const f of plan.fields) {
        if (f.name in given) out[f.name] = nativeToJson(f.type, given[f.name], dataForm);
      }
      return out;
    }
    default:
      return value;
  }
}

// ---------------------------------------------------------------------------------------
// Encoding

type Segment = Pointer["segment"];

function typeError(path: string, type: TypePlan, value: unknown): never {
  const shown = typeof value === "string" ? JSON.stringify(value) : String(value);
  throw new InputError(
    `${path}: expected ${type.label}, got ${typeof value} ${shown.slice(0, 60)}`,
  );
}

function intValue(path: string, type: TypePlan, v: unknown, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    if (typeof v === "number" && !Number.isInteger(v)) {
      throw new InputError(`${path}: ${v} is not an integer (${type.label})`);
    }
    if (typeof v === "number") {
      throw new InputError(`${path}: ${v} is out of range for ${type.label} (${min}…${max})`);
    }
    return typeError(path, type, v);
  }
  return v;
}

/** Splits a 64-bit JSON value into halves, checking its range. */
function int64Halves(path: string, type: TypePlan, v: unknown, signed: boolean): void {
  if (typeof v === "number") {
    if (!Number.isInteger(v)) {
      throw new InputError(`${path}: ${v} is not an integer (${type.label})`);
    }
    if (!signed && v < 0) throw new InputError(`${path}: ${v} is out of range for ${type.label}`);
    if (!Number.isSafeInteger(v)) {
      throw new InputError(
        `${path}: ${v} is beyond 2^53 and may have lost digits: give ${type.label} values that ` +
          "large as a string",
      );
    }
    const hi = Math.floor(v / TWO32);
    HALF_LO = v - hi * TWO32;
    HALF_HI = hi >>> 0;
    return;
  }
  let n: bigint;
  if (typeof v === "bigint") n = v;
  else if (typeof v === "string" && /^-?[0-9]+$/.test(v.trim())) n = BigInt(v.trim());
  else return typeError(path, type, v);
  const ok = signed ? n >= -(1n << 63n) && n < 1n << 63n : n >= 0n && n < 1n << 64n;
  if (!ok) throw new InputError(`${path}: ${n} is out of range for ${type.label}`);
  const u = BigInt.asUintN(64, n);
  HALF_LO = Number(u & 0xffffffffn);
  HALF_HI = Number(u >> 32n);
}
let HALF_LO = 0;
let HALF_HI = 0;
/** Set when an encode put content outside the first segment (then capnp-es frames it). */
let spilled = false;
/** Set for the duration of one `encode({strict: true})`. */
let strict = false;

function floatValue(path: string, type: TypePlan, v: unknown): number {
  if (typeof v === "number") return v;
  if (v === "nan" || v === "NaN") return NaN;
  if (v === "inf" || v === "Infinity") return Infinity;
  if (v === "-inf" || v === "-Infinity") return -Infinity;
  return typeError(path, type, v);
}

/** Writes a data-section value at `addr`, XOR-ed with the default bits. */
function writeData(
  seg: Segment,
  addr: number,
  type: TypePlan,
  v: unknown,
  bitMask: number,
  defLo: number,
  defHi: number,
  path: string,
): void {
  switch (type.code) {
    case VOID:
      return;
    case BOOL: {
      if (typeof v !== "boolean") typeError(path, type, v);
      if ((v as boolean) !== (defLo !== 0)) {
        seg.setUint8(addr, seg.getUint8(addr) | bitMask);
      }
      return;
    }
    case INT8:
      seg.setUint8(addr, (intValue(path, type, v, -128, 127) & 0xff) ^ defLo);
      return;
    case UINT8:
      seg.setUint8(addr, intValue(path, type, v, 0, 255) ^ defLo);
      return;
    case INT16:
      seg.setUint16(addr, (intValue(path, type, v, -32768, 32767) & 0xffff) ^ defLo);
      return;
    case UINT16:
      seg.setUint16(addr, intValue(path, type, v, 0, 65535) ^ defLo);
      return;
    case ENUM: {
      let ordinal: number | undefined;
      if (typeof v === "string") ordinal = type.enumPlan!.byName.get(v);
      else if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v < 65536) ordinal = v;
      if (ordinal === undefined) {
        throw new InputError(
          `${path}: expected one of ${
            [...type.enumPlan!.byName.keys()].join(", ")
          } (${type.label}), ` +
            `got ${JSON.stringify(v)}`,
        );
      }
      seg.setUint16(addr, ordinal ^ defLo);
      return;
    }
    case INT32:
      seg.setUint32(addr, (intValue(path, type, v, -2147483648, 2147483647) ^ defLo) >>> 0);
      return;
    case UINT32:
      seg.setUint32(addr, (intValue(path, type, v, 0, 4294967295) ^ defLo) >>> 0);
      return;
    case INT64:
    case UINT64:
      int64Halves(path, type, v, type.code === INT64);
      seg.setUint32(addr, (HALF_LO ^ defLo) >>> 0);
      seg.setUint32(addr + 4, (HALF_HI ^ defHi) >>> 0);
      return;
    case FLOAT32: {
      const f = floatValue(path, type, v);
      if (defLo === 0) {
        seg.setFloat32(addr, f);
      } else {
        scratch.setFloat32(0, f, true);
        seg.setUint32(addr, (scratch.getUint32(0, true) ^ defLo) >>> 0);
      }
      return;
    }
    case FLOAT64: {
      const f = floatValue(path, type, v);
      if (defLo === 0 && defHi === 0) {
        seg.setFloat64(addr, f);
      } else {
        scratch.setFloat64(0, f, true);
        seg.setUint32(addr, (scratch.getUint32(0, true) ^ defLo) >>> 0);
        seg.setUint32(addr + 4, (scratch.getUint32(4, true) ^ defHi) >>> 0);
      }
      return;
    }
  }
}

/** Number of UTF-8 bytes of a string. */
function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 2;
        i++;
      } else n += 2;
    } else n += 2;
  }
  return n;
}

/**
 * Allocates `bytes` for the target of the pointer at `addr` and writes the pointer with the
 * given type bits (0 struct, 1 list) and upper word. The content's segment and offset are left
 * in A_SEG and A_OFF (module variables: no result object per pointer on the hot path).
 */
function allocateTarget(
  seg: Segment,
  addr: number,
  bytes: number,
  typeBits: number,
  upper: number,
): void {
  const content = seg.allocate(bytes);
  if (content.segment === seg) {
    const offsetWords = (content.byteOffset - addr - 8) / 8;
    seg.setUint32(addr, ((offsetWords << 2) | typeBits) >>> 0);
    seg.setUint32(addr + 4, upper >>> 0);
    A_SEG = seg;
    A_OFF = content.byteOffset;
    return;
  }
  // The target landed in another segment: capnp-es writes the far pointer and landing pad.
  spilled = true;
  const res = utils.initPointer(content.segment, content.byteOffset, new Pointer(seg, addr));
  const p = res.pointer;
  p.segment.setUint32(p.byteOffset, ((res.offsetWords << 2) | typeBits) >>> 0);
  p.segment.setUint32(p.byteOffset + 4, upper >>> 0);
  A_SEG = content.segment;
  A_OFF = content.byteOffset;
}
let A_SEG: Segment;
let A_OFF = 0;

/** A byte view of the buffer last written; a segment's buffer changes when it grows. */
let writeBuffer: ArrayBuffer | undefined;
let writeBytesView = new Uint8Array(0);

function writeText(seg: Segment, addr: number, s: string): void {
  const n = utf8Length(s);
  allocateTarget(seg, addr, n + 1, 1, SIZE_BYTE | ((n + 1) << 3));
  const target = A_SEG;
  const offset = A_OFF;
  if (n === s.length && n < 64) {
    if (writeBuffer !== target.buffer) {
      writeBuffer = target.buffer;
      writeBytesView = new Uint8Array(writeBuffer);
    }
    const bytes = writeBytesView;
    for (let i = 0; i < n; i++) bytes[offset + i] = s.charCodeAt(i);
  } else {
    textEncoder.encodeInto(s, new Uint8Array(target.buffer, offset, n));
  }
}

function toBytes(path: string, type: TypePlan, v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v === "string") {
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(v)) {
      throw new InputError(`${path}: expected base64 Data, got ${JSON.stringify(v.slice(0, 40))}`);
    }
    return Buffer.from(v, "base64");
  }
  if (Array.isArray(v) && v.every((b) => Number.isInteger(b) && b >= 0 && b < 256)) {
    return Uint8Array.from(v as number[]);
  }
  return typeError(path, type, v);
}

function writeBytes(seg: Segment, addr: number, bytes: Uint8Array): void {
  const n = bytes.length;
  allocateTarget(seg, addr, n, 1, SIZE_BYTE | (n << 3));
  const target = A_SEG;
  const offset = A_OFF;
  new Uint8Array(target.buffer, offset, n).set(bytes);
}

/** Writes the pointer at `addr` to a new copy of `v` of pointer type `type`. */
function writePointer(seg: Segment, addr: number, type: TypePlan, v: unknown, path: string): void {
  switch (type.code) {
    case TEXT:
      if (typeof v !== "string") typeError(path, type, v);
      writeText(seg, addr, v as string);
      return;
    case DATA:
      writeBytes(seg, addr, toBytes(path, type, v));
      return;
    case STRUCT: {
      if (typeof v !== "object" || v === null || Array.isArray(v)) typeError(path, type, v);
      const plan = type.struct!;
      const words = plan.dataWords + plan.pointerCount;
      if (words === 0) {
        // A zero-sized struct still needs a non-null pointer: offset -1 points at itself.
        seg.setUint32(addr, 0xfffffffc);
        seg.setUint32(addr + 4, 0);
        return;
      }
      allocateTarget(
        seg,
        addr,
        words * 8,
        0,
        plan.dataWords | (plan.pointerCount << 16),
      );
      const target = A_SEG;
      const offset = A_OFF;
      writeStruct(target, offset, plan, v as Record<string, unknown>, path);
      return;
    }
    case LIST:
      if (!Array.isArray(v)) typeError(path, type, v);
      writeList(seg, addr, type.element!, v as unknown[], path);
      return;
  }
}

function writeList(seg: Segment, addr: number, element: TypePlan, items: unknown[], path: string) {
  const n = items.length;
  switch (element.listSize) {
    case SIZE_VOID:
      // No content, but pointing at the end of what is written, as capnp's writer does.
      allocateTarget(seg, addr, 0, 1, SIZE_VOID | (n << 3));
      return;
    case SIZE_BIT: {
      allocateTarget(seg, addr, (n + 7) >> 3, 1, SIZE_BIT | (n << 3));
      const t = A_SEG;
      const offset = A_OFF;
      for (let i = 0; i < n; i++) {
        const v = items[i];
        if (typeof v !== "boolean") typeError(`${path}[${i}]`, element, v);
        if (v) t.setUint8(offset + (i >> 3), t.getUint8(offset + (i >> 3)) | (1 << (i & 7)));
      }
      return;
    }
    case SIZE_POINTER: {
      allocateTarget(seg, addr, n * 8, 1, SIZE_POINTER | (n << 3));
      const t = A_SEG;
      const offset = A_OFF;
      for (let i = 0; i < n; i++) {
        const v = items[i];
        if (v === null || v === undefined) continue;
        writePointer(t, offset + i * 8, element, v, `${path}[${i}]`);
      }
      return;
    }
    case SIZE_COMPOSITE: {
      const plan = element.struct!;
      const words = plan.dataWords + plan.pointerCount;
      allocateTarget(
        seg,
        addr,
        8 + n * words * 8,
        1,
        SIZE_COMPOSITE | ((n * words) << 3),
      );
      const t = A_SEG;
      const offset = A_OFF;
      // The tag word: a struct pointer whose offset field counts the elements.
      t.setUint32(offset, (n << 2) >>> 0);
      t.setUint32(offset + 4, (plan.dataWords | (plan.pointerCount << 16)) >>> 0);
      for (let i = 0; i < n; i++) {
        const v = items[i];
        const p = `${path}[${i}]`;
        if (typeof v !== "object" || v === null || Array.isArray(v)) typeError(p, element, v);
        writeStruct(t, offset + 8 + i * words * 8, plan, v as Record<string, unknown>, p);
      }
      return;
    }
    default: {
      const size = element.listBytes;
      allocateTarget(
        seg,
        addr,
        n * size,
        1,
        element.listSize | (n << 3),
      );
      const t = A_SEG;
      const offset = A_OFF;
      for (let i = 0; i < n; i++) {
        writeData(t, offset + i * size, element, items[i], 0, 0, 0, `${path}[${i}]`);
      }
    }
  }
}

function writeStruct(
  seg: Segment,
  dataAddr: number,
  plan: StructPlan,
  value: Record<string, unknown>,
  path: string,
): void {
  const ptrAddr = dataAddr + plan.dataBytes;
  const fields = plan.writeOrder;
  if (strict) {
    for (const key of Object.keys(value)) {
      if (!plan.fieldNames.has(key)) {
        throw new InputError(
          `${path ? `${path}.` : ""}${key}: struct ${plan.name} has no such field (fields: ${
            [...plan.fieldNames].join(", ") || "none"
          })`,
        );
      }
    }
  }
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    const v = value[f.name];
    if (v === undefined || v === null) continue;
    if (f.ptrIndex < 0) {
      writeData(
        seg,
        dataAddr + f.byteOffset,
        f.type,
        v,
        f.bitMask,
        f.defLo,
        f.defHi,
        path ? `${path}.${f.name}` : f.name,
      );
    } else {
      writePointer(seg, ptrAddr + f.ptrIndex * 8, f.type, v, path ? `${path}.${f.name}` : f.name);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Decoding

// The pointer last resolved by resolvePointer: its segment, its two words, its content.
let R_SEG: Segment;
let R_LO = 0;
let R_HI = 0;
let R_CONTENT = 0;

/** Reading budget in words, against messages that point at the same data many times. */
let budget = 0;

function malformed(message: string): never {
  throw new InputError(`malformed Cap'n Proto message: ${message}`);
}

/** Refuses content that would reach past the end of its segment (checked before allocating). */
function checkBounds(seg: Segment, offset: number, bytes: number): void {
  if (offset < 0 || offset + bytes > seg.byteLength) {
    malformed("a pointer leads outside its segment");
  }
}

/** Resolves the pointer at `addr`; returns false for a null pointer. Follows far pointers. */
function resolvePointer(seg: Segment, addr: number): boolean {
  const lo = seg.getUint32(addr);
  const hi = seg.getUint32(addr + 4);
  if (lo === 0 && hi === 0) return false;
  if ((lo & 3) !== 2) {
    R_SEG = seg;
    R_LO = lo;
    R_HI = hi;
    R_CONTENT = addr + 8 + ((lo | 0) >> 2) * 8;
    return true;
  }
  const p = new Pointer(seg, addr);
  const tag = utils.followFars(p);
  const tagLo = tag.segment.getUint32(tag.byteOffset);
  const tagHi = tag.segment.getUint32(tag.byteOffset + 4);
  if ((tagLo & 3) === 2) malformed("a far pointer leads to another far pointer");
  const content = utils.getContent(p);
  const composite = (tagLo & 3) === 1 && (tagHi & 7) === SIZE_COMPOSITE;
  R_SEG = content.segment;
  R_LO = tagLo;
  R_HI = tagHi;
  R_CONTENT = content.byteOffset - (composite ? 8 : 0);
  return true;
}

/** A byte view of the segment last read from, so short texts need no view per field. */
let bytesSeg: Segment | undefined;
let bytesOfSeg = new Uint8Array(0);

function decodeText(seg: Segment, offset: number, count: number): string {
  const n = count - 1;
  if (n <= 0) return "";
  if (seg !== bytesSeg || bytesOfSeg.buffer !== seg.buffer) {
    bytesSeg = seg;
    bytesOfSeg = new Uint8Array(seg.buffer);
  }
  const bytes = bytesOfSeg;
  if (n < 24) {
    // Short ASCII is the common case (names, addresses); skip TextDecoder's call overhead.
    let ascii = "";
    for (let i = offset; i < offset + n; i++) {
      const c = bytes[i];
      if (c >= 0x80) return textDecoder.decode(bytes.subarray(offset, offset + n));
      ascii += String.fromCharCode(c);
    }
    return ascii;
  }
  return textDecoder.decode(bytes.subarray(offset, offset + n));
}

function readInt64(seg: Segment, addr: number, defLo: number, defHi: number, signed: boolean) {
  const lo = (seg.getUint32(addr) ^ defLo) >>> 0;
  const hiBits = seg.getUint32(addr + 4) ^ defHi;
  const hi = signed ? hiBits | 0 : hiBits >>> 0;
  const v = hi * TWO32 + lo;
  if (Number.isSafeInteger(v)) return v;
  const big = (BigInt(hi) << 32n) | BigInt(lo);
  return big.toString();
}

/** Reads a data-section value at `addr` (`inRange` false: beyond the struct's data). */
function readData(
  seg: Segment,
  addr: number,
  inRange: boolean,
  type: TypePlan,
  bitMask: number,
  defLo: number,
  defHi: number,
): unknown {
  switch (type.code) {
    case VOID:
      return null;
    case BOOL:
      return ((inRange ? seg.getUint8(addr) & bitMask : 0) !== 0) !== (defLo !== 0);
    case INT8:
      return (((inRange ? seg.getUint8(addr) : 0) ^ defLo) << 24) >> 24;
    case UINT8:
      return (inRange ? seg.getUint8(addr) : 0) ^ defLo;
    case INT16:
      return (((inRange ? seg.getUint16(addr) : 0) ^ defLo) << 16) >> 16;
    case UINT16:
      return (inRange ? seg.getUint16(addr) : 0) ^ defLo;
    case ENUM: {
      const ordinal = (inRange ? seg.getUint16(addr) : 0) ^ defLo;
      // An enumerant from a newer schema stays a number rather than failing.
      return type.enumPlan!.byOrdinal[ordinal] ?? ordinal;
    }
    case INT32:
      return (inRange ? seg.getUint32(addr) : 0) ^ defLo;
    case UINT32:
      return ((inRange ? seg.getUint32(addr) : 0) ^ defLo) >>> 0;
    case INT64:
    case UINT64:
      if (!inRange) return readInt64Default(defLo, defHi, type.code === INT64);
      return readInt64(seg, addr, defLo, defHi, type.code === INT64);
    case FLOAT32:
      if (defLo === 0) return inRange ? seg.getFloat32(addr) : 0;
      scratch.setUint32(0, ((inRange ? seg.getUint32(addr) : 0) ^ defLo) >>> 0, true);
      return scratch.getFloat32(0, true);
    case FLOAT64:
      if (defLo === 0 && defHi === 0) return inRange ? seg.getFloat64(addr) : 0;
      scratch.setUint32(0, ((inRange ? seg.getUint32(addr) : 0) ^ defLo) >>> 0, true);
      scratch.setUint32(4, ((inRange ? seg.getUint32(addr + 4) : 0) ^ defHi) >>> 0, true);
      return scratch.getFloat64(0, true);
  }
  return null;
}

function readInt64Default(defLo: number, defHi: number, signed: boolean): unknown {
  const hi = signed ? defHi | 0 : defHi >>> 0;
  const v = hi * TWO32 + (defLo >>> 0);
  if (Number.isSafeInteger(v)) return v;
  return ((BigInt(hi) << 32n) | BigInt(defLo >>> 0)).toString();
}

/** How decoded values look. */
interface DecodeMode {
  /** Data as Uint8Array instead of base64. */
  bytes: boolean;
  /** Null pointers as null instead of their default. */
  nulls: boolean;
}

/** The value a null pointer of this type reads as. */
function nullValue(type: TypePlan, defJson: unknown, form: DecodeMode): unknown {
  if (form.nulls) return null;
  if (defJson !== undefined) {
    if (defJson instanceof Uint8Array) return Uint8Array.from(defJson);
    return typeof defJson === "object" && defJson !== null ? structuredClone(defJson) : defJson;
  }
  switch (type.code) {
    case TEXT:
      return "";
    case DATA:
      return form.bytes ? new Uint8Array(0) : "";
    case LIST:
      return [];
    case STRUCT:
      return readStruct(R_SEG, 0, 0, 0, type.struct!, form, 0);
  }
  return null;
}

function readPointer(
  seg: Segment,
  addr: number,
  type: TypePlan,
  defJson: unknown,
  form: DecodeMode,
  depth: number,
): unknown {
  if (!resolvePointer(seg, addr)) return nullValue(type, defJson, form);
  if (depth > 64) malformed("nesting deeper than 64 levels");
  const lo = R_LO;
  const hi = R_HI;
  const target = R_SEG;
  const content = R_CONTENT;
  const kind = lo & 3;
  switch (type.code) {
    case TEXT:
    case DATA: {
      if (kind !== 1 || (hi & 7) !== SIZE_BYTE) malformed(`${type.label} is not a byte list`);
      const count = hi >>> 3;
      checkBounds(target, content, count);
      budget -= (count + 7) >> 3;
      if (budget < 0) malformed("it reads more data than it holds");
      if (type.code === TEXT) return decodeText(target, content, count);
      const view = new Uint8Array(target.buffer, content, count);
      return form.bytes ? Uint8Array.from(view) : Buffer.from(view).toString("base64");
    }
    case STRUCT: {
      if (kind !== 0) malformed(`${type.label} is not a struct pointer`);
      const dataWords = hi & 0xffff;
      const ptrs = hi >>> 16;
      budget -= dataWords + ptrs;
      if (budget < 0) malformed("it reads more data than it holds");
      checkBounds(target, content, (dataWords + ptrs) * 8);
      return readStruct(target, content, dataWords * 8, ptrs, type.struct!, form, depth + 1);
    }
    case LIST:
      if (kind !== 1) malformed(`${type.label} is not a list pointer`);
      return readList(target, content, hi, type.element!, form, depth + 1);
  }
  return null;
}

function readList(
  seg: Segment,
  content: number,
  hi: number,
  element: TypePlan,
  form: DecodeMode,
  depth: number,
): unknown[] {
  const size = hi & 7;
  const count = hi >>> 3;
  const path = `List(${element.label})`;
  if (element.listSize === SIZE_COMPOSITE) {
    if (size !== SIZE_COMPOSITE) malformed(`${path} is not a list of structs`);
    checkBounds(seg, content, 8 + count * 8);
    const tagLo = seg.getUint32(content);
    const n = (tagLo | 0) >> 2;
    const dataWords = seg.getUint16(content + 4);
    const ptrs = seg.getUint16(content + 6);
    const words = dataWords + ptrs;
    if (n < 0 || n * words > count) malformed(`${path} has a bad tag`);
    budget -= count + (words === 0 ? n : 0);
    if (budget < 0) malformed("it reads more data than it holds");
    const out = new Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = readStruct(
        seg,
        content + 8 + i * words * 8,
        dataWords * 8,
        ptrs,
        element.struct!,
        form,
        depth,
      );
    }
    return out;
  }
  if (size !== element.listSize) malformed(`${path} has element size code ${size}`);
  if (size !== SIZE_VOID) {
    checkBounds(seg, content, size === SIZE_BIT ? (count + 7) >> 3 : count * element.listBytes);
  }
  budget -= element.listSize === SIZE_VOID ? count : ((count * element.listBytes) >> 3) + 1;
  if (budget < 0) malformed("it reads more data than it holds");
  const out = new Array(count);
  switch (size) {
    case SIZE_VOID:
      out.fill(null);
      return out;
    case SIZE_BIT:
      for (let i = 0; i < count; i++) {
        out[i] = (seg.getUint8(content + (i >> 3)) & (1 << (i & 7))) !== 0;
      }
      return out;
    case SIZE_POINTER:
      for (let i = 0; i < count; i++) {
        out[i] = readPointer(seg, content + i * 8, element, undefined, form, depth);
      }
      return out;
    default: {
      const bytes = element.listBytes;
      for (let i = 0; i < count; i++) {
        out[i] = readData(seg, content + i * bytes, true, element, 0, 0, 0);
      }
      return out;
    }
  }
}

function readStruct(
  seg: Segment,
  dataAddr: number,
  dataBytes: number,
  ptrs: number,
  plan: StructPlan,
  form: DecodeMode,
  depth: number,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const ptrAddr = dataAddr + dataBytes;
  const fields = plan.fields;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    if (f.ptrIndex < 0) {
      const size = f.type.code === BOOL ? 1 : f.type.listBytes;
      out[f.name] = readData(
        seg,
        dataAddr + f.byteOffset,
        f.byteOffset + size <= dataBytes,
        f.type,
        f.bitMask,
        f.defLo,
        f.defHi,
      );
    } else if (f.ptrIndex < ptrs) {
      out[f.name] = readPointer(seg, ptrAddr + f.ptrIndex * 8, f.type, f.defJson, form, depth);
    } else {
      R_SEG = seg;
      out[f.name] = nullValue(f.type, f.defJson, form);
    }
  }
  return out;
}

/**
 * Checks the stream frame before capnp-es reads it: a garbage header would otherwise make it
 * allocate a segment table as long as the header claims.
 */
function checkFrame(bytes: Uint8Array): void {
  if (bytes.length < 8) malformed(`${bytes.length} bytes is too short for a message`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(0, true) + 1;
  if (count > 512) malformed(`its frame claims ${count} segments`);
  const header = (4 + count * 4 + 7) & ~7;
  if (header > bytes.length) malformed("its frame header is cut off");
  let body = 0;
  for (let i = 0; i < count; i++) body += view.getUint32(4 + i * 4, true) * 8;
  if (header + body > bytes.length) {
    malformed(`its frame claims ${header + body} bytes but ${bytes.length} were given`);
  }
  if (view.getUint32(4, true) === 0) malformed("its first segment is empty");
}

/**
 * The packed encoding of a framed message, byte for byte as capnp packs: a tag byte per word
 * naming its non-zero bytes; after an all-zero word the count of zero words that follow, after
 * an all-non-zero word the count of following words with at most one zero byte, copied as is.
 */
function pack(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length + Math.ceil(bytes.length / 8) * 2 + 8);
  let o = 0;
  let i = 0;
  const end = bytes.length;
  while (i < end) {
    const tagAt = o++;
    let tag = 0;
    for (let bit = 0; bit < 8; bit++) {
      const b = bytes[i + bit];
      if (b !== 0) {
        tag |= 1 << bit;
        out[o++] = b;
      }
    }
    out[tagAt] = tag;
    i += 8;
    if (tag === 0) {
      let run = 0;
      while (run < 255 && i < end && isZeroWord(bytes, i)) {
        run++;
        i += 8;
      }
      out[o++] = run;
    } else if (tag === 0xff) {
      const start = i;
      let run = 0;
      while (run < 255 && i < end && zeroBytes(bytes, i) < 2) {
        run++;
        i += 8;
      }
      out[o++] = run;
      out.set(bytes.subarray(start, i), o);
      o += i - start;
    }
  }
  return out.slice(0, o);
}

function isZeroWord(bytes: Uint8Array, at: number): boolean {
  for (let k = 0; k < 8; k++) if (bytes[at + k] !== 0) return false;
  return true;
}

function zeroBytes(bytes: Uint8Array, at: number): number {
  let n = 0;
  for (let k = 0; k < 8; k++) if (bytes[at + k] === 0) n++;
  return n;
}

/** Expands the packed encoding (capnp's zero-byte compression) of a message. */
function unpack(packed: Uint8Array): Uint8Array {
  let out = new Uint8Array(Math.max(64, packed.length * 2));
  let o = 0;
  const ensure = (n: number): void => {
    if (o + n <= out.length) return;
    const bigger = new Uint8Array(Math.max(out.length * 2, o + n));
    bigger.set(out.subarray(0, o));
    out = bigger;
  };
  let i = 0;
  while (i < packed.length) {
    const tag = packed[i++];
    ensure(8);
    for (let bit = 0; bit < 8; bit++) {
      if (tag & (1 << bit)) {
        if (i >= packed.length) malformed("packed data ends inside a word");
        out[o] = packed[i++];
      } else out[o] = 0;
      o++;
    }
    if (tag === 0x00 || tag === 0xff) {
      if (i >= packed.length) malformed("packed data ends before a run length");
      const n = packed[i++] * 8;
      ensure(n);
      if (tag === 0x00) {
        out.fill(0, o, o + n);
      } else {
        if (i + n > packed.length) malformed("packed data ends inside a literal run");
        out.set(packed.subarray(i, i + n), o);
        i += n;
      }
      o += n;
    }
  }
  return out.subarray(0, o);
}

/** Traversal limit per message, in words (as capnp's default of 64 MiB). */
const TRAVERSAL_WORDS = 8 * 1024 * 1024;

/**
 * Compiles the encoder and decoder of the root struct (`options.struct`, default `Schema`)
 * of `file`. The work of planning is done here, once.
 */
export function compileCodec(file: SchemaFile, options: CompileCodecOptions = {}): StructCodec {
  const rootName = options.struct ?? "Schema";
  const model = findStruct(file, rootName);
  if (!model) {
    const names = [...indexSchema(file).structs.keys()].join(", ");
    throw new InputError(`no struct ${rootName} in the schema (it has: ${names || "none"})`, {
      location: file.file ? { file: file.file } : undefined,
    });
  }
  const form: DecodeMode = { bytes: options.data === "bytes", nulls: options.nulls ?? false };
  const planner = new Planner(file, options.data ?? "base64");
  const plan = planner.structPlan(model);
  planner.finalize();
  return {
    name: plan.name,
    layout: plan.layout,
    encode(value, callOptions = {}) {
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new InputError(`expected an object for struct ${plan.name}`);
      }
      const message = new Message();
      const root = message.initRoot(plan.ctor as unknown as StructCtor<Struct>);
      const content = utils.getContent(root);
      if (plan.dataWords + plan.pointerCount === 0) {
        // A zero-sized root still needs a non-null pointer: offset -1, as capnp writes it.
        content.segment.setUint32(0, 0xfffffffc);
      }
      strict = callOptions.strict ?? false;
      spilled = false;
      try {
        writeStruct(content.segment, content.byteOffset, plan, value, "");
      } finally {
        strict = false;
      }
      const seg = content.segment;
      if (seg.id !== 0 || spilled) {
        return new Uint8Array(
          callOptions.packed ? message.toPackedArrayBuffer() : message.toArrayBuffer(),
        );
      }
      // One segment (the usual case): frame it here, one allocation instead of three.
      const out = new Uint8Array(8 + seg.byteLength);
      const view = new DataView(out.buffer);
      view.setUint32(4, seg.byteLength / 8, true);
      out.set(new Uint8Array(seg.buffer, 0, seg.byteLength), 8);
      return callOptions.packed ? pack(out) : out;
    },
    decode(bytes, callOptions = {}) {
      let message: Message;
      try {
        const unpacked = callOptions.packed ? unpack(bytes) : bytes;
        checkFrame(unpacked);
        const frame = new DataView(unpacked.buffer, unpacked.byteOffset, 8);
        if (frame.getUint32(0, true) === 0) {
          // One segment: hand capnp-es that segment alone (one copy, no segment table).
          const end = 8 + frame.getUint32(4, true) * 8;
          message = new Message(unpacked.slice(8, end).buffer, false, true);
        } else {
          message = new Message(unpacked, false);
        }
      } catch (error) {
        if (error instanceof InputError) throw error;
        throw new InputError(
          `malformed Cap'n Proto message${callOptions.packed ? " (packed)" : ""}: ${
            (error as Error).message
          }`,
        );
      }
      budget = TRAVERSAL_WORDS;
      try {
        const seg = message.getSegment(0);
        R_SEG = seg;
        // An empty message (null root) reads as a struct of defaults.
        if (!resolvePointer(seg, 0)) return readStruct(seg, 0, 0, 0, plan, form, 0);
        if ((R_LO & 3) !== 0) malformed("the root is not a struct");
        const dataWords = R_HI & 0xffff;
        const ptrs = R_HI >>> 16;
        return readStruct(R_SEG, R_CONTENT, dataWords * 8, ptrs, plan, form, 0);
      } catch (error) {
        if (error instanceof InputError) throw error;
        if (error instanceof RangeError) malformed("a pointer leads outside its segment");
        throw error;
      }
    },
  };
}
