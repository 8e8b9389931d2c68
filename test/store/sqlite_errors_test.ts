/** Which SQLite failures are the environment's (exit 4, naming the file) and which are ours. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { UnavailableError } from "../../src/errors.ts";
import { sqliteFailure } from "../../src/store/sqlite_errors.ts";

const sqliteError = (message: string, errcode?: number) =>
  Object.assign(new Error(message), errcode === undefined ? {} : { errcode });

describe("sqliteFailure", () => {
  it("names the file and the failure for codes of the file or the machine", () => {
    const cases: [Error, RegExp][] = [
      [sqliteError("database or disk is full", 13), /cannot grow: the disk is full/],
      [sqliteError("database disk image is malformed", 11), /is damaged/],
      [sqliteError("file is not a database", 26), /is not a SQLite database/],
      [sqliteError("file is not a database", 11), /is not a SQLite database/],
      [sqliteError("disk I/O error", 266), /had an I\/O error/], // extended SQLITE_IOERR_READ
      [sqliteError("database is locked", 5), /stayed busy for 10 ms/],
      [sqliteError("attempt to write a readonly database", 8), /cannot be written/],
    ];
    for (const [error, reason] of cases) {
      const failure = sqliteFailure(error, "/r/.ays/store.db", 10);
      assert.ok(failure instanceof UnavailableError, error.message);
      assert.match(failure.message, /^the store \/r\/\.ays\/store\.db /);
      assert.match(failure.message, reason);
      assert.ok(failure.message.includes(error.message));
      assert.equal(failure.cause, error);
    }
  });

  it("recognises the same failures by their words when there is no code", () => {
    const failure = sqliteFailure(sqliteError("database or disk is full"), "/s.db", 10);
    assert.ok(failure instanceof UnavailableError);
    assert.match(failure.message, /disk is full/);
  });

  it("passes our own mistakes through unchanged", () => {
    const syntax = sqliteError('near "SELEC": syntax error', 1);
    assert.equal(sqliteFailure(syntax, "/s.db", 10), syntax);
    const constraint = sqliteError("UNIQUE constraint failed: queue.id", 19);
    assert.equal(sqliteFailure(constraint, "/s.db", 10), constraint);
    const type = new TypeError("expected bytes");
    assert.equal(sqliteFailure(type, "/s.db", 10), type);
  });
});
