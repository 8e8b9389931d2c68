import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  AysError,
  ExitCode,
  formatLocated,
  InputError,
  LockedError,
  UnavailableError,
} from "../src/errors.ts";

describe("errors", () => {
  it("has the documented exit codes (docs/cli.md)", () => {
    assert.deepEqual(ExitCode, {
      ok: 0,
      failed: 1,
      badInput: 2,
      locked: 3,
      unavailable: 4,
      interrupted: 130,
    });
  });

  it("each kind carries its exit code, its name and is an AysError and an Error", () => {
    const kinds = [
      [new InputError("bad"), "InputError", 2],
      [new LockedError("held"), "LockedError", 3],
      [new UnavailableError("gone"), "UnavailableError", 4],
      [new AysError("failed", ExitCode.failed), "AysError", 1],
    ] as const;
    for (const [error, name, code] of kinds) {
      assert.ok(error instanceof AysError, name);
      assert.ok(error instanceof Error, name);
      assert.equal(error.name, name);
      assert.equal(error.exitCode, code);
      assert.equal(error.location, undefined);
    }
    assert.ok(!(new InputError("x") instanceof UnavailableError));
  });

  it("keeps the message, the location and the cause", () => {
    const cause = new Error("underneath");
    const location = { file: "b.yaml", line: 3, column: 7 };
    const error = new InputError("no such actor", { location, cause });
    assert.equal(error.message, "no such actor");
    assert.deepEqual(error.location, location);
    assert.equal(error.cause, cause);
  });

  it("formats file:line:column, leaving out what is unknown", () => {
    assert.equal(formatLocated("m", { file: "f", line: 3, column: 7 }), "f:3:7: m");
    assert.equal(formatLocated("m", { file: "f", line: 3 }), "f:3: m");
    assert.equal(formatLocated("m", { file: "f" }), "f: m");
    assert.equal(formatLocated("m", { file: "f", column: 7 }), "f: m", "no column without a line");
    assert.equal(formatLocated("m"), "m");
    assert.equal(formatLocated("m", { file: "f", line: 0, column: 0 }), "f:0:0: m");
  });
});
