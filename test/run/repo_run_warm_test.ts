/**
 * A run starts only as many workers as the due index has services: one due job at parallel 20
 * runs beside as many worker threads as at parallel 1, not 19 more. The job counts its
 * process's Web Worker threads by name (`Worker` under Bun, `worker-<n>` under Deno): the
 * runtimes' other threads come and go with the load (Deno's I/O pool grew by ten in one run).
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { executeRepoRun } from "../../src/run/repo_run.ts";
import { openSeededRepo } from "./repo_fixture.ts";

const ACTIONS = `import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
const isWorker = (task) => {
  try {
    return /^(Worker|worker-[0-9]+)$/.test(readFileSync("/proc/self/task/" + task + "/comm", "utf8").trim());
  } catch {
    return false; // the thread ended meanwhile
  }
};
export function install(job) {
  const workers = readdirSync("/proc/self/task").filter(isWorker).length;
  writeFileSync(join(job.repo.path, "threads.txt"), String(workers));
}
`;

/** Runs the one due job of a fresh repository at `parallel`; the worker threads it ran beside. */
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
    assert.ok(one >= 1, `the job's own worker is counted (${one})`);
    // 19 workers more would be 19 more; one other worker (the mirror's) may come or go.
    assert.ok(twenty - one <= 1, `${twenty} workers at parallel 20 against ${one} at parallel 1`);
  });
});
