import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { packaging, runtimeName, workerSpecifier } from "../src/runtime.ts";

describe("runtime", () => {
  it("names the runtime running the tests", () => {
    const g = globalThis as Record<string, unknown>;
    assert.equal(runtimeName(), g.Bun ? "bun" : g.Deno ? "deno" : "node");
  });

  it("tells the packaging from the module URL", () => {
    assert.equal(packaging("file:///$bunfs/root/ays"), "binary");
    assert.equal(packaging("file:///opt/ays/dist/ays.js"), "bundle");
    assert.equal(packaging("file:///work/ays/src/runtime.ts"), "source");
    assert.equal(packaging(), "source");
  });

  it("finds worker entries for each packaging", () => {
    assert.equal(
      workerSpecifier("job_worker", "file:///$bunfs/root/ays"),
      "./workers/job_worker.ts",
    );
    assert.equal(
      workerSpecifier("job_worker", "file:///opt/ays/dist/ays.js"),
      "file:///opt/ays/dist/workers/job_worker.js",
    );
    assert.equal(
      workerSpecifier("job_worker", "file:///work/ays/src/runtime.ts"),
      "file:///work/ays/workers/job_worker.ts",
    );
  });
});
