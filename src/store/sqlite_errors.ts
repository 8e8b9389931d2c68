/**
 * Which failures of SQLite are the environment's — a damaged or foreign file, a full disk, an
 * I/O error, a file that cannot be opened or written, a writer that stayed busy — and so
 * `UnavailableError` (exit 4) with one line naming the store file (`docs/store.md`, "SQLite
 * details"). Anything else (a bad statement, a constraint) is a bug of ours and passes through.
 *
 * @module
 */
import { UnavailableError } from "../errors.ts";

/** SQLite's primary result codes that say the file or the machine failed, not the caller. */
const ENVIRONMENT_CODES: ReadonlyMap<number, string> = new Map([
  [3, "is not accessible"], // SQLITE_PERM
  [5, "stayed busy"], // SQLITE_BUSY
  [6, "stayed busy"], // SQLITE_LOCKED
  [7, "ran out of memory"], // SQLITE_NOMEM
  [8, "cannot be written"], // SQLITE_READONLY
  [10, "had an I/O error"], // SQLITE_IOERR
  [11, "is damaged"], // SQLITE_CORRUPT
  [13, "cannot grow: the disk is full"], // SQLITE_FULL
  [14, "cannot be opened"], // SQLITE_CANTOPEN
  [15, "is locked in a way ays does not expect"], // SQLITE_PROTOCOL
  [26, "is not a SQLite database"], // SQLITE_NOTADB
]);

/** Messages of the same failures, for errors that carry no SQLite code. */
const ENVIRONMENT_MESSAGE =
  /malformed|not a database|disk is full|disk I\/O|readonly database|unable to open|database is locked|busy/i;

/** The SQLite result code of `error` (extended codes keep the primary one in the low byte). */
function sqliteCode(error: unknown): number | null {
  const code = (error as { errcode?: unknown } | null)?.errcode;
  return typeof code === "number" ? code & 0xff : null;
}

/**
 * `error` as an UnavailableError naming the store file `path` when it is a failure of the
 * file or the machine; otherwise `error` itself. `busyMs` is the busy timeout, for the message.
 */
export function sqliteFailure(error: unknown, path: string, busyMs: number): unknown {
  if (error instanceof UnavailableError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = sqliteCode(error);
  // Runtimes disagree on the code of a foreign file (Deno says SQLITE_CORRUPT): the words decide.
  let what = /not a database/i.test(message)
    ? ENVIRONMENT_CODES.get(26)
    : code === null
    ? undefined
    : ENVIRONMENT_CODES.get(code);
  if (what === undefined && !ENVIRONMENT_MESSAGE.test(message)) return error;
  if (what === undefined) {
    what = /malformed/i.test(message)
      ? "is damaged"
      : /full/i.test(message)
      ? "cannot grow: the disk is full"
      : /locked|busy/i.test(message)
      ? "stayed busy"
      : "is unavailable";
  }
  if (what === "stayed busy") what = `stayed busy for ${busyMs} ms`;
  // One line: SQLite's own words after ours, without its stack.
  const reason = message.split("\n")[0];
  return new UnavailableError(`the store ${path} ${what} (${reason})`, { cause: error });
}
