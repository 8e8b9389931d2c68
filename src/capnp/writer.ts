/**
 * The codec's writer (docs/capnp.md, "Codec"): a JS value in JSON form into a message of a
 * planned struct, one segment as a rule, pointer targets depth-first in ordinal order as capnp's
 * own writer lays them out. capnp-es supplies the message, its segments and far pointers.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { Message, Pointer, type Struct, type StructCtor, utils } from "capnp-es";
import { InputError } from "../errors.ts";
import { pack } from "./packing.ts";
import {
  BOOL,
  DATA,
  ENUM,
  FLOAT32,
  FLOAT64,
  INT16,
  INT32,
  INT64,
  INT8,
  LIST,
  SIZE_BIT,
  SIZE_BYTE,
  SIZE_COMPOSITE,
  SIZE_POINTER,
  SIZE_VOID,
  STRUCT,
  type StructPlan,
  TEXT,
  type TypePlan,
  UINT16,
  UINT32,
  UINT64,
  UINT8,
  VOID,
} from "./type_plan.ts";

/** Options of {@link encodeMessage}. */
export interface EncodeMessageOptions {
  /** The packed encoding (default: unpacked). */
  packed?: boolean;
  /** Refuse keys that are not fields of their struct (default: ignore them). */
  strict?: boolean;
}

/**
 * A message (stream framing) holding `value` as its root struct of plan `plan`. A value that
 * does not fit its field's type is an `InputError` naming the path and the type.
 */
