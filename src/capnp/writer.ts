/**
 * The codec's writer (docs/capnp.md, "Codec"): a JS value in JSON form into a message of a
 * planned struct, in one segment, pointer targets depth-first in ordinal order as capnp's own
 * writer lays them out. The segment is a scratch buffer the writer keeps and reuses from message
 * to message (growing by doubling), so a message costs one allocation: its output, at its exact
 * size. One segment means no far pointers are ever written.
 *
 * @module
 */
import { Buffer } from "node:buffer";
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

/** Options of {@link encodeMessage} and {@link MessageWriter.encode}. */
export interface EncodeMessageOptions {
  /** The packed encoding (default: unpacked). */
  packed?: boolean;
  /** Refuse keys that are not fields of their struct (default: ignore them). */
  strict?: boolean;
}

/** Bytes of the stream frame before the segment: segment count − 1, then its size in words. */
const FRAME = 8;

/**
 * A message (stream framing) holding `value` as its root struct of plan `plan`. A value that
 * does not fit its field's type is an `InputError` naming the path and the type. Each call makes
 * a writer of its own; a caller that encodes many messages keeps one {@link MessageWriter}.
 */
export function encodeMessage(
  plan: StructPlan,
  value: Record<string, unknown>,
  options: EncodeMessageOptions = {},
): Uint8Array {
  return new MessageWriter().encode(plan, value, options);
}

/** Scratch bytes a writer starts with: ays' records and typical service data fit. */
const INITIAL_SCRATCH = 1024;
/** A scratch grown beyond this by one large message is not kept for the next ones. */
const KEPT_SCRATCH = 1 << 20;
/** The largest segment the frame can describe (its size in words is a UInt32). */
const MAX_SEGMENT_BYTES = 0xffffffff - 7;

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
 * Encodes messages into a scratch segment it keeps, then copies each out at its exact size.
 * The fields past the scratch are results the hot path hands from callee to caller without a
 * result object per pointer or per 64-bit value. A writer is not shared between threads; a call
 * made while another is under way (a getter of the value encoding with the same writer) gets a
 * writer of its own.
 */
export class MessageWriter {
  /**
   * The scratch message: the frame ({@link FRAME} bytes), then the segment; zero past `end`
   * (and wholly zero between calls). Offsets are into the scratch, so the segment's start at
   * {@link FRAME} is the message's: a message is copied out in one `slice`.
   */
  private buffer: ArrayBuffer;
  private view: DataView;
  private bytes: Uint8Array;
  /** The scratch's size (the ArrayBuffer's `byteLength` getter cost 2 % of an encode). */
  private capacity = 0;
  /** Bytes of the scratch in use (frame and segment; a multiple of 8). */
  private end = FRAME;
  /** Set while `encode` runs. */
  private busy = false;
  private strict = false;
  /** The two halves of the 64-bit value last split by `int64Halves`. */
  private halfLo = 0;
  private halfHi = 0;
  /** Bits of floats with a non-zero default, made when first needed. */
  private floatBits: DataView | undefined = undefined;
  /**
   * Where the writer is in the value: the field names and list indexes above the value being
   * written. Error messages name the path from it; building that text for every field instead
   * was a fifth of the encoding's time.
   */
  private trail: (string | number)[] = [];

  constructor() {
    this.buffer = new ArrayBuffer(INITIAL_SCRATCH);
    this.view = new DataView(this.buffer);
    this.bytes = new Uint8Array(this.buffer);
    this.capacity = INITIAL_SCRATCH;
  }

