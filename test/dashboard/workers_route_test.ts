/**
 * The dashboard's Workers tab data (docs/dashboard.md, "API"): `GET /ui/api/repos/{name}/workers`
 * over the daemon's real HTTP API, on a real Redis store with a registered worker — what
 * `ays workers --json` prints — and on SQLite, where it is 409 with the message the page shows.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type HttpApi, startHttpApi } from "../../src/daemon/http.ts";
import { type ServedRepo, storeBackend } from "../../src/daemon/mod.ts";
import { dashboard } from "../../src/dashboard/extension.ts";
import { fleetConnection } from "../../src/fleet/mod.ts";
import { putWorker, removeWorker, type WorkerInfo } from "../../src/fleet/registry.ts";
import { openRepositoryStore } from "../../src/store/open.ts";
import { makeTempRepo, type RedisServer, startRedis, type TempDir } from "../helpers/mod.ts";

describe("GET /ui/api/repos/{name}/workers", () => {
  let redis: RedisServer;
  let dir: TempDir;
  let api: HttpApi;
  const served: ServedRepo[] = [];

  before(async () => {
    redis = await startRedis();
    dir = await makeTempRepo();
    for (const [name, store] of [["onredis", redis.url], ["onsqlite", undefined]] as const) {
      const opened = await openRepositoryStore({
        repoPath: dir.path,
        repoName: name,
        storeFlag: store,
        env: {},
        mirror: false,
      });
      served.push({
        name,
        path: dir.path,
        store: opened.store,
        driver: opened.driver,
        ...(store ? { redisUrl: store } : {}),
      });
    }
    api = await startHttpApi(storeBackend(served), {
      listen: { host: "127.0.0.1", port: 0 },
      ...dashboard(served),
    });
  });
  after(async () => {
    await api?.close();
    for (const repo of served) await repo.driver.close();
    await redis?.close();
    await dir?.remove();
  });

  const get = async (path: string) => {
    const res = await fetch(api.url + path);
    return { status: res.status, body: await res.json() };
  };

  it("lists the fleet's workers as ays workers --json does, live or gone", async () => {
    const now = Date.now();
    const info: WorkerInfo = {
      name: "w-dash",
      host: "box1",
      pid: 4242,
      labels: ["db", "default"],
      concurrency: 3,
      running: 1,
      startedAt: now - 1000,
      heartbeat: now,
      instance: "inst-1",
      signed: true,
    };
    const client = await fleetConnection(redis.url);
    try {
      assert.deepEqual(await get("/ui/api/repos/onredis/workers"), { status: 200, body: [] });
      await putWorker(client, info);
      await putWorker(client, { ...info, name: "w-old", instance: "i2", heartbeat: now - 60_000 });
      const { status, body } = await get("/ui/api/repos/onredis/workers");
      assert.equal(status, 200);
      assert.deepEqual(body, [
        {
          name: "w-dash",
          host: "box1",
          pid: 4242,
          labels: ["db", "default"],
          concurrency: 3,
          running: 1,
          live: true,
          signed: true,
          startedAt: new Date(now - 1000).toISOString(),
          heartbeat: new Date(now).toISOString(),
        },
        {
          name: "w-old",
          host: "box1",
          pid: 4242,
          labels: ["db", "default"],
          concurrency: 3,
          running: 1,
          live: false,
          signed: true,
          startedAt: new Date(now - 1000).toISOString(),
          heartbeat: new Date(now - 60_000).toISOString(),
        },
      ]);
      await removeWorker(client, info);
    } finally {
      client.disconnect();
    }
  });

  it("a SQLite repository has no fleet: 409 with the message; unknown repository 404", async () => {
    const sqlite = await get("/ui/api/repos/onsqlite/workers");
    assert.equal(sqlite.status, 409);
    assert.match(
      sqlite.body.error.message,
      /^the fleet needs a Redis store shared with its workers/,
    );
    assert.equal((await get("/ui/api/repos/nope/workers")).status, 404);
  });
});
