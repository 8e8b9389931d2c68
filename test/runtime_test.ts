import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import * as diagnostics from "node:diagnostics_channel";
import {
  collectGarbage,
  completeTracingChannel,
  packaging,
  runtimeName,
  workerSpecifier,
} from "../src/runtime.ts";
import { projectRoot } from "./helpers/mod.ts";

const run = promisify(execFile);
const runtimeModule = join(projectRoot, "src", "runtime.ts");
const bin = (name: string) => join(projectRoot, "node_modules", ".bin", name);
const script = `import { runtimeName } from ${JSON.stringify(runtimeModule)};
console.log(runtimeName());`;

describe("runtime", () => {
  it("names Bun when Bun runs it", async () => {
    const { stdout } = await run(bin("bun"), ["-e", script], { cwd: projectRoot });
    assert.equal(stdout.trim(), "bun");
  });

  it("names Deno when Deno runs it", async () => {
    const { stdout } = await run(bin("deno"), ["eval", "--ext=ts", script], { cwd: projectRoot });
    assert.equal(stdout.trim(), "deno");
  });

  it("names the runtime running the tests, as that runtime reports its version", () => {
    const versions = process.versions as Record<string, string | undefined>;
    const expected = versions.bun ? "bun" : versions.deno ? "deno" : "node";
    assert.equal(runtimeName(), expected);
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

  it("gives every TracingChannel a hasSubscribers that follows its subscribers", () => {
    completeTracingChannel(diagnostics);
    completeTracingChannel(diagnostics); // a second call changes nothing
    const channel = diagnostics.tracingChannel("ays:test:runtime");
    assert.equal(channel.hasSubscribers, false);
    const handlers = { asyncEnd() {} };
    channel.subscribe(handlers);
    assert.equal(channel.hasSubscribers, true);
    channel.unsubscribe(handlers);
    assert.equal(channel.hasSubscribers, false);
  });

  describe("collectGarbage", () => {
    // A WeakRef's target is kept until the job that made it ends: the check runs in a later one.
    const gcScript = `import { collectGarbage } from ${JSON.stringify(runtimeModule)};
const make = () => new WeakRef(new Array(100_000).fill(0).map((_, i) => ({ i })));
const ref = make();
await new Promise((resolve) => setTimeout(resolve, 0));
collectGarbage();
console.log(ref.deref() === undefined ? "collected" : "kept");`;

    it("collects what is unreachable under Bun", async () => {
      const { stdout } = await run(bin("bun"), ["-e", gcScript], { cwd: projectRoot });
      assert.equal(stdout.trim(), "collected");
    });

    it("collects under Deno started with --expose-gc, and runs without it", async () => {
      const flagged = await run(bin("deno"), [
        "eval",
        "--v8-flags=--expose-gc",
        "--ext=ts",
        gcScript,
      ], {
        cwd: projectRoot,
      });
      assert.equal(flagged.stdout.trim(), "collected");
      // Without the flag V8 decides when to collect: only that nothing fails is certain.
      const plain = await run(bin("deno"), ["eval", "--ext=ts", gcScript], { cwd: projectRoot });
      assert.match(plain.stdout, /^(collected|kept)\n$/);
    });

    it("returns nothing in the runtime running the tests", () => {
      assert.equal(collectGarbage(), undefined);
    });
  });
});
