/**
 * A job log that keeps only its tail once it grows past a byte cap, so a chatty action cannot
 * exhaust memory or bloat the store.
 *
 * @module
 */

/** The marker put in front of a log whose head was dropped. */
export const TRUNCATED_MARK = "[… log truncated, tail kept]\n";

/** Collects text; {@link LogBuffer.text} returns at most `cap` bytes (UTF-8), the tail. */
export class LogBuffer {
  readonly #cap: number;
  #chunks: string[] = [];
  #length = 0;
  #truncated = false;

  constructor(cap: number) {
    this.#cap = cap;
  }

  /** Appends text. */
  append(text: string): void {
    if (text.length === 0) return;
    this.#chunks.push(text);
    this.#length += text.length;
    // A UTF-16 unit is at most 3 UTF-8 bytes; trim in characters now, exactly in text().
    if (this.#length > 2 * this.#cap) {
      const joined = this.#chunks.join("");
      const kept = joined.slice(-this.#cap);
      this.#chunks = [kept];
      this.#length = kept.length;
      this.#truncated = true;
    }
  }

  /** The log, capped. */
  text(): string {
    const joined = this.#chunks.join("");
    const bytes = new TextEncoder().encode(joined);
    if (bytes.length <= this.#cap && !this.#truncated) return joined;
    const room = this.#cap - new TextEncoder().encode(TRUNCATED_MARK).length;
    let start = Math.max(0, bytes.length - room);
    // Do not start inside a UTF-8 sequence.
    while (start < bytes.length && (bytes[start] & 0xc0) === 0x80) start++;
    return TRUNCATED_MARK + new TextDecoder().decode(bytes.subarray(start));
  }
}
