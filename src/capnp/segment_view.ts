/**
 * The segments of a framed message as the reader sees them (docs/capnp.md, "Codec"): views of
 * the given bytes, no copy. Reading a message used to go through capnp-es' `Message`, which
 * copies the segment and whose `buffer` getter (and a `DataView` per message) cost more than the
 * decoding itself when a listing reads 100,000 records.
 *
 * @module
 */
import { malformed } from "./malformed.ts";

/** Most segments a frame may claim (a garbage header would otherwise claim billions). */
const MAX_SEGMENTS = 512;

/**
 * One segment: little-endian reads at byte offsets within it. A read past its end throws a
 * RangeError, as a `DataView` does (the reader turns that into "malformed").
 */
export class SegmentView {
  /** The message's bytes; the segment starts at {@link SegmentView.base} (no copy). */
  readonly bytes: Uint8Array;
  /** Where the segment starts in {@link SegmentView.bytes}. */
  readonly base: number;
  /** Its length in bytes. */
  readonly byteLength: number;
  /** Made when a float is first read (floats are rare in records). */
  #view: DataView | undefined = undefined;

  constructor(bytes: Uint8Array, base: number, byteLength: number) {
    this.bytes = bytes;
    this.base = base;
    this.byteLength = byteLength;
  }

  getUint8(at: number): number {
    if (at < 0 || at >= this.byteLength) throw new RangeError("read outside the segment");
    return this.bytes[this.base + at];
  }

  getUint16(at: number): number {
    if (at < 0 || at + 2 > this.byteLength) throw new RangeError("read outside the segment");
    const b = this.bytes;
    const i = this.base + at;
    return b[i] | (b[i + 1] << 8);
  }

  getUint32(at: number): number {
    if (at < 0 || at + 4 > this.byteLength) throw new RangeError("read outside the segment");
    const b = this.bytes;
    const i = this.base + at;
    return (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
  }

  getFloat32(at: number): number {
    if (at < 0 || at + 4 > this.byteLength) throw new RangeError("read outside the segment");
    return this.#dataView().getFloat32(this.base + at, true);
  }

  getFloat64(at: number): number {
    if (at < 0 || at + 8 > this.byteLength) throw new RangeError("read outside the segment");
    return this.#dataView().getFloat64(this.base + at, true);
  }

  /** `count` bytes at `at` (a view, not a copy). */
  view(at: number, count: number): Uint8Array {
    const start = this.base + at;
    return this.bytes.subarray(start, start + count);
  }

  #dataView(): DataView {
    const b = this.bytes;
    return this.#view ??= new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
}

/**
 * The segments of a message in stream framing (a segment count, their sizes, then the
 * segments). The frame is checked before anything is allocated: a garbage header would
 * otherwise claim a segment table as long as it says.
 */
export function frameSegments(bytes: Uint8Array): SegmentView[] {
  const length = bytes.length;
  if (length < 8) malformed(`${length} bytes is too short for a message`);
  const word = (at: number) =>
    (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
  const count = word(0) + 1;
  if (count > MAX_SEGMENTS) malformed(`its frame claims ${count} segments`);
  const header = (4 + count * 4 + 7) & ~7;
  if (header > length) malformed("its frame header is cut off");
  let body = 0;
  for (let i = 0; i < count; i++) body += word(4 + i * 4) * 8;
  if (header + body > length) {
    malformed(`its frame claims ${header + body} bytes but ${length} were given`);
  }
  if (word(4) === 0) malformed("its first segment is empty");
  const segments = new Array<SegmentView>(count);
  let start = header;
  for (let i = 0; i < count; i++) {
    const end = start + word(4 + i * 4) * 8;
    segments[i] = new SegmentView(bytes, start, end - start);
    start = end;
  }
  return segments;
}
