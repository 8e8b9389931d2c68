/** Cutting over-long log lines across chunks. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LINE_CUT_MARK, LineCutter } from "../../src/run/log_limits.ts";

describe("LineCutter", () => {
  it("passes short lines through unchanged, whatever the chunks", () => {
    const cutter = new LineCutter(5);
    assert.equal(cutter.cut("ab"), "ab");
    assert.equal(cutter.cut("c\nde"), "c\nde");
    assert.equal(cutter.cut("fgh\n"), "fgh\n");
    assert.equal(cutter.cut("12345\n"), "12345\n");
  });

  it("cuts a long line once, across chunks, and starts over at the next line", () => {
    const cutter = new LineCutter(5);
    assert.equal(cutter.cut("abc"), "abc");
    assert.equal(cutter.cut("defg"), `de${LINE_CUT_MARK}`);
    assert.equal(cutter.cut("hijk"), "");
    assert.equal(cutter.cut("lm\nok\n"), "\nok\n");
    assert.equal(cutter.cut("0123456789\n1\n"), `01234${LINE_CUT_MARK}\n1\n`);
  });

  it("refuses a length that is not a positive integer", () => {
    for (const bad of [0, -1, 1.5, NaN]) {
      assert.throws(() => new LineCutter(bad), RangeError);
    }
  });
});
