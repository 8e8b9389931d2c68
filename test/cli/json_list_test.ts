/**
 * `printJsonList` (src/cli/session.ts), how `ays list --json` writes: in batches, byte for byte
 * the text `printJson` writes for the whole array.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { captureIo } from "../../src/cli/io.ts";
import { printJson, printJsonList } from "../../src/cli/session.ts";
import { ExitCode } from "../../src/errors.ts";

function printed(print: (ctx: { io: ReturnType<typeof captureIo>; exitCode: number }) => void) {
  const io = captureIo();
  print({ io, exitCode: ExitCode.ok });
  return io.out;
}

describe("printJsonList", () => {
  const item = (i: number) => ({
    key: `k${i}`,
    name: `n\n${i}`,
    parent: i % 2 ? null : "p!x",
    producers: i % 3 ? [] : ["a!b", "c!d"],
    actions: i % 4 ? {} : { install: "ok", start: "new" },
    nested: [{ deep: [1, [2, { three: '"3"' }]] }],
  });

  it("writes what printJson writes, for no, one and many items", () => {
    for (const count of [0, 1, 2, 511, 512, 513, 1500]) {
      const items = Array.from({ length: count }, (_, i) => item(i));
      const whole = printed((ctx) => printJson(ctx, items)).join("");
      const batches = printed((ctx) => printJsonList(ctx, items));
      assert.equal(batches.join(""), whole, `${count} items`);
      if (count > 512) assert.ok(batches.length > 1, "written in batches");
    }
  });
});
