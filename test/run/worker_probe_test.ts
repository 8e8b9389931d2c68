import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { probeWorker } from "../../src/run/worker_probe.ts";
import { runtimeName } from "../../src/runtime.ts";

/** A clock that answers the given times in turn and fails when asked once more. */
function scriptedClock(times: number[]): { now: () => number; left: () => number } {
  const queue = [...times];
  return {
    now: () => {
      assert.ok(queue.length > 0, "the clock was read more often than expected");
      return queue.shift()!;
    },
    left: () => queue.length,
  };
}

describe("probeWorker", () => {
  it("starts a real Web Worker from the sources, gets its answer and runs a job in it", async () => {
    // Read in this order: ping sent, ping answered, job handed over, job done.
    const clock = scriptedClock([1_000, 1_012.5, 2_000, 2_040.25]);
    const probe = await probeWorker({ now: clock.now });
    assert.equal(probe.runtime, runtimeName());
    assert.match(probe.specifier, /workers\/job_worker\.ts$/);
    assert.equal(probe.millis, 12.5, "from new Worker() to the answer");
    assert.equal(probe.jobMillis, 40.25, "from handing the job over to its outcome");
    assert.equal(clock.left(), 0);
  });

  it("refuses a timeout that is not positive", async () => {
    await assert.rejects(probeWorker({ timeoutMs: 0 }), RangeError);
  });
});
