/**
 * The Redis store's write path of a run (docs/benchmarks.md, "Redis"), without the run: the
 * units a run's jobs submit — for each job a start (its service record, guarded on the bytes
 * it holds, its job record, its due index entry removed) and an end (service and job again) —
 * committed through the write group (`src/store/write_group.ts`) over the Redis driver, by 20
 * jobs at a time as `ays run --parallel 20` does. Measures units per second, this process's
 * CPU and the redis-server's CPU (`INFO cpu`), per 2,000 jobs. A private redis-server from the
 * test helpers (AOF on, as `docs/store.md` asks).
 *
 * Then an apply's write and a run's read at scale: one batch of `--apply` services (10,000), each
 * guarded absent, its record (~700 bytes) and its index entry set — what `ays blueprint` of a
 * new repository sends — and one `getByPrefix` of them, each in a namespace of its own.
 *
 * Beside the units, the event log's appends a run makes: two events per unit (~100–200 bytes of
 * JSON each), appended 80 at a time, one append in flight (docs/events.md).
 * `--detail` also prints where the server's time went, per command at the top level and inside
 * the scripts (from `SLOWLOG` with every command logged: wall time inside the server, which a
 * loaded machine inflates).
 *
 * `--server URL` uses a running redis-server instead of a private one (e.g. one under
 * `valgrind --tool=callgrind`, whose instruction counts do not depend on the machine's load); its
 * namespaces are new ones, named by the time.
 *
 * Usage: `bun bench/redis_writes.ts [--jobs N] [--parallel N] [--rounds N] [--apply N]
 * [--detail] [--server URL]` (or `deno run -A bench/redis_writes.ts`); `--apply 0` leaves the
 * second part out.
 *
 * @module
 */
import { loadavg } from "node:os";
import process from "node:process";
import { Redis } from "ioredis";
import type { BatchGuard, BatchOp } from "../src/store/driver.ts";
import { openRedisDriver } from "../src/store/redis.ts";
import { WriteGroup } from "../src/store/write_group.ts";
import { runtimeName } from "../src/runtime.ts";
import { startRedis } from "../test/helpers/mod.ts";
import { printTable, type Row, stats, writeResults } from "./stats.ts";

