/**
 * The fleet (docs/fleet.md) against the local pool, in the same run: 120 jobs × 500 ms through
 * 1, 2 and 4 `ays worker` processes of concurrency 10 (ideal 6.0, 3.0, 1.5 s) and through a local
 * pool of 10 (ideal 6.0 s); 2,000 no-op jobs through the 4-worker fleet and through the local pool
 * (jobs/s). The coordinator is the fleet's job runner with every job in flight at once, as a run
 * with `--parallel` ≥ the jobs hands them over. A private Redis on loopback; workers started from
 * the sources (`--launch bun|deno`, default bun) or `dist/ays` (`--launch binary`).
 *
 * Usage: `bun bench/fleet.ts [--rounds N] [--launch bun|deno|binary]` (or `deno run -A …`).
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { fleetConnection, FleetRunner, listWorkers } from "../src/fleet/mod.ts";
import { type JobRequest, type JobRunner, WorkerPool } from "../src/run/mod.ts";
import { runtimeName } from "../src/runtime.ts";
import { openRedisDriver } from "../src/store/mod.ts";
import { type AysLaunch, makeTempDir, startRedis, until, writeFiles } from "../test/helpers/mod.ts";
import { spawnWorker, type WorkerProcess } from "../test/fleet/fleet_fixture.ts";
import { printTable, type Row, stats, writeResults } from "./stats.ts";

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const rounds = Number(arg("--rounds", "2"));
const launch = arg("--launch", "bun") as AysLaunch;
const SLEEP_JOBS = 120;
const SLEEP_MS = 500;
const NOOP_JOBS = 2000;
const CONCURRENCY = 10;

const dir = await makeTempDir("ays-bench-fleet-");
const actionsPath = join(dir.path, "actorTemplates", "bench", "actions.ts");
await writeFiles(dir.path, {
  "actorTemplates/bench/actions.ts": `
export async function sleep(job) { await new Promise((r) => setTimeout(r, job.args.ms)); }
export function noop() {}
`,
});

let serial = 0;
function request(action: string, args: Record<string, unknown> = {}): JobRequest {
  const n = ++serial;
  return {
    actionsPath,
    action,
    args,
    runId: "bench",
    attempt: 1,
    repo: { name: "bench", path: dir.path },
    // One service per job: the fleet keeps one job per service/action with it.
    service: {
      name: `s${n}`,
      actor: "bench",
      role: "bench",
      key: `k${n}`,
      data: {},
      parent: null,
      producers: {},
      consumers: [],
    },
    secrets: [],
  };
}

/** Seconds for `count` jobs of `action`, all handed to `runner` at once. */
async function batch(
  runner: JobRunner,
  count: number,
  action: string,
  args: Record<string, unknown> = {},
): Promise<number> {
  const requests = Array.from({ length: count }, () => request(action, args));
  const started = performance.now();
  const outcomes = await Promise.all(requests.map((r) => runner.run(r, { timeoutMs: 60_000 })));
  const seconds = (performance.now() - started) / 1000;
  const failed = outcomes.filter((o) => !o.ok);
  if (failed.length > 0) {
    throw new Error(`${failed.length} jobs failed: ${failed[0].error?.message}`);
  }
  return seconds;
}

