import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InputError } from "../../src/errors.ts";
import { formatMemorySize, MIN_MEMORY_LIMIT, parseMemorySize } from "../../src/hrd/mod.ts";

const MiB = 1024 * 1024;

describe("parseMemorySize", () => {
  it("reads bytes and binary units", () => {
    assert.equal(parseMemorySize(MIN_MEMORY_LIMIT), 128 * MiB);
    assert.equal(parseMemorySize("134217728"), 128 * MiB);
    assert.equal(parseMemorySize("131072K"), 128 * MiB);
    assert.equal(parseMemorySize("512M"), 512 * MiB);
    assert.equal(parseMemorySize("512m"), 512 * MiB);
    assert.equal(parseMemorySize("512MiB"), 512 * MiB);
    assert.equal(parseMemorySize(" 2 G "), 2048 * MiB);
    assert.equal(parseMemorySize("1.5G"), 1536 * MiB);
    assert.equal(parseMemorySize("1T"), 1024 * 1024 * MiB);
  });

  it("refuses other text, fractions of bytes, sizes below 128M, with the location", () => {
    const location = { file: "actor.yaml", line: 3, column: 7 };
    for (const bad of ["", "512MB", "-1G", "1.5", "G", "12 M B", "0x100M", "1e9", "∞"]) {
      assert.throws(
        () => parseMemorySize(bad, { what: "memory", location }),
        (e: unknown) =>
          e instanceof InputError && /^memory: bad memory size /.test(e.message) &&
          e.location?.line === 3 && e.location?.column === 7,
        bad,
      );
    }
    for (const bad of [-1, 1.5, Number.NaN, Infinity, 2 ** 60]) {
      assert.throws(() => parseMemorySize(bad), InputError, String(bad));
    }
    assert.throws(() => parseMemorySize("127M"), /must be at least 128M/);
    assert.throws(() => parseMemorySize(0), /must be at least 128M/);
    assert.throws(() => parseMemorySize("99999999999T"), /too large/);
    assert.throws(() => parseMemorySize(null as unknown as string), InputError);
  });

  it("formats sizes so that they read back", () => {
    for (const bytes of [128 * MiB, 512 * MiB, 1024 * MiB, 1536 * MiB, 170_000_000, 2 ** 40]) {
      assert.equal(parseMemorySize(formatMemorySize(bytes)), bytes);
    }
    assert.equal(formatMemorySize(1024 * MiB), "1G");
    assert.equal(formatMemorySize(1536 * MiB), "1536M");
  });
});
