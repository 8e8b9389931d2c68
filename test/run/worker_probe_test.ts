import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { probeWorker } from "../../src/run/worker_probe.ts";
import { runtimeName } from "../../src/runtime.ts";

describe("probeWorker", () => {
  it("starts a real Web Worker from the sources, gets its answer and runs a job in it", async () => {
    const probe = await probeWorker();
    assert.equal(probe.runtime, runtimeName());
    assert.match(probe.specifier, /workers\/job_worker\.ts$/);
    assert.ok(probe.millis >= 0);
    assert.ok(probe.jobMillis >= 0, "a probe job ran in a worker");
  });
});
