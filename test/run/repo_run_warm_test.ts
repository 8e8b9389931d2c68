/**
 * A run starts only as many workers as the due index has services: one due job at parallel 20
 * runs beside about as many threads as at parallel 1 (the job counts its process's threads;
 * each worker is a thread), not 19 more.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { executeRepoRun } from "../../src/run/repo_run.ts";
import { openSeededRepo } from "./repo_fixture.ts";

const ACTIONS = `import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
export function install(job) {
  writeFileSync(join(job.repo.path, "threads.txt"), String(readdirSync("/proc/self/task").length));
}
`;

/** Runs the one due job of a fresh repository at `parallel`; the threads its process had. */
async function threadsBesideOneJob(parallel: number): Promise<number> {
  const name = `warm${process.pid}p${parallel}`;
  const { repo, session, close } = await openSeededRepo(name, {
    "actorTemplates/one/schema.hrd": "note = type:str\n",
    "actorTemplates/one/actions.js": ACTIONS,
    "blueprints/1.yaml": "one__a:\n  note: x\n",
  });
  try {
    const result = await executeRepoRun(session, { parallel });
    assert.equal(result.run.state, "ok", JSON.stringify(result.jobs.map((j) => j.error)));
    return Number(await readFile(join(repo.path, "threads.txt"), "utf8"));
  } finally {
    await close();
  }
}

describe("a run's workers", () => {
  it("are as many as its due services at most: one due job at parallel 20 starts one worker", async () => {
    const one = await threadsBesideOneJob(1);
    const twenty = await threadsBesideOneJob(20);
    // 19 workers more would be 19 threads more; a few threads of the runtime's own may come
    // and go between the two runs.
    assert.ok(twenty - one < 10, `${twenty} threads at parallel 20 against ${one} at parallel 1`);
  });
});