  /** A message (stream framing, one segment) holding `value` as its root struct of `plan`. */
  encode(
    plan: StructPlan,
    value: Record<string, unknown>,
    options: EncodeMessageOptions = {},
  ): Uint8Array {
    const { packed = false, strict = false } = options;
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new InputError(`expected an object for struct ${plan.name}`);
    }
    if (this.busy) return new MessageWriter().encode(plan, value, options);
    this.busy = true;
    this.strict = strict;
    try {
      // The root pointer, then the root struct, as capnp-es' and capnp's writers place them.
      const words = plan.dataWords + plan.pointerCount;
      const pointer = this.allocate(8);
      const root = this.allocate(words * 8);
      if (words === 0) {
        // A zero-sized root still needs a non-null pointer: offset -1, as capnp writes it.
        this.view.setUint32(pointer, 0xfffffffc, true);
      } else {
        this.view.setUint32(pointer + 4, (plan.dataWords | (plan.pointerCount << 16)) >>> 0, true);
      }
      this.writeStruct(root, plan, value);
      // The frame: one segment (count − 1 = 0, already zero), its size in words.
      this.view.setUint32(4, (this.end - FRAME) / 8, true);
      // One copy of the scratch, no view of the output (`.buffer` of a new small Uint8Array
      // moves its bytes to a buffer of their own: an eighth of an encode's time).
      const out = this.bytes.slice(0, this.end);
      return packed ? pack(out) : out;
    } finally {
      this.reset();
      this.busy = false;
    }
  }

  /** The path of `last` below the fields and items of {@link MessageWriter.trail}. */
  private where(last: string | number): string {
    let path = "";
    for (const part of [...this.trail, last]) {
      path = typeof part === "number" ? `${path}[${part}]` : path ? `${path}.${part}` : part;
    }
    return path;
  }

  /** `v` when it is an integer within `min…max`; else the error naming where it is. */
  private int(name: string | number, type: TypePlan, v: unknown, min: number, max: number): number {
    if (typeof v === "number" && Number.isInteger(v) && v >= min && v <= max) return v;
    return intValue(this.where(name), type, v, min, max);
  }

  /** Zeroes what the last message wrote, or drops a scratch one large message grew. */
  private reset(): void {
    this.trail.length = 0;
    if (this.capacity > KEPT_SCRATCH) {
      this.buffer = new ArrayBuffer(INITIAL_SCRATCH);
      this.view = new DataView(this.buffer);
      this.bytes = new Uint8Array(this.buffer);
      this.capacity = INITIAL_SCRATCH;
    } else {
      this.bytes.fill(0, 0, this.end);
    }
    this.end = FRAME;
  }

  /** Allocates `bytes` (rounded up to whole words) at the end of the segment; its offset. */
  private allocate(bytes: number): number {
    const offset = this.end;
    const end = offset + ((bytes + 7) & ~7);
    if (end > this.capacity) this.grow(end);
    this.end = end;
    return offset;
  }

  private grow(needed: number): void {
    if (needed - FRAME > MAX_SEGMENT_BYTES) {
      throw new InputError(`the message would exceed ${MAX_SEGMENT_BYTES} bytes`);
    }
    let size = this.capacity * 2;
    while (size < needed) size *= 2;
    const buffer = new ArrayBuffer(Math.min(size, MAX_SEGMENT_BYTES + FRAME));
    const bytes = new Uint8Array(buffer);
    bytes.set(this.bytes.subarray(0, this.end));
    this.buffer = buffer;
    this.view = new DataView(buffer);
    this.bytes = bytes;
    this.capacity = buffer.byteLength;
  }

  writeStruct(dataAddr: number, plan: StructPlan, value: Record<string, unknown>): void {
    const ptrAddr = dataAddr + plan.dataBytes;
    const fields = plan.writeOrder;
    if (this.strict) {
      for (const key of Object.keys(value)) {
        if (!plan.fieldNames.has(key)) {
          throw new InputError(
            `${this.where(key)}: struct ${plan.name} has no such field (fields: ${
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
        this.writeData(dataAddr + f.byteOffset, f.type, v, f.bitMask, f.defLo, f.defHi, f.name);
      } else {
        this.writePointer(ptrAddr + f.ptrIndex * 8, f.type, v, f.name);
      }
    }
  }

  /**
   * Writes a data-section value at `addr`, XOR-ed with the default bits; `name` is its field's
   * name or its index in a list (for errors).
   */
  private writeData(
    addr: number,
    type: TypePlan,
    v: unknown,
    bitMask: number,
    defLo: number,
    defHi: number,
    name: string | number,
  ): void {
    switch (type.code) {
      case VOID:
        return;
      case BOOL: {
        if (typeof v !== "boolean") typeError(this.where(name), type, v);
        if ((v as boolean) !== (defLo !== 0)) {
          this.view.setUint8(addr, this.bytes[addr] | bitMask);
        }
        return;
      }
      case INT8:
        this.view.setUint8(addr, (this.int(name, type, v, -128, 127) & 0xff) ^ defLo);
        return;
      case UINT8:
        this.view.setUint8(addr, this.int(name, type, v, 0, 255) ^ defLo);
        return;
      case INT16:
        this.view.setUint16(addr, (this.int(name, type, v, -32768, 32767) & 0xffff) ^ defLo, true);
        return;
      case UINT16:
        this.view.setUint16(addr, this.int(name, type, v, 0, 65535) ^ defLo, true);
        return;
      case ENUM: {
        let ordinal: number | undefined;
        if (typeof v === "string") ordinal = type.enumPlan!.byName.get(v);
        else if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v < 65536) ordinal = v;
        if (ordinal === undefined) {
          throw new InputError(
            `${this.where(name)}: expected one of ${
              [...type.enumPlan!.byName.keys()].join(", ")
            } (${type.label}), ` +
              `got ${JSON.stringify(v)}`,
          );
        }
        this.view.setUint16(addr, ordinal ^ defLo, true);
        return;
      }
      case INT32:
        this.view.setUint32(
          addr,
          (this.int(name, type, v, -2147483648, 2147483647) ^ defLo) >>> 0,
          true,
        );
        return;
      case UINT32:
        this.view.setUint32(addr, (this.int(name, type, v, 0, 4294967295) ^ defLo) >>> 0, true);
        return;
      case INT64:
      case UINT64:
        this.int64Halves(name, type, v, type.code === INT64);
        this.view.setUint32(addr, (this.halfLo ^ defLo) >>> 0, true);
        this.view.setUint32(addr + 4, (this.halfHi ^ defHi) >>> 0, true);
        return;
      case FLOAT32: {
        const f = typeof v === "number" ? v : floatValue(this.where(name), type, v);
        if (defLo === 0) {
          this.view.setFloat32(addr, f, true);
        } else {
          const bits = this.floatBits ??= new DataView(new ArrayBuffer(8));
          bits.setFloat32(0, f, true);
          this.view.setUint32(addr, (bits.getUint32(0, true) ^ defLo) >>> 0, true);
        }
        return;
      }
      case FLOAT64: {
        const f = typeof v === "number" ? v : floatValue(this.where(name), type, v);
        if (defLo === 0 && defHi === 0) {
          this.view.setFloat64(addr, f, true);
        } else {
          const bits = this.floatBits ??= new DataView(new ArrayBuffer(8));
          bits.setFloat64(0, f, true);
          this.view.setUint32(addr, (bits.getUint32(0, true) ^ defLo) >>> 0, true);
          this.view.setUint32(addr + 4, (bits.getUint32(4, true) ^ defHi) >>> 0, true);
        }
        return;
      }
    }
  }

  /** Splits a 64-bit JSON value into `halfLo` and `halfHi`, checking its range. */
  private int64Halves(name: string | number, type: TypePlan, v: unknown, signed: boolean): void {
    if (typeof v === "number" && v >= 0 && v < TWO32 && Number.isInteger(v)) {
      // The common case (counts, periods, zero), without the division.
      this.halfLo = v;
      this.halfHi = 0;
      return;
    }
    if (typeof v === "number") {
      const path = this.where(name);
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
    else return typeError(this.where(name), type, v);
    const ok = signed ? n >= -(1n << 63n) && n < 1n << 63n : n >= 0n && n < 1n << 64n;
    if (!ok) throw new InputError(`${this.where(name)}: ${n} is out of range for ${type.label}`);
    const u = BigInt.asUintN(64, n);
    this.halfLo = Number(u & 0xffffffffn);
    this.halfHi = Number(u >> 32n);
  }

  /**
   * Allocates `bytes` for the target of the pointer at `addr` and writes the pointer with the
   * given type bits (0 struct, 1 list) and upper word; the target's offset.
   */
  private allocateTarget(addr: number, bytes: number, typeBits: number, upper: number): number {
    const offset = this.allocate(bytes);
    const offsetWords = (offset - addr - 8) / 8;
    this.view.setUint32(addr, ((offsetWords << 2) | typeBits) >>> 0, true);
    this.view.setUint32(addr + 4, upper >>> 0, true);
    return offset;
  }

  private writeText(addr: number, s: string): void {
    const length = s.length;
    if (length < 64) {
      // Copied as ASCII, which ays' texts nearly always are, in the same pass that finds out
      // (a separate count of the UTF-8 bytes was a tenth of an encode); else taken back.
      const offset = this.allocateTarget(addr, length + 1, 1, SIZE_BYTE | ((length + 1) << 3));
      const bytes = this.bytes;
      let i = 0;
      for (; i < length; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        bytes[offset + i] = c;
      }
      if (i === length) return;
      // The last allocation, handed back; written again at its UTF-8 length from the same
      // offset, over the same bytes (a UTF-8 text's ASCII prefix is those characters).
      this.end = offset;
    } else {
      // The same guess natively: all ASCII when the encoder wrote one byte per character.
      const offset = this.allocateTarget(addr, length + 1, 1, SIZE_BYTE | ((length + 1) << 3));
      const done = textEncoder.encodeInto(s, this.bytes.subarray(offset, offset + length));
      if (done.read === length && done.written === length) return;
      // Handed back as above: what it wrote is a prefix of the text's UTF-8 bytes.
      this.end = offset;
    }
    const n = utf8Length(s);
    const offset = this.allocateTarget(addr, n + 1, 1, SIZE_BYTE | ((n + 1) << 3));
    textEncoder.encodeInto(s, this.bytes.subarray(offset, offset + n));
  }

  private writeBytes(addr: number, bytes: Uint8Array): void {
    const n = bytes.length;
    const offset = this.allocateTarget(addr, n, 1, SIZE_BYTE | (n << 3));
    this.bytes.set(bytes, offset);
  }

  /**
   * Writes the pointer at `addr` to a new copy of `v` of pointer type `type`; `name` is its
   * field's name or its index in a list.
   */
  private writePointer(addr: number, type: TypePlan, v: unknown, name: string | number): void {
    switch (type.code) {
      case TEXT:
        if (typeof v !== "string") typeError(this.where(name), type, v);
        this.writeText(addr, v as string);
        return;
      case DATA:
        this.writeBytes(addr, v instanceof Uint8Array ? v : toBytes(this.where(name), type, v));
        return;
      case STRUCT: {
        if (typeof v !== "object" || v === null || Array.isArray(v)) {
          typeError(this.where(name), type, v);
        }
        const plan = type.struct!;
        const words = plan.dataWords + plan.pointerCount;
        if (words === 0) {
          // A zero-sized struct still needs a non-null pointer: offset -1 points at itself.
          this.view.setUint32(addr, 0xfffffffc, true);
          this.view.setUint32(addr + 4, 0, true);
          return;
        }
        const offset = this.allocateTarget(
          addr,
          words * 8,
          0,
          plan.dataWords | (plan.pointerCount << 16),
        );
        // Not popped when it throws: `reset` empties the trail.
        this.trail.push(name);
        this.writeStruct(offset, plan, v as Record<string, unknown>);
        this.trail.pop();
        return;
      }
      case LIST:
        if (!Array.isArray(v)) typeError(this.where(name), type, v);
        this.trail.push(name);
        this.writeList(addr, type.element!, v as unknown[]);
        this.trail.pop();
        return;
    }
  }

  /** Writes the list `items` (the trail names the list) and the pointer at `addr` to it. */
  private writeList(addr: number, element: TypePlan, items: unknown[]): void {
    const n = items.length;
    switch (element.listSize) {
      case SIZE_VOID:
        // No content, but pointing at the end of what is written, as capnp's writer does.
        this.allocateTarget(addr, 0, 1, SIZE_VOID | (n << 3));
        return;
      case SIZE_BIT: {
        const offset = this.allocateTarget(addr, (n + 7) >> 3, 1, SIZE_BIT | (n << 3));
        for (let i = 0; i < n; i++) {
          const v = items[i];
          if (typeof v !== "boolean") typeError(this.where(i), element, v);
          if (v) {
            this.view.setUint8(offset + (i >> 3), this.bytes[offset + (i >> 3)] | (1 << (i & 7)));
          }
        }
        return;
      }
      case SIZE_POINTER: {
        const offset = this.allocateTarget(addr, n * 8, 1, SIZE_POINTER | (n << 3));
        for (let i = 0; i < n; i++) {
          const v = items[i];
          if (v === null || v === undefined) continue;
          this.writePointer(offset + i * 8, element, v, i);
        }
        return;
      }
      case SIZE_COMPOSITE: {
        const plan = element.struct!;
        const words = plan.dataWords + plan.pointerCount;
        const offset = this.allocateTarget(
          addr,
          8 + n * words * 8,
          1,
          SIZE_COMPOSITE | ((n * words) << 3),
        );
        // The tag word: a struct pointer whose offset field counts the elements.
        this.view.setUint32(offset, (n << 2) >>> 0, true);
        this.view.setUint32(offset + 4, (plan.dataWords | (plan.pointerCount << 16)) >>> 0, true);
        for (let i = 0; i < n; i++) {
          const v = items[i];
          if (typeof v !== "object" || v === null || Array.isArray(v)) {
            typeError(this.where(i), element, v);
          }
          this.trail.push(i);
          this.writeStruct(offset + 8 + i * words * 8, plan, v as Record<string, unknown>);
          this.trail.pop();
        }
        return;
      }
      default: {
        const size = element.listBytes;
        const offset = this.allocateTarget(addr, n * size, 1, element.listSize | (n << 3));
        for (let i = 0; i < n; i++) {
          this.writeData(offset + i * size, element, items[i], 0, 0, 0, i);
        }
      }
    }
  }
}