export function encodeMessage(
  plan: StructPlan,
  value: Record<string, unknown>,
  options: EncodeMessageOptions = {},
): Uint8Array {
  const { packed = false, strict = false } = options;
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
  const writer = new MessageWriter(strict);
  writer.writeStruct(content.segment, content.byteOffset, plan, value, "");
  const seg = content.segment;
  if (seg.id !== 0 || writer.spilled) {
    return new Uint8Array(packed ? message.toPackedArrayBuffer() : message.toArrayBuffer());
  }
  // One segment (the usual case): frame it here, one allocation instead of three.
  const out = new Uint8Array(8 + seg.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(4, seg.byteLength / 8, true);
  out.set(new Uint8Array(seg.buffer, 0, seg.byteLength), 8);
  return packed ? pack(out) : out;
}

type Segment = Pointer["segment"];

const TWO32 = 4294967296;
const textEncoder = new TextEncoder();

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

function floatValue(path: string, type: TypePlan, v: unknown): number {
  if (typeof v === "number") return v;
  if (v === "nan" || v === "NaN") return NaN;
  if (v === "inf" || v === "Infinity") return Infinity;
  if (v === "-inf" || v === "-Infinity") return -Infinity;
  return typeError(path, type, v);
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

/**
 * The state of one encode. Its fields are results the hot path hands from callee to caller
 * without a result object per pointer or per 64-bit value.
 */
class MessageWriter {
  /** Set when content went outside the first segment (then capnp-es frames the message). */
  spilled = false;
  /** The two halves of the 64-bit value last split by `int64Halves`. */
  private halfLo = 0;
  private halfHi = 0;
  /** The segment and byte offset of the target last allocated by `allocateTarget`. */
  private targetSeg: Segment | undefined = undefined;
  private targetOffset = 0;
  /** A byte view of the buffer texts were last written to; a segment's buffer changes as it grows. */
  private textBuffer: ArrayBuffer | undefined = undefined;
  private textBytes: Uint8Array | undefined = undefined;
  /** Bits of floats with a non-zero default, made when first needed. */
  private floatBits: DataView | undefined = undefined;

  constructor(private readonly strict: boolean) {}

  writeStruct(
    seg: Segment,
    dataAddr: number,
    plan: StructPlan,
    value: Record<string, unknown>,
    path: string,
  ): void {
    const ptrAddr = dataAddr + plan.dataBytes;
    const fields = plan.writeOrder;
    if (this.strict) {
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
      if (f.inherited && !Object.hasOwn(value, f.name)) continue;
      if (f.ptrIndex < 0) {
        this.writeData(
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
        this.writePointer(
          seg,
          ptrAddr + f.ptrIndex * 8,
          f.type,
          v,
          path ? `${path}.${f.name}` : f.name,
        );
      }
    }
  }

  /** Writes a data-section value at `addr`, XOR-ed with the default bits. */
  private writeData(
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
        this.int64Halves(path, type, v, type.code === INT64);
        seg.setUint32(addr, (this.halfLo ^ defLo) >>> 0);
        seg.setUint32(addr + 4, (this.halfHi ^ defHi) >>> 0);
        return;
      case FLOAT32: {
        const f = floatValue(path, type, v);
        if (defLo === 0) {
          seg.setFloat32(addr, f);
        } else {
          const bits = this.floatBits ??= new DataView(new ArrayBuffer(8));
          bits.setFloat32(0, f, true);
          seg.setUint32(addr, (bits.getUint32(0, true) ^ defLo) >>> 0);
        }
        return;
      }
      case FLOAT64: {
        const f = floatValue(path, type, v);
        if (defLo === 0 && defHi === 0) {
          seg.setFloat64(addr, f);
        } else {
          const bits = this.floatBits ??= new DataView(new ArrayBuffer(8));
          bits.setFloat64(0, f, true);
          seg.setUint32(addr, (bits.getUint32(0, true) ^ defLo) >>> 0);
          seg.setUint32(addr + 4, (bits.getUint32(4, true) ^ defHi) >>> 0);
        }
        return;
      }
    }
  }

  /** Splits a 64-bit JSON value into `halfLo` and `halfHi`, checking its range. */
  private int64Halves(path: string, type: TypePlan, v: unknown, signed: boolean): void {
    if (typeof v === "number") {
      if (!Number.isInteger(v)) {
        throw new InputError(`${path}: ${v} is not an integer (${type.label})`);
      }
      if (!signed && v < 0) {
        throw new InputError(`${path}: ${v} is out of range for ${type.label}`);
      }
      if (!Number.isSafeInteger(v)) {
        throw new InputError(
          `${path}: ${v} is beyond 2^53 and may have lost digits: give ${type.label} values ` +
            "that large as a string",
        );
      }
      const hi = Math.floor(v / TWO32);
      this.halfLo = v - hi * TWO32;
      this.halfHi = hi >>> 0;
      return;
    }
    let n: bigint;
    if (typeof v === "bigint") n = v;
    else if (typeof v === "string" && /^-?[0-9]+$/.test(v.trim())) n = BigInt(v.trim());
    else return typeError(path, type, v);
    const ok = signed ? n >= -(1n << 63n) && n < 1n << 63n : n >= 0n && n < 1n << 64n;
    if (!ok) throw new InputError(`${path}: ${n} is out of range for ${type.label}`);
    const u = BigInt.asUintN(64, n);
    this.halfLo = Number(u & 0xffffffffn);
    this.halfHi = Number(u >> 32n);
  }

  /**
   * Allocates `bytes` for the target of the pointer at `addr` and writes the pointer with the
   * given type bits (0 struct, 1 list) and upper word. The content's segment and offset are left
   * in `targetSeg` and `targetOffset`.
   */
  private allocateTarget(
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
      this.targetSeg = seg;
      this.targetOffset = content.byteOffset;
      return;
    }
    // The target landed in another segment: capnp-es writes the far pointer and landing pad.
    this.spilled = true;
    const res = utils.initPointer(content.segment, content.byteOffset, new Pointer(seg, addr));
    const p = res.pointer;
    p.segment.setUint32(p.byteOffset, ((res.offsetWords << 2) | typeBits) >>> 0);
    p.segment.setUint32(p.byteOffset + 4, upper >>> 0);
    this.targetSeg = content.segment;
    this.targetOffset = content.byteOffset;
  }

  private writeText(seg: Segment, addr: number, s: string): void {
    const n = utf8Length(s);
    this.allocateTarget(seg, addr, n + 1, 1, SIZE_BYTE | ((n + 1) << 3));
    const target = this.targetSeg!;
    const offset = this.targetOffset;
    if (n === s.length && n < 64) {
      let bytes = this.textBytes;
      if (this.textBuffer !== target.buffer || bytes === undefined) {
        this.textBuffer = target.buffer;
        bytes = this.textBytes = new Uint8Array(target.buffer);
      }
      for (let i = 0; i < n; i++) bytes[offset + i] = s.charCodeAt(i);
    } else {
      textEncoder.encodeInto(s, new Uint8Array(target.buffer, offset, n));
    }
  }

  private writeBytes(seg: Segment, addr: number, bytes: Uint8Array): void {
    const n = bytes.length;
    this.allocateTarget(seg, addr, n, 1, SIZE_BYTE | (n << 3));
    new Uint8Array(this.targetSeg!.buffer, this.targetOffset, n).set(bytes);
  }

  /** Writes the pointer at `addr` to a new copy of `v` of pointer type `type`. */
  private writePointer(
    seg: Segment,
    addr: number,
    type: TypePlan,
    v: unknown,
    path: string,
  ): void {
    switch (type.code) {
      case TEXT:
        if (typeof v !== "string") typeError(path, type, v);
        this.writeText(seg, addr, v as string);
        return;
      case DATA:
        this.writeBytes(seg, addr, toBytes(path, type, v));
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
        this.allocateTarget(seg, addr, words * 8, 0, plan.dataWords | (plan.pointerCount << 16));
        this.writeStruct(
          this.targetSeg!,
          this.targetOffset,
          plan,
          v as Record<string, unknown>,
          path,
        );
        return;
      }
      case LIST:
        if (!Array.isArray(v)) typeError(path, type, v);
        this.writeList(seg, addr, type.element!, v as unknown[], path);
        return;
    }
  }

  private writeList(
    seg: Segment,
    addr: number,
    element: TypePlan,
    items: unknown[],
    path: string,
  ): void {
    const n = items.length;
    switch (element.listSize) {
      case SIZE_VOID:
        // No content, but pointing at the end of what is written, as capnp's writer does.
        this.allocateTarget(seg, addr, 0, 1, SIZE_VOID | (n << 3));
        return;
      case SIZE_BIT: {
        this.allocateTarget(seg, addr, (n + 7) >> 3, 1, SIZE_BIT | (n << 3));
        const t = this.targetSeg!;
        const offset = this.targetOffset;
        for (let i = 0; i < n; i++) {
          const v = items[i];
          if (typeof v !== "boolean") typeError(`${path}[${i}]`, element, v);
          if (v) t.setUint8(offset + (i >> 3), t.getUint8(offset + (i >> 3)) | (1 << (i & 7)));
        }
        return;
      }
      case SIZE_POINTER: {
        this.allocateTarget(seg, addr, n * 8, 1, SIZE_POINTER | (n << 3));
        const t = this.targetSeg!;
        const offset = this.targetOffset;
        for (let i = 0; i < n; i++) {
          const v = items[i];
          if (v === null || v === undefined) continue;
          this.writePointer(t, offset + i * 8, element, v, `${path}[${i}]`);
        }
        return;
      }
      case SIZE_COMPOSITE: {
        const plan = element.struct!;
        const words = plan.dataWords + plan.pointerCount;
        this.allocateTarget(seg, addr, 8 + n * words * 8, 1, SIZE_COMPOSITE | ((n * words) << 3));
        const t = this.targetSeg!;
        const offset = this.targetOffset;
        // The tag word: a struct pointer whose offset field counts the elements.
        t.setUint32(offset, (n << 2) >>> 0);
        t.setUint32(offset + 4, (plan.dataWords | (plan.pointerCount << 16)) >>> 0);
        for (let i = 0; i < n; i++) {
          const v = items[i];
          const p = `${path}[${i}]`;
          if (typeof v !== "object" || v === null || Array.isArray(v)) typeError(p, element, v);
          this.writeStruct(t, offset + 8 + i * words * 8, plan, v as Record<string, unknown>, p);
        }
        return;
      }
      default: {
        const size = element.listBytes;
        this.allocateTarget(seg, addr, n * size, 1, element.listSize | (n << 3));
        const t = this.targetSeg!;
        const offset = this.targetOffset;
        for (let i = 0; i < n; i++) {
          this.writeData(t, offset + i * size, element, items[i], 0, 0, 0, `${path}[${i}]`);
        }
      }
    }
  }
}
