/**
 * Store benchmark (docs/benchmarks.md): write 10,000 service records, then load and list them, on the
 * embedded SQLite store and on a local Redis (a private redis-server from the test helpers).
 * "Load + list" is what `ays list --json` does: one bulk load of every service (records
 * decoded, data decoded with the actor's capnp schema) and the sorted list entries.
 * Goals: load + list < 0.5 s (SQLite), < 1 s (Redis).
 *
 * Usage: `bun bench/store.ts [--services N] [--runs N]` (also runs under `deno run -A`).
 *
 * @module
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { Redis } from "ioredis";
import { listEntry, sortServices } from "../src/model/views.ts";
import type { StoreDriver } from "../src/store/driver.ts";
import { openRedisDriver } from "../src/store/redis.ts";
import { openRepoStore } from "../src/store/repo_store.ts";
import { openSqliteDriver } from "../src/store/sqlite.ts";
import { runtimeName } from "../src/runtime.ts";
import { makeTempDir, startRedis } from "../test/helpers/mod.ts";
import { makeActor, makeService } from "../test/store/fixtures.ts";
import { printTable, type Stats, stats, writeResults } from "./stats.ts";

function argument(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

const count = argument("--services", 10_000);
const runs = argument("--runs", 7);
const repo = "bench";

/** 10 actors; every service but the first of an actor has a parent and a producer. */
function makeRecords() {
  const actors = Array.from({ length: 10 }, (_, i) => makeActor(`role${i}.kind`));
  const services = Array.from({ length: count }, (_, i) => {
    const actor = actors[i % actors.length];
    const parent = i >= actors.length ? `role0!svc${i % actors.length}` : null;
    return makeService(repo, actor, `svc${i}`, {
      parent,
      producers: parent ? { role0: [parent] } : {},
      data: {
        description: `service number ${i} of the benchmark`,
        sshPort: 2000 + (i % 1000),
        enabled: i % 2 === 0,
        tags: ["bench", `group${i % 50}`],
        password: "",
      },
    });
  });
  return { actors, services };
}

interface BackendResult {
  writeMs: number;
  /** One service by key with a warm store object (one query each), per call. */
  loadOneMs: Stats;
  /** `getMany` of 2,000 service keys (one query). */
  getManyMs: Stats;
  loadAndList: Stats;
  bulkReadOnly: Stats;
  listed: number;
  extra: Record<string, unknown>;
}

async function measure(
  open: () => Promise<StoreDriver>,
  extra: () => Promise<Record<string, unknown>>,
): Promise<BackendResult> {
  const { actors, services } = makeRecords();
  const writer = await open();
  const store = await openRepoStore(writer, { repoName: repo });
  const writeStart = performance.now();
  await store.save({ actors, services });
  const writeMs = performance.now() - writeStart;
  await writer.close();

  const times: number[] = [];
  const rawTimes: number[] = [];
  let listed = 0;
  for (let i = 0; i < runs; i++) {
    // A new connection and store object each time: nothing cached, as in a CLI call.
    const driver = await open();
    const start = performance.now();
    const reader = await openRepoStore(driver, { repoName: repo });
    const entries = sortServices(await reader.loadServices()).map(listEntry);
    times.push(performance.now() - start);
    listed = entries.length;
    const rawStart = performance.now();
    await driver.getByPrefix("service:");
    rawTimes.push(performance.now() - rawStart);
    await driver.close();
  }
  if (listed !== count) throw new Error(`listed ${listed} services, wrote ${count}`);
  const driver = await open();
  const reader = await openRepoStore(driver, { repoName: repo });
  await reader.loadActors();
  const oneTimes: number[] = [];
  for (let i = 0; i < 500; i++) {
    const service = services[(i * 7919) % services.length];
    const start = performance.now();
    const loaded = await reader.loadService(service.key);
    oneTimes.push(performance.now() - start);
    if (loaded?.name !== service.name) throw new Error(`loaded the wrong service`);
  }
  const manyTimes: number[] = [];
  const some = services.filter((_, i) => i % 5 === 0).map((s) => `service:${s.key}`);
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const values = await driver.getMany(some);
    manyTimes.push(performance.now() - start);
    if (values.some((value) => value === null)) throw new Error("getMany missed a service");
  }
  await driver.close();
  return {
    writeMs,
    loadOneMs: stats(oneTimes),
    getManyMs: stats(manyTimes),
    loadAndList: stats(times),
    bulkReadOnly: stats(rawTimes),
    listed,
    extra: await extra(),
  };
}

const dir = await makeTempDir("ays-bench-store-");
const redis = await startRedis();
try {
  const dbPath = join(dir.path, ".ays", "store.db");
  const sqlite = await measure(
    () => Promise.resolve(openSqliteDriver(dbPath, { namespace: repo })),
    () => {
      const size = (path: string) => {
        try {
          return statSync(path).size;
        } catch {
          return 0;
        }
      };
      return Promise.resolve({
        fileBytes: size(dbPath),
        walBytes: size(`${dbPath}-wal`),
      });
    },
  );
  const redisResult = await measure(
    () => openRedisDriver(redis.url, { namespace: repo }),
    async () => {
      const client = new Redis(redis.port, "127.0.0.1");
      const memory = /used_memory:(\d+)/.exec(await client.info("memory"))?.[1];
      const keys = await client.dbsize();
      client.disconnect();
      return { usedMemoryBytes: Number(memory), keys };
    },
  );

  printTable(`store: ${count} services, load + list, ${runs} runs (${runtimeName()})`, [
    { name: "sqlite load + list", stats: sqlite.loadAndList, unit: "ms" },
    { name: "sqlite bulk read only", stats: sqlite.bulkReadOnly, unit: "ms" },
    { name: "redis load + list", stats: redisResult.loadAndList, unit: "ms" },
    { name: "redis bulk read only", stats: redisResult.bulkReadOnly, unit: "ms" },
    { name: "sqlite load one service", stats: sqlite.loadOneMs, unit: "ms" },
    { name: "redis load one service", stats: redisResult.loadOneMs, unit: "ms" },
    { name: `sqlite getMany ${count / 5} keys`, stats: sqlite.getManyMs, unit: "ms" },
    { name: `redis getMany ${count / 5} keys`, stats: redisResult.getManyMs, unit: "ms" },
  ]);
  console.log(
    `write ${count} services in one batch: sqlite ${sqlite.writeMs.toFixed(0)} ms, ` +
      `redis ${redisResult.writeMs.toFixed(0)} ms`,
  );
  const mb = (n: unknown) => (Number(n) / 2 ** 20).toFixed(2);
  console.log(
    `sqlite file ${mb(sqlite.extra.fileBytes)} MiB (+ WAL ${mb(sqlite.extra.walBytes)} MiB); ` +
      `redis used_memory ${mb(redisResult.extra.usedMemoryBytes)} MiB, ` +
      `${redisResult.extra.keys} keys`,
  );
  console.log("goals: load + list < 500 ms (sqlite), < 1000 ms (redis)");
  // Bun writes store.json (the figure quoted); Deno its own file beside it.
  const path = await writeResults(runtimeName() === "deno" ? "store.deno" : "store", {
    runtime: runtimeName(),
    services: count,
    runs,
    sqlite,
    redis: redisResult,
    goals: { sqliteLoadAndListMs: 500, redisLoadAndListMs: 1000 },
  });
  console.log(`wrote ${path}`);
} finally {
  await redis.close();
  await dir.remove();
}
process.exit(0);
