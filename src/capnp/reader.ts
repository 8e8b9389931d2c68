/**
 * The codec's reader (docs/capnp.md, "Codec"): a message into a plain object in JSON form of a
 * planned struct. It follows near and far pointers, reads an older (smaller) struct with defaults
 * for what it lacks, and refuses garbage: the frame, every pointer's bounds, the nesting depth and
 * a traversal budget are checked before anything is allocated.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { InputError } from "../errors.ts";
import { malformed } from "./malformed.ts";
import { unpack } from "./packing.ts";
import { frameSegments, type SegmentView } from "./segment_view.ts";
import {
  BOOL,
  DATA,
  ENUM,
  type FieldPlan,
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

/** How decoded values look. */
export interface DecodeForm {
  /** Data as Uint8Array instead of base64 (default false). */
  bytes?: boolean;
  /**
   * Short texts already read, by a hash of their bytes: the same names and states recur in
   * every record, and one string for them all saves building (and keeping) each again. Made
   * by the codec, kept across its decodes.
   */
  texts?: Map<number, string>;
  /** Null pointers as null instead of their default (default false). */
  nulls?: boolean;
}

/** Options of {@link decodeMessage}. */
export interface DecodeMessageOptions extends DecodeForm {
  /** The bytes are packed (default false). */
  packed?: boolean;
}

/** Traversal limit per message, in words (as capnp's default of 64 MiB). */
const TRAVERSAL_WORDS = 8 * 1024 * 1024;
/** Longest text kept in {@link DecodeForm.texts}. */
const SHARED_TEXT_BYTES = 16;
/** Most texts kept there (a bound for texts that never recur, such as instance names). */
const SHARED_TEXTS = 4096;
/** Deepest nesting of pointers read. */
const MAX_DEPTH = 64;

const TWO32 = 4294967296;
const textDecoder = new TextDecoder("utf-8", { fatal: false });

type Segment = SegmentView;

/**
 * The root of a framed message (stream framing) as a plain object in JSON form of plan `plan`.
 * An empty message (null root) reads as a struct of defaults; garbage is an `InputError`
 * ("malformed Cap'n Proto message: …").
 */
export function decodeMessage(
  bytes: Uint8Array,
  plan: StructPlan,
  options: DecodeMessageOptions = {},
): Record<string, unknown> {
  const { packed = false } = options;
  let segments: SegmentView[];
  try {
    segments = frameSegments(packed ? unpack(bytes) : bytes);
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(
      `malformed Cap'n Proto message${packed ? " (packed)" : ""}: ${(error as Error).message}`,
    );
  }
  const reader = new MessageReader(options, segments);
  try {
    return reader.readRoot(segments[0], plan);
  } catch (error) {
    if (error instanceof InputError) throw error;
    if (error instanceof RangeError) malformed("a pointer leads outside its segment");
    throw error;
  }
}

/**
 * Gives every pointer field with a schema default its default in JSON form (`defJson`), once
 * every plan of `structs` is complete: a struct default reads like the struct it encodes.
 */
export function settleDefaults(structs: StructPlan[], form: DecodeForm = {}): void {
  const reader = new MessageReader({ bytes: form.bytes ?? false, nulls: false }, []);
  for (const plan of structs) {
    for (const f of plan.fields) reader.settleDefault(f);
  }
}

/** Whether `text` is the `n` ASCII bytes at `start`. */
function sameText(text: string, bytes: Uint8Array, start: number, n: number): boolean {
  if (text.length !== n) return false;
  for (let i = 0; i < n; i++) if (text.charCodeAt(i) !== bytes[start + i]) return false;
  return true;
}

/** The ASCII bytes from `start` to `end` as one flat string. */
function asciiText(bytes: Uint8Array, start: number, end: number): string {
  return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
}