/** CPU seconds (user + sys) of a process by pid, from /proc (Linux); null elsewhere. */
function processCpu(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    // utime and stime, fields 14 and 15 of stat(5), in clock ticks (100 per second here).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** Redis' own CPU seconds and the commands it ran, by command (scripts' inner ones too). */
async function redisCosts(): Promise<{ cpu: number; calls: Record<string, number> }> {
  const cpu = String(await client.info("cpu"));
  const used = (name: string) => Number(new RegExp(`${name}:([0-9.]+)`).exec(cpu)?.[1] ?? 0);
  const calls: Record<string, number> = {};
  for (
    const m of String(await client.info("commandstats")).matchAll(/cmdstat_([^:]+):calls=(\d+)/g)
  ) {
    calls[m[1]] = Number(m[2]);
  }
  return { cpu: used("used_cpu_user") + used("used_cpu_sys"), calls };
}

/** What `count` jobs cost: CPU ms per job of the coordinator, the workers and Redis; Redis calls. */
async function costs<T>(count: number, body: () => Promise<T>) {
  const before = {
    redis: await redisCosts(),
    self: process.cpuUsage(),
    workers: workers.map((w) => processCpu(w.child.pid)),
  };
  const value = await body();
  const self = process.cpuUsage(before.self);
  const redisAfter = await redisCosts();
  const workerCpu = workers.map((w, i) =>
    (processCpu(w.child.pid) ?? NaN) - (before.workers[i] ?? NaN)
  );
  const calls: Record<string, number> = {};
  for (const [name, n] of Object.entries(redisAfter.calls)) {
    const d = n - (before.redis.calls[name] ?? 0);
    // INFO itself is the measurement's own call.
    if (d > 0 && name !== "info") calls[name] = Math.round((d / count) * 100) / 100;
  }
  const perJob = (s: number) => Math.round((s * 1000 / count) * 1000) / 1000;
  return {
    value,
    cpuMsPerJob: {
      coordinator: perJob((self.user + self.system) / 1e6),
      workers: perJob(workerCpu.reduce((a, b) => a + b, 0)),
      redis: perJob(redisAfter.cpu - before.redis.cpu),
    },
    redisCallsPerJob: calls,
  };
}

/**
 * The commands clients sent Redis for `count` jobs (what MONITOR shows, less what scripts ran
 * inside Redis), by name, per job: the round trips of the fleet. Not timed — MONITOR slows
 * Redis down.
 */
async function roundTrips(count: number, body: () => Promise<unknown>) {
  const monitor = await client.monitor();
  const calls: Record<string, number> = {};
  monitor.on("monitor", (_time: string, args: string[], source: string) => {
    if (source === "lua") return;
    const name = String(args[0]).toLowerCase();
    calls[name] = (calls[name] ?? 0) + 1;
  });
  await body();
  // What was sent before the last outcome came back was shown before it: a moment for the last.
  await new Promise((resolve) => setTimeout(resolve, 200));
  monitor.disconnect();
  const perJob: Record<string, number> = {};
  for (const [name, n] of Object.entries(calls)) {
    if (name !== "monitor") perJob[name] = Math.round((n / count) * 100) / 100;
  }
  return perJob;
}

const redis = await startRedis({ appendonly: false });
const store = await openRedisDriver(redis.url, { namespace: "bench" });
const client = await fleetConnection(redis.url);
const fleet = await FleetRunner.open(redis.url, { repo: "bench", store, router: () => "default" });
const rows: Row[] = [];
const results: Record<string, unknown> = {};
const workers: WorkerProcess[] = [];

try {
  const local = new WorkerPool({ size: CONCURRENCY });
  await local.warm();
  await batch(local, 20, "noop");
  // The first round of no-op jobs on fresh processes pays for the JIT: reported apart.
  results.localNoopFirst = NOOP_JOBS / await batch(local, NOOP_JOBS, "noop");
  const localSleep: number[] = [];
  const localNoop: number[] = [];
  for (let r = 0; r < rounds; r++) {
    localSleep.push(await batch(local, SLEEP_JOBS, "sleep", { ms: SLEEP_MS }));
    localNoop.push(NOOP_JOBS / await batch(local, NOOP_JOBS, "noop"));
  }
  await local.close();
  rows.push({
    name: `local pool ${CONCURRENCY}: 120 × 500 ms`,
    stats: stats(localSleep),
    unit: "s",
  });
  results.localSleep = stats(localSleep);

  for (const count of [1, 2, 4]) {
    while (workers.length < count) {
      workers.push(
        spawnWorker(redis.url, `bench-${workers.length + 1}`, {
          concurrency: CONCURRENCY,
          launch,
          env: { XDG_CACHE_HOME: join(dir.path, "cache", String(workers.length)) },
        }),
      );
    }
    await until(async () => (await listWorkers(client)).filter((w) => w.live).length === count, {
      what: `${count} workers`,
      timeoutMs: 120_000,
    });
    await batch(fleet, 40, "noop"); // every worker has the template cached and its pool warm
    const times: number[] = [];
    for (let r = 0; r < rounds; r++) {
      times.push(await batch(fleet, SLEEP_JOBS, "sleep", { ms: SLEEP_MS }));
    }
    const ideal = (SLEEP_JOBS * SLEEP_MS) / 1000 / (count * CONCURRENCY);
    const s = stats(times);
    rows.push({ name: `fleet ${count} × ${CONCURRENCY}: 120 × 500 ms`, stats: s, unit: "s" });
    results[`fleet${count}`] = { ...s, ideal, efficiency: ideal / s.median };
  }
  results.fleetNoopFirst = NOOP_JOBS / await batch(fleet, NOOP_JOBS, "noop");
  const fleetNoop: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const measured = await costs(NOOP_JOBS, () => batch(fleet, NOOP_JOBS, "noop"));
    fleetNoop.push(NOOP_JOBS / measured.value);
    // The last round's costs (the rounds differ little).
    results.noopCosts = {
      cpuMsPerJob: measured.cpuMsPerJob,
      redisCallsPerJob: measured.redisCallsPerJob,
    };
  }
  results.roundTripsPerJob = await roundTrips(500, () => batch(fleet, 500, "noop"));
  rows.push({
    name: `fleet 4 × ${CONCURRENCY}: 2,000 no-op jobs, first round`,
    stats: stats([results.fleetNoopFirst as number]),
    unit: "jobs/s",
  });
  rows.push({
    name: `fleet 4 × ${CONCURRENCY}: 2,000 no-op jobs`,
    stats: stats(fleetNoop),
    unit: "jobs/s",
  });
  rows.push({
    name: `local pool ${CONCURRENCY}: 2,000 no-op jobs, first round`,
    stats: stats([results.localNoopFirst as number]),
    unit: "jobs/s",
  });
  rows.push({
    name: `local pool ${CONCURRENCY}: 2,000 no-op jobs`,
    stats: stats(localNoop),
    unit: "jobs/s",
  });
  results.fleetNoop = stats(fleetNoop);
  results.localNoop = stats(localNoop);
  printTable(`fleet vs local pool (${runtimeName()}, workers: ${launch})`, rows);
  for (const count of [1, 2, 4]) {
    const r = results[`fleet${count}`] as { ideal: number; efficiency: number };
    console.log(
      `fleet ${count} workers: ideal ${r.ideal.toFixed(1)} s, efficiency ${
        r.efficiency.toFixed(2)
      }`,
    );
  }
  const c = results.noopCosts as {
    cpuMsPerJob: Record<string, number>;
    redisCallsPerJob: Record<string, number>;
  };
  const total = Object.values(c.redisCallsPerJob).reduce((a, b) => a + b, 0);
  console.log(
    `fleet no-op job: CPU ms per job ${JSON.stringify(c.cpuMsPerJob)}; Redis commands per job ${
      total.toFixed(1)
    } ${JSON.stringify(c.redisCallsPerJob)}`,
  );
  const trips = results.roundTripsPerJob as Record<string, number>;
  const tripTotal = Object.values(trips).reduce((a, b) => a + b, 0);
  console.log(
    `fleet no-op job: commands sent to Redis per job ${tripTotal.toFixed(2)} ${
      JSON.stringify(trips)
    }`,
  );
  console.log(`wrote ${await writeResults("fleet", { launch, rounds, ...results })}`);
} finally {
  for (const w of workers) w.child.kill("SIGTERM");
  for (const w of workers) await w.exited;
  await fleet.close();
  client.disconnect();
  await store.close();
  await redis.close();
  await dir.remove();
}
