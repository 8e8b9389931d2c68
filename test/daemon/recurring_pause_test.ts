/**
 * Recurring actions respect the lifecycle, through the daemon's store backend on SQLite and a
 * private Redis with real workers: `monitor` runs while `start` is ok, makes no job after a
 * successful `stop` (until the next `start`) nor for a deleted service. The start times are
 * injected; the test counts the recorded jobs, never ticks of real time.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { applyBlueprints, listBlueprints, readBlueprintFiles } from "../../src/blueprint/mod.ts";
import {
  loadRecurringJobs,
  type ServedRepo,
  storeLoadServices,
  storeRunRecurring,
} from "../../src/daemon/store_backend.ts";
import { onActionSucceeded } from "../../src/model/schedule.ts";
import { loadRepoActors } from "../../src/repo/mod.ts";
import { WorkerPool } from "../../src/run/pool.ts";
import { openRepositoryStore } from "../../src/store/open.ts";
import { makeTempRepo, type RedisServer, startRedis, type TempDir } from "../helpers/mod.ts";

const FILES = {
  "actorTemplates/web/schema.hrd": "count = type:int default:0\n",
  "actorTemplates/web/actions.js": `
export async function install(job) {}
export async function start(job) {}
export async function stop(job) {}
export async function monitor(job) {
  job.service.data.count = Number(job.service.data.count) + 1;
}
`,
  "blueprints/a.yaml": "web__w1:\n\nactions:\n  - action: monitor\n    recurring: 1s\n",
};

for (const backend of ["sqlite", "redis"] as const) {
  describe(`recurring actions respect the lifecycle (${backend})`, () => {
    let redis: RedisServer | undefined;
    let repo: TempDir;
    let served: ServedRepo;
    let pool: WorkerPool;
    const name = `rp-${backend}`;

    before(async () => {
      if (backend === "redis") redis = await startRedis();
      repo = await makeTempRepo({ name, files: FILES });
      const { actors } = await loadRepoActors(repo.path, { globalDirs: [] });
      const docs = await readBlueprintFiles(await listBlueprints(repo.path));
      const change = applyBlueprints(docs, { repoName: name, actors, services: [] });
      const opened = await openRepositoryStore({
        repoPath: repo.path,
        repoName: name,
        storeFlag: redis?.url,
        env: {},
      });
      // Installed and started, as after `ays run`.
      const services = change.created.map((service) => {
        let next = structuredClone(service);
        for (const action of ["init", "install", "start"]) {
          next = onActionSucceeded(next, action);
        }
        return next;
      });
      await opened.store.save({ actors: [...actors.values()], services });
      served = { name, path: repo.path, store: opened.store, driver: opened.driver };
      pool = new WorkerPool({ size: 1 });
    });
    after(async () => {
      await pool?.close();
      await served?.driver.close();
      await redis?.close();
      await repo?.remove();
    });

    it("runs monitor only while start is ok, never for a deleted service", async () => {
      const run = storeRunRecurring([served], { pool, history: 10 });
      const [target] = await storeLoadServices([served])();
      const key = target.service.key;
      const tick = (at: number) =>
        run(target, "monitor", { dueAt: at, startedAt: at, signal: new AbortController().signal });
      const jobs = async () =>
        (await loadRecurringJobs(served.store, "web!w1", "monitor")).map((j) => j.startedAt);
      const set = (action: string) =>
        served.store.updateService(key, (s) => onActionSucceeded(s, action));

      await tick(1000);
      assert.deepEqual(await jobs(), [1000]);
      await set("stop"); // `ays do stop` succeeded: start is new again
      await tick(2000);
      await tick(3000);
      assert.deepEqual(await jobs(), [1000], "monitor ran for a stopped service");
      assert.equal((await served.store.loadService(key))!.actions.monitor.state, "ok");
      await set("start");
      await tick(4000);
      assert.deepEqual(await jobs(), [1000, 4000]);
      await served.store.save({ deleteServices: [key] });
      await tick(5000);
      assert.deepEqual(await jobs(), [1000, 4000], "monitor ran for a deleted service");
    });
  });
}