/** Refuses content that would reach past the end of its segment (checked before allocating). */
function checkBounds(seg: Segment, offset: number, bytes: number): void {
  if (offset < 0 || offset + bytes > seg.byteLength) {
    malformed("a pointer leads outside its segment");
  }
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

function readInt64Default(defLo: number, defHi: number, signed: boolean): unknown {
  const hi = signed ? defHi | 0 : defHi >>> 0;
  const v = hi * TWO32 + (defLo >>> 0);
  if (Number.isSafeInteger(v)) return v;
  return ((BigInt(hi) << 32n) | BigInt(defLo >>> 0)).toString();
}

/**
 * The state of one decode. `resolvePointer` leaves the pointer it resolved in `seg`, `lo`, `hi`
 * and `content` (no result object per pointer on the hot path).
 */
class MessageReader {
  /** The segment, the two words and the content offset of the pointer last resolved. */
  private seg: Segment | undefined = undefined;
  private lo = 0;
  private hi = 0;
  private content = 0;
  /** Reading budget in words, against messages that point at the same data many times. */
  private budget = TRAVERSAL_WORDS;
  /** Bits of floats with a non-zero default, made when first needed. */
  private floatBits: DataView | undefined = undefined;
  /** The fields whose default {@link settleDefault} is computing. */
  private settling: Set<FieldPlan> | undefined = undefined;
  private readonly bytes: boolean;
  private readonly nulls: boolean;
  private readonly texts: Map<number, string> | undefined;
  /** The message's segments, for far pointers. */
  private readonly segments: readonly SegmentView[];

  constructor(form: DecodeForm, segments: readonly SegmentView[]) {
    this.bytes = form.bytes ?? false;
    this.nulls = form.nulls ?? false;
    this.texts = form.texts;
    this.segments = segments;
  }

  readRoot(seg: Segment, plan: StructPlan): Record<string, unknown> {
    // An empty message (null root) reads as a struct of defaults.
    if (!this.resolvePointer(seg, 0)) return this.readStruct(seg, 0, 0, 0, plan, 0);
    if ((this.lo & 3) !== 0) malformed("the root is not a struct");
    const dataWords = this.hi & 0xffff;
    const ptrs = this.hi >>> 16;
    return this.readStruct(this.seg!, this.content, dataWords * 8, ptrs, plan, 0);
  }

  /**
   * Sets `f.defJson` from `f.defNative`. A default that contains the field's own default (a
   * recursive struct) reads null there: the field is not settled again while it is settled.
   */
  settleDefault(f: FieldPlan): void {
    const settling = this.settling ??= new Set();
    if (f.defNative === undefined || f.defJson !== undefined || settling.has(f)) return;
    settling.add(f);
    try {
      f.defJson = this.nativeToJson(f.type, f.defNative);
    } finally {
      settling.delete(f);
    }
  }

  /** A native default (bigint, Uint8Array, …) in JSON form. */
  private nativeToJson(type: TypePlan, value: unknown): unknown {
    switch (type.code) {
      case INT64:
      case UINT64: {
        const n = BigInt(value as bigint);
        const asNumber = Number(n);
        return Number.isSafeInteger(asNumber) ? asNumber : n.toString();
      }
      case DATA:
        return this.bytes
          ? Uint8Array.from(value as Uint8Array)
          : Buffer.from(value as Uint8Array).toString("base64");
      case LIST:
        return (value as unknown[]).map((v) => this.nativeToJson(type.element!, v));
      case STRUCT: {
        const plan = type.struct!;
        const given = value as Record<string, unknown>;
        // A struct default reads like the struct it encodes: every field, defaults filled in.
        for (const f of plan.fields) {
          if (!Object.hasOwn(given, f.name)) this.settleDefault(f);
        }
        const out = this.structOfDefaults(plan);
        for (const f of plan.fields) {
          if (Object.hasOwn(given, f.name)) out[f.name] = this.nativeToJson(f.type, given[f.name]);
        }
        return out;
      }
      default:
        return value;
    }
  }

  /** Resolves the pointer at `addr`; returns false for a null pointer. Follows far pointers. */
  private resolvePointer(seg: Segment, addr: number): boolean {
    const lo = seg.getUint32(addr);
    const hi = seg.getUint32(addr + 4);
    if (lo === 0 && hi === 0) return false;
    if ((lo & 3) !== 2) {
      this.seg = seg;
      this.lo = lo;
      this.hi = hi;
      this.content = addr + 8 + ((lo | 0) >> 2) * 8;
      return true;
    }
    // A far pointer: its landing pad, in the segment it names, is the pointer to follow.
    const pad = this.segmentOf(hi);
    const padAt = (lo >>> 3) * 8;
    if ((lo & 4) === 0) {
      // Single far: the pad is an ordinary pointer, its offset counted from the pad.
      checkBounds(pad, padAt, 8);
      const tagLo = pad.getUint32(padAt);
      const tagHi = pad.getUint32(padAt + 4);
      if ((tagLo & 3) === 2) malformed("a far pointer leads to another far pointer");
      this.seg = pad;
      this.lo = tagLo;
      this.hi = tagHi;
      this.content = padAt + 8 + ((tagLo | 0) >> 2) * 8;
      return true;
    }
    // Double far: the pad's first word is a far pointer to the content's start, the second
    // the tag (kind and size) of what is there.
    checkBounds(pad, padAt, 16);
    const farLo = pad.getUint32(padAt);
    const farHi = pad.getUint32(padAt + 4);
    const tagLo = pad.getUint32(padAt + 8);
    const tagHi = pad.getUint32(padAt + 12);
    if ((farLo & 7) !== 2) malformed("a double-far landing pad does not start with a far pointer");
    if ((tagLo & 3) === 2) malformed("a far pointer leads to another far pointer");
    this.seg = this.segmentOf(farHi);
    this.lo = tagLo;
    this.hi = tagHi;
    this.content = (farLo >>> 3) * 8;
    return true;
  }

  /** The segment a far pointer names. */
  private segmentOf(id: number): SegmentView {
    const seg = this.segments[id];
    if (seg === undefined) malformed(`a far pointer names segment ${id}, which it lacks`);
    return seg;
  }

  private decodeText(seg: Segment, offset: number, count: number): string {
    const n = count - 1;
    if (n <= 0) return "";
    const bytes = seg.bytes;
    const start = seg.base + offset;
    const end = start + n;
    if (n <= SHARED_TEXT_BYTES && this.texts) {
      let hash = n;
      for (let i = start; i < end; i++) {
        const c = bytes[i];
        if (c >= 0x80) return textDecoder.decode(bytes.subarray(start, end));
        hash = (Math.imul(hash, 31) + c) | 0;
      }
      const known = this.texts.get(hash);
      if (known !== undefined && sameText(known, bytes, start, n)) return known;
      const text = asciiText(bytes, start, end);
      if (known === undefined && this.texts.size < SHARED_TEXTS) this.texts.set(hash, text);
      return text;
    }
    if (n < 24) {
      // Short ASCII is the common case (names, addresses); skip TextDecoder's call overhead.
      let ascii = "";
      for (let i = start; i < end; i++) {
        const c = bytes[i];
        if (c >= 0x80) return textDecoder.decode(bytes.subarray(start, end));
        ascii += String.fromCharCode(c);
      }
      return ascii;
    }
    return textDecoder.decode(bytes.subarray(start, end));
  }

  /**
   * Reads a data-section value at `addr` of `seg` (`seg` undefined: beyond the struct's data,
   * the default).
   */
  private readData(
    seg: Segment | undefined,
    addr: number,
    type: TypePlan,
    bitMask: number,
    defLo: number,
    defHi: number,
  ): unknown {
    switch (type.code) {
      case VOID:
        return null;
      case BOOL:
        return ((seg ? seg.getUint8(addr) & bitMask : 0) !== 0) !== (defLo !== 0);
      case INT8:
        return (((seg ? seg.getUint8(addr) : 0) ^ defLo) << 24) >> 24;
      case UINT8:
        return (seg ? seg.getUint8(addr) : 0) ^ defLo;
      case INT16:
        return (((seg ? seg.getUint16(addr) : 0) ^ defLo) << 16) >> 16;
      case UINT16:
        return (seg ? seg.getUint16(addr) : 0) ^ defLo;
      case ENUM: {
        const ordinal = (seg ? seg.getUint16(addr) : 0) ^ defLo;
        // An enumerant from a newer schema stays a number rather than failing.
        return type.enumPlan!.byOrdinal[ordinal] ?? ordinal;
      }
      case INT32:
        return (seg ? seg.getUint32(addr) : 0) ^ defLo;
      case UINT32:
        return ((seg ? seg.getUint32(addr) : 0) ^ defLo) >>> 0;
      case INT64:
      case UINT64:
        if (!seg) return readInt64Default(defLo, defHi, type.code === INT64);
        return readInt64(seg, addr, defLo, defHi, type.code === INT64);
      case FLOAT32: {
        if (defLo === 0) return seg ? seg.getFloat32(addr) : 0;
        const bits = this.floatBits ??= new DataView(new ArrayBuffer(8));
        bits.setUint32(0, ((seg ? seg.getUint32(addr) : 0) ^ defLo) >>> 0, true);
        return bits.getFloat32(0, true);
      }
      case FLOAT64: {
        if (defLo === 0 && defHi === 0) return seg ? seg.getFloat64(addr) : 0;
        const bits = this.floatBits ??= new DataView(new ArrayBuffer(8));
        bits.setUint32(0, ((seg ? seg.getUint32(addr) : 0) ^ defLo) >>> 0, true);
        bits.setUint32(4, ((seg ? seg.getUint32(addr + 4) : 0) ^ defHi) >>> 0, true);
        return bits.getFloat64(0, true);
      }
    }
    return null;
  }

  /** The value a null pointer of this type reads as. */
  private nullValue(type: TypePlan, defJson: unknown): unknown {
    if (this.nulls) return null;
    if (defJson !== undefined) {
      if (defJson instanceof Uint8Array) return Uint8Array.from(defJson);
      return typeof defJson === "object" && defJson !== null ? structuredClone(defJson) : defJson;
    }
    switch (type.code) {
      case TEXT:
        return "";
      case DATA:
        return this.bytes ? new Uint8Array(0) : "";
      case LIST:
        return [];
      case STRUCT:
        // A struct that contains itself has no finite struct of defaults.
        return type.struct!.recursive ? null : this.structOfDefaults(type.struct!);
    }
    return null;
  }

  private readPointer(
    seg: Segment,
    addr: number,
    type: TypePlan,
    defJson: unknown,
    depth: number,
  ): unknown {
    if (!this.resolvePointer(seg, addr)) return this.nullValue(type, defJson);
    if (depth > MAX_DEPTH) malformed(`nesting deeper than ${MAX_DEPTH} levels`);
    const lo = this.lo;
    const hi = this.hi;
    const target = this.seg!;
    const content = this.content;
    const kind = lo & 3;
    switch (type.code) {
      case TEXT:
      case DATA: {
        if (kind !== 1 || (hi & 7) !== SIZE_BYTE) malformed(`${type.label} is not a byte list`);
        const count = hi >>> 3;
        checkBounds(target, content, count);
        this.budget -= (count + 7) >> 3;
        if (this.budget < 0) malformed("it reads more data than it holds");
        if (type.code === TEXT) return this.decodeText(target, content, count);
        const view = target.view(content, count);
        return this.bytes ? view.slice() : Buffer.from(view).toString("base64");
      }
      case STRUCT: {
        if (kind !== 0) malformed(`${type.label} is not a struct pointer`);
        const dataWords = hi & 0xffff;
        const ptrs = hi >>> 16;
        this.budget -= dataWords + ptrs;
        if (this.budget < 0) malformed("it reads more data than it holds");
        checkBounds(target, content, (dataWords + ptrs) * 8);
        return this.readStruct(target, content, dataWords * 8, ptrs, type.struct!, depth + 1);
      }
      case LIST:
        if (kind !== 1) malformed(`${type.label} is not a list pointer`);
        return this.readList(target, content, hi, type.element!, depth + 1);
    }
    return null;
  }

  private readList(
    seg: Segment,
    content: number,
    hi: number,
    element: TypePlan,
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
      this.budget -= count + (words === 0 ? n : 0);
      if (this.budget < 0) malformed("it reads more data than it holds");
      const out = new Array(n);
      for (let i = 0; i < n; i++) {
        out[i] = this.readStruct(
          seg,
          content + 8 + i * words * 8,
          dataWords * 8,
          ptrs,
          element.struct!,
          depth,
        );
      }
      return out;
    }
    if (size !== element.listSize) malformed(`${path} has element size code ${size}`);
    if (size !== SIZE_VOID) {
      checkBounds(seg, content, size === SIZE_BIT ? (count + 7) >> 3 : count * element.listBytes);
    }
    this.budget -= element.listSize === SIZE_VOID ? count : ((count * element.listBytes) >> 3) + 1;
    if (this.budget < 0) malformed("it reads more data than it holds");
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
          out[i] = this.readPointer(seg, content + i * 8, element, undefined, depth);
        }
        return out;
      default: {
        const bytes = element.listBytes;
        for (let i = 0; i < count; i++) {
          out[i] = this.readData(seg, content + i * bytes, element, 0, 0, 0);
        }
        return out;
      }
    }
  }

  private readStruct(
    seg: Segment,
    dataAddr: number,
    dataBytes: number,
    ptrs: number,
    plan: StructPlan,
    depth: number,
  ): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const ptrAddr = dataAddr + dataBytes;
    const fields = plan.fields;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i];
      if (f.ptrIndex < 0) {
        const size = f.type.code === BOOL ? 1 : f.type.listBytes;
        out[f.name] = this.readData(
          f.byteOffset + size <= dataBytes ? seg : undefined,
          dataAddr + f.byteOffset,
          f.type,
          f.bitMask,
          f.defLo,
          f.defHi,
        );
      } else if (f.ptrIndex < ptrs) {
        out[f.name] = this.readPointer(seg, ptrAddr + f.ptrIndex * 8, f.type, f.defJson, depth);
      } else {
        out[f.name] = this.nullValue(f.type, f.defJson);
      }
    }
    return out;
  }

  /** A struct of defaults: what a struct of no data and no pointers reads as. */
  private structOfDefaults(plan: StructPlan): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const f of plan.fields) {
      out[f.name] = f.ptrIndex < 0
        ? this.readData(undefined, 0, f.type, f.bitMask, f.defLo, f.defHi)
        : this.nullValue(f.type, f.defJson);
    }
    return out;
  }
}
