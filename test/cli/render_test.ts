import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { periodText } from "../../src/cli/render.ts";

describe("periodText", () => {
  it("writes a period in the HRD notation, weeks included, and - for none", () => {
    assert.equal(periodText(0), "-");
    assert.equal(periodText(300), "5m");
    assert.equal(periodText(5400), "1h30m");
    assert.equal(periodText(604800 + 86400), "1w1d");
    assert.equal(periodText(89.6), "1m30s");
  });
});
