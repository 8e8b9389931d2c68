/**
 * A job outside a run (the daemon's recurring actions, `runServiceJob`) masks the secret
 * fields of the services it sees — its parent's, producers' — in its stored log, result and
 * error, as a run's job does; on SQLite and on a private Redis with real workers.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { applyBlueprints, listBlueprints, readBlueprintFiles } from "../../src/blueprint/mod.ts";
import { loadRepoActors } from "../../src/repo/mod.ts";
import { WorkerPool } from "../../src/run/pool.ts";
import { runServiceJob } from "../../src/run/service_job.ts";
import { openRepositoryStore } from "../../src/store/open.ts";
import type { RepoStore, StoreDriver } from "../../src/store/mod.ts";
import { makeTempRepo, type RedisServer, startRedis, type TempDir } from "../helpers/mod.ts";

const ACTIONS = `
export function monitor(job) {
  const pw = job.service.parent.data.adminPassword;
  job.log("parent password " + pw);
  job.log("producer password " + job.service.producers.db[0].data.dbPassword);
  if (job.service.name === "bad") throw new Error("failed with " + pw);
  return { seen: pw };
}
`;

const FILES = {
  "actorTemplates/node/schema.hrd": "adminPassword = type:str secret\n",
  "actorTemplates/db/schema.hrd": "dbPassword = type:password\n",
  "actorTemplates/app/schema.hrd": "node = type:str parent:node\ndb = consume:db:1:1\n",
  "actorTemplates/app/actions.js": ACTIONS,
  "actorTemplates/app/actor.yaml": "actions:\n  monitor: {}\n",
  "blueprints/a.yaml": [
    "node__n1:\n  adminPassword: NODE-ADMIN-PW\n",
    "db__d1:\n  dbPassword: DB-SECRET-PW\n",
    "app__good:\n  node: n1\n  db: d1\n",
    "app__bad:\n  node: n1\n  db: d1\n",
  ].join(""),
};

for (const backend of ["sqlite", "redis"] as const) {
  describe(`a job outside a run masks related services' secrets (${backend})`, () => {
    let redis: RedisServer | undefined;
    let repo: TempDir;
    let store: RepoStore;
    let driver: StoreDriver;
    let pool: WorkerPool;
    const name = `sjs-${backend}`;

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
        mirror: true,
      });
      ({ store, driver } = opened);
      await store.save({ actors: [...actors.values()], services: change.created });
      pool = new WorkerPool({ size: 1 });
    });
    after(async () => {
      await pool?.close();
      await driver?.close();
      await redis?.close();
      await repo?.remove();
    });

    const run = async (instance: string) => {
      const service = (await store.loadServiceByName("app", instance))!;
      const session = { store, repo: { name, path: repo.path } };
      return await runServiceJob(session, { service, action: "monitor" }, {
        pool,
        runId: `r-${instance}`,
        jobId: `j-${instance}`,
      });
    };

    it("in the log and the result", async () => {
      const job = await run("good");
      assert.equal(job.state, "ok", JSON.stringify(job.error));
      assert.deepEqual(job.result, { seen: "***" });
      assert.deepEqual(await store.readJobLog(job.id), [
        "[info] parent password ***",
        "[info] producer password ***",
      ]);
    });

    it("in the error", async () => {
      const job = await run("bad");
      assert.equal(job.state, "error");
      assert.equal(job.error?.message, "failed with ***");
      assert.ok(!(job.error?.stack ?? "").includes("NODE-ADMIN-PW"));
      const log = (await store.readJobLog(job.id)).join("\n");
      assert.doesNotMatch(log, /NODE-ADMIN-PW|DB-SECRET-PW/);
    });
  });
}
