/**
 * Cap'n Proto packing, the zero-byte compression of a framed message (docs/capnp.md, "Codec"):
 * a tag byte per word naming its non-zero bytes; after an all-zero word the count of zero words
 * that follow, after an all-non-zero word the count of following words with at most one zero
 * byte, copied as is. {@link pack} gives byte for byte what `capnp convert binary:packed` gives.
 *
 * @module
 */
import { malformed } from "./malformed.ts";

/** The packed encoding of a framed message (whole words), byte for byte as capnp packs. */
export function pack(bytes: Uint8Array): Uint8Array {
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

/**
 * Expands the packed encoding of a message. Packed data that ends inside a word, before a run
 * length or inside a literal run is an `InputError` ("malformed Cap'n Proto message: …").
 */
export function unpack(packed: Uint8Array): Uint8Array {
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