function argument(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

const jobs = argument("--jobs", 2000);
const parallel = argument("--parallel", 20);
const rounds = argument("--rounds", 5);
const applied = argument("--apply", 10_000);
const detail = process.argv.includes("--detail");
const serverAt = process.argv.indexOf("--server");
const serverUrl = serverAt > 0 ? process.argv[serverAt + 1] : undefined;
/** Namespaces of their own on a server given with `--server`. */
const tag = serverUrl ? `-${Date.now()}` : "";

/** Record-sized bytes (a job's service is ~680 bytes, its job record ~250), varying by `seed`. */
function bytes(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (seed * 31 + i * 7) & 0xff;
  return out;
}

/** Microseconds the server spent in the batch scripts so far (`INFO commandstats`). */
async function scriptUs(admin: Redis): Promise<number> {
  const info = await admin.info("commandstats");
  let total = 0;
  for (const match of info.matchAll(/cmdstat_eval(?:sha)?:calls=\d+,usec=(\d+)/g)) {
    total += Number(match[1]);
  }
  return total;
}

/** The server's CPU seconds so far (user + system). */
async function serverCpu(admin: Redis): Promise<number> {
  const info = await admin.info("cpu");
  const field = (name: string) => Number(new RegExp(`${name}:([0-9.]+)`).exec(info)?.[1] ?? 0);
  return field("used_cpu_user") + field("used_cpu_sys");
}

/** One `SLOWLOG GET` entry: id, when, microseconds, the command and its arguments, client. */
type SlowEntry = [number, number, number, string[], string, string];
/** Microseconds per command over the rounds: `top EVALSHA <sha>` or `in script MSET` … */
const inServer = new Map<string, number[]>();

function commandTimes(entries: SlowEntry[]): void {
  const round = new Map<string, [number, number]>();
  for (const [, , us, args, client] of entries) {
    const name = args[0].toUpperCase();
    if (name === "SLOWLOG" || name === "INFO") continue;
    // Commands of a script have no client address: Redis logs them as "?:0".
    const where = client === "?:0" ? "in script" : "top";
    const what = `${where} ${name}${name === "EVALSHA" ? " " + args[1].slice(0, 8) : ""}`;
    const [calls, sum] = round.get(what) ?? [0, 0];
    round.set(what, [calls + 1, sum + us]);
  }
  for (const [what, [calls, sum]] of round) {
    inServer.set(what, [...(inServer.get(what) ?? []), sum / 1000, calls]);
  }
}

const redis = serverUrl ? { url: serverUrl, close: () => Promise.resolve() } : await startRedis();
const admin = new Redis(redis.url);
if (detail) {
  await admin.config("SET", "slowlog-log-slower-than", "0");
  await admin.config("SET", "slowlog-max-len", "1000000");
}
const rows = {
  wallMs: [] as number[],
  cpuMs: [] as number[],
  serverMs: [] as number[],
  scriptMs: [] as number[],
  batches: [] as number[],
  appends: [] as number[],
};
/** The apply-sized batch and the read of its services, per round. */
const big = {
  writeMs: [] as number[],
  writeCpuMs: [] as number[],
  writeServerMs: [] as number[],
  readMs: [] as number[],
  readCpuMs: [] as number[],
  readServerMs: [] as number[],
};
try {
  const driver = await openRedisDriver(redis.url, { namespace: `bench${tag}` });
  await driver.setLayoutVersion(3);
  // The services as a blueprint left them, with their due index entries.
  const services = new Map<string, Uint8Array>();
  const setup: BatchOp[] = [];
  for (let i = 0; i < jobs; i++) {
    const key = `service:${String(i).padStart(32, "0")}`;
    services.set(key, bytes(680, i));
    setup.push({ op: "set", key, value: services.get(key)! });
    setup.push({ op: "set", key: `idx:due:${i}`, value: new Uint8Array(0) });
  }
  await driver.batch(setup);
  let batches = 0;
  const counted = {
    batch: (ops: Iterable<BatchOp>, options?: { guards?: BatchGuard[] }) => {
      batches++;
      return driver.batch(ops, options);
    },
  };
  for (let round = 1; round <= rounds; round++) {
    const group = new WriteGroup(counted);
    batches = 0;
    // The event log's appends beside the units, 80 events each (what the event writer gathers
    // in 10 ms of a run's on a quiet machine): by count, not by time, so that the work is the
    // same however fast the server is.
    let events: string[] = [];
    let appends = 0;
    let appending = Promise.resolve();
    const append = () => {
      const data = events;
      events = [];
      appends++;
      appending = appending.then(() => driver.appendEvents(data).then(() => {}));
    };
    const unit = async (i: number, phase: number) => {
      const key = `service:${String(i).padStart(32, "0")}`;
      const next = bytes(680, i * 3 + phase + round * 7);
      const ops: BatchOp[] = [
        { op: "set", key, value: next },
        { op: "set", key: `job:r${round}.${i}`, value: bytes(250, i + phase) },
      ];
      if (phase === 1) ops.push({ op: "delete", key: `idx:due:${i}` });
      const ok = await group.submit(ops, [{ key, value: services.get(key)! }]);
      if (!ok) throw new Error(`unit ${i}/${phase}: its guard did not hold`);
      services.set(key, next);
      const time = new Date().toISOString();
      events.push(
        JSON.stringify({ type: "job.state", runId: `r${round}`, job: i, phase, time }),
        JSON.stringify({ type: "service.state", service: key, action: "install", time }),
      );
      if (events.length >= 80) append();
    };
    let next = 0;
    const lane = async () => {
      while (next < jobs) {
        const i = next++;
        await unit(i, 1);
        await unit(i, 2);
      }
    };
    const server0 = await serverCpu(admin);
    const script0 = await scriptUs(admin);
    if (detail) await admin.slowlog("RESET");
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    await Promise.all(Array.from({ length: parallel }, lane));
    if (events.length > 0) append();
    await appending;
    const wall = performance.now() - start;
    const cpu = process.cpuUsage(cpu0);
    const server = await serverCpu(admin) - server0;
    rows.wallMs.push(wall);
    rows.cpuMs.push((cpu.user + cpu.system) / 1000);
    rows.serverMs.push(server * 1000);
    rows.scriptMs.push((await scriptUs(admin) - script0) / 1000);
    rows.batches.push(batches);
    rows.appends.push(appends);
    if (detail) commandTimes(await admin.slowlog("GET", -1) as SlowEntry[]);
    // The due entries again, for the next round.
    await driver.batch(
      Array.from({ length: jobs }, (_, i) => ({
        op: "set" as const,
        key: `idx:due:${i}`,
        value: new Uint8Array(0),
      })),
    );
  }
  await driver.close();
  for (let round = 1; applied > 0 && round <= rounds; round++) {
    const store = await openRedisDriver(redis.url, { namespace: `apply${round}${tag}` });
    await store.setLayoutVersion(3);
    const ops: BatchOp[] = [];
    const guards: BatchGuard[] = [];
    for (let i = 0; i < applied; i++) {
      const id = String(i * 7919 + round).padStart(32, "0");
      guards.push({ key: `service:${id}`, value: null });
      ops.push({ op: "set", key: `service:${id}`, value: bytes(700, i + round) });
      ops.push({ op: "set", key: `idx:actor:node.ssh:${id}`, value: new Uint8Array(0) });
    }
    const measure = async (what: () => Promise<unknown>) => {
      const server0 = await serverCpu(admin);
      const cpu0 = process.cpuUsage();
      const start = performance.now();
      await what();
      const wall = performance.now() - start;
      const cpu = process.cpuUsage(cpu0);
      return [wall, (cpu.user + cpu.system) / 1000, (await serverCpu(admin) - server0) * 1000];
    };
    const [w, c, s] = await measure(async () => {
      if (!await store.batch(ops, { guards })) throw new Error("the apply's guards did not hold");
    });
    big.writeMs.push(w);
    big.writeCpuMs.push(c);
    big.writeServerMs.push(s);
    const [rw, rc, rs] = await measure(async () => {
      const read = await store.getByPrefix("service:");
      if (read.length !== applied) throw new Error(`read ${read.length} of ${applied}`);
    });
    big.readMs.push(rw);
    big.readCpuMs.push(rc);
    big.readServerMs.push(rs);
    await store.close();
  }
} finally {
  admin.disconnect();
  await redis.close();
}

const table: Row[] = [
  { name: `${jobs} jobs (start + end), wall`, stats: stats(rows.wallMs), unit: "ms" },
  { name: "jobs/s", stats: stats(rows.wallMs.map((ms) => jobs / (ms / 1000))), unit: "jobs/s" },
  { name: "this process CPU", stats: stats(rows.cpuMs), unit: "ms" },
  { name: "redis-server CPU", stats: stats(rows.serverMs), unit: "ms" },
  { name: "  of it in the scripts", stats: stats(rows.scriptMs), unit: "ms" },
  { name: "batches (script calls)", stats: stats(rows.batches), unit: "" },
  { name: "event log appends", stats: stats(rows.appends), unit: "" },
];
printTable(
  `Redis write path: ${jobs} jobs, parallel ${parallel}, ${runtimeName()} (load ${
    loadavg()[0].toFixed(2)
  })`,
  table,
);
if (detail) {
  const pick = (series: number[], odd: number) => series.filter((_, i) => i % 2 === odd);
  const detailRows: Row[] = [...inServer]
    .sort(([, a], [, b]) => stats(pick(b, 0)).median - stats(pick(a, 0)).median)
    .flatMap(([what, series]) => [
      { name: what, stats: stats(pick(series, 0)), unit: "ms" },
      { name: "  calls", stats: stats(pick(series, 1)), unit: "" },
    ]);
  printTable(
    "Where the server's time went, per round (SLOWLOG, wall time inside redis)",
    detailRows,
  );
}
const bigTable: Row[] = applied > 0
  ? [
    { name: `one batch of ${applied} services, wall`, stats: stats(big.writeMs), unit: "ms" },
    { name: "  this process CPU", stats: stats(big.writeCpuMs), unit: "ms" },
    { name: "  redis-server CPU", stats: stats(big.writeServerMs), unit: "ms" },
    { name: `getByPrefix of ${applied} services, wall`, stats: stats(big.readMs), unit: "ms" },
    { name: "  this process CPU", stats: stats(big.readCpuMs), unit: "ms" },
    { name: "  redis-server CPU", stats: stats(big.readServerMs), unit: "ms" },
  ]
  : [];
if (applied > 0) {
  printTable(`An apply's batch and a plan's read (load ${loadavg()[0].toFixed(2)})`, bigTable);
}
await writeResults(`redis_writes-${runtimeName()}`, {
  jobs,
  parallel,
  applied,
  load: loadavg(),
  rows: table,
  apply: bigTable,
});
