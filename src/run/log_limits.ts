/**
 * Bounds on a job's log besides its byte cap (`LOG_CAP`, the tail kept): a line longer than
 * {@link MAX_LOG_LINE} characters is cut, so one `job.log` of 100 MB or a command printing a
 * 50 MB line without a newline cannot make a huge row in the store (docs/runs.md).
 *
 * @module
 */

/** A log line keeps at most this many characters (16 KiB); the rest is dropped. */
export const MAX_LOG_LINE = 16 * 1024;

/** What ends a line that was cut. */
export const LINE_CUT_MARK = " … (line truncated)";

/** What the live log says once the job's log passed its cap (the tail is kept at the end). */
export const LIVE_TRUNCATED_LINE = "[warn] (log truncated: over 1 MiB, the tail is kept)\n";

/**
 * Cuts the lines of a stream of log text at {@link MAX_LOG_LINE} characters, whatever the
 * chunks: a line may span many chunks, its state is kept between them.
 */
export class LineCutter {
  readonly #max: number;
  /** Characters of the current (unfinished) line passed on so far. */
  #column = 0;
  #cut = false;

  constructor(max: number = MAX_LOG_LINE) {
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new RangeError(`a line length must be a positive integer, not ${max}`);
    }
    this.#max = max;
  }

  /** `text` with every part past the maximum line length dropped (and marked once a line). */
  cut(text: string): string {
    // Fast path: no line of this chunk can reach the limit.
    if (!this.#cut && this.#column + text.length <= this.#max) {
      const nl = text.lastIndexOf("\n");
      this.#column = nl === -1 ? this.#column + text.length : text.length - nl - 1;
      return text;
    }
    const out: string[] = [];
    let start = 0;
    while (start < text.length) {
      const nl = text.indexOf("\n", start);
      const end = nl === -1 ? text.length : nl;
      const room = this.#max - this.#column;
      if (end - start <= room) {
        if (!this.#cut) out.push(text.slice(start, end));
        this.#column += end - start;
      } else {
        if (!this.#cut) {
          out.push(text.slice(start, start + room), LINE_CUT_MARK);
          this.#cut = true;
        }
        this.#column = this.#max;
      }
      if (nl === -1) break;
      out.push("\n");
      this.#column = 0;
      this.#cut = false;
      start = nl + 1;
    }
    return out.join("");
  }
}
