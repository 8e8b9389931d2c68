/**
 * The text of an HRD file (`schema.hrd`, `actor.hrd`) from its bytes: HRD is UTF-8 text, so
 * bytes that are not valid UTF-8 and NUL characters (binary content) are refused at the line and
 * column where they are, as docs/hrd.md says, rather than read as U+FFFD or kept silently.
 *
 * @module
 */
import { InputError, type SourceLocation } from "../errors.ts";

/** Options of {@link sourceText}. */
export interface SourceTextOptions {
  /** File name put on the error's location. */
  file?: string;
}

/**
 * `source` as text: bytes are decoded as UTF-8. Throws {@link InputError} at `file:line:column`
 * of the first byte that is not valid UTF-8, or of the first NUL character.
 */
export function sourceText(source: string | Uint8Array, options: SourceTextOptions = {}): string {
  const { file = "<hrd>" } = options;
  if (typeof source !== "string" && !(source instanceof Uint8Array)) {
    throw new TypeError(`sourceText: expected a string or a Uint8Array, got ${typeof source}`);
  }
  let text: string;
  if (typeof source === "string") {
    text = source;
  } else {
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(source);
    } catch {
      const at = firstInvalidUtf8(source);
      throw new InputError(
        `not a text file: byte 0x${source[at].toString(16).padStart(2, "0")} is not valid UTF-8`,
        { location: byteLocation(source, at, file) },
      );
    }
  }
  const nul = text.indexOf("\0");
  if (nul !== -1) {
    throw new InputError("not a text file: it contains a NUL character (binary content)", {
      location: textLocation(text, nul, file),
    });
  }
  return text;
}

/** Offset of the first byte of `bytes` that does not start or continue a valid UTF-8 sequence. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    // The second byte's range excludes overlong forms, surrogates and code points > U+10FFFF.
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b === 0xe0) [need, lo] = [2, 0xa0];
    else if (b === 0xed) [need, hi] = [2, 0x9f];
    else if (b >= 0xe1 && b <= 0xef) need = 2;
    else if (b === 0xf0) [need, lo] = [3, 0x90];
    else if (b === 0xf4) [need, hi] = [3, 0x8f];
    else if (b >= 0xf1 && b <= 0xf3) need = 3;
    else return i;
    if (i + 1 >= bytes.length || bytes[i + 1] < lo || bytes[i + 1] > hi) return i;
    for (let k = 2; k <= need; k++) {
      const c = bytes[i + k];
      if (i + k >= bytes.length || c < 0x80 || c > 0xbf) return i;
    }
    i += need + 1;
  }
  // The decoder refused the bytes: whatever it refused is at the end.
  return Math.max(0, bytes.length - 1);
}

/** The location of byte `at` of `bytes`, whose bytes before `at` are valid UTF-8. */
function byteLocation(bytes: Uint8Array, at: number, file: string): SourceLocation {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < at; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  // Columns count UTF-16 code units, as every other HRD location does; a BOM is not counted.
  let before = new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes.subarray(lineStart, at));
  if (line === 1 && before.startsWith("\uFEFF")) before = before.slice(1);
  return { file, line, column: before.length + 1 };
}

/** The location of index `at` of `text`. */
function textLocation(text: string, at: number, file: string): SourceLocation {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf("\n"); i !== -1 && i < at; i = text.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  const bom = line === 1 && text.startsWith("\uFEFF") ? 1 : 0;
  return { file, line, column: at - lineStart - bom + 1 };
}
