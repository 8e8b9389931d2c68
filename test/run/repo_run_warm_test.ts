/**
 * A run starts only as many workers as the due index has services: one due job at parallel 20
 * starts as many Web Workers as at parallel 1, not 19 more. Counted as the run constructs them
 * (the global `Worker` wrapped for the run): counting the process's threads from the job mixed
 * in the runtimes' own (Deno's I/O pool grew by ten in one run) and, under `deno test
 * --parallel`, the workers of the other test files running in the same process.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { executeRepoRun } from "../../src/run/repo_run.ts";
import { openSeededRepo } from "./repo_fixture.ts";

/** Runs `body` with the global `Worker` counting the workers made meanwhile. */
async function countingWorkers(body: () => Promise<void>): Promise<number> {
  const Original = globalThis.Worker;
  let made = 0;
  globalThis.Worker = class extends Original {
    constructor(...args: ConstructorParameters<typeof Worker>) {
      super(...args);
      made++;
    }
  };
  try {
    await body();
  } finally {
    globalThis.Worker = Original;
  }
  return made;
}

/** Runs the one due job of a fresh repository at `parallel`; the workers the run started. */
async function workersForOneJob(parallel: number): Promise<number> {
  const name = `warm${process.pid}p${parallel}`;
  const { session, close } = await openSeededRepo(name, {
    "actorTemplates/one/schema.hrd": "note = type:str\n",
    "actorTemplates/one/actions.js": "export function install() {}\n",
    "blueprints/1.yaml": "one__a:\n  note: x\n",
  });
  try {
    return await countingWorkers(async () => {
      const result = await executeRepoRun(session, { parallel });
      assert.equal(result.run.state, "ok", JSON.stringify(result.jobs.map((j) => j.error)));
    });
  } finally {
    await close();
  }
}

describe("a run's workers", () => {
  it("are as many as its due services at most: one due job at parallel 20 starts one worker", async () => {
    const one = await workersForOneJob(1);
    const twenty = await workersForOneJob(20);
    assert.equal(one, 1, "the job's own worker");
    assert.equal(twenty, 1, `${twenty} workers at parallel 20 for one due job`);
  });
});
