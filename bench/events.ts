/**
 * The event stream under load (docs/benchmarks.md, docs/events.md): a 2,000-job run of no-op
 * jobs through the store, as the daemon executes a queued run, with its events published, and
 *
 * (a) no event stream at all (the run engine alone);
 * (b) events stored, nobody listening;
 * (c) events stored and streamed by `GET /events` to 50 SSE clients (in another process, so
 *     that reading does not share this process's CPU).
 *
 * Reported: each mode's run time (recorded start to end), the slowdown of (c) against (b) and
 * of (b) against (a) (goal for (c) vs (b): < 5 %), and the events per second delivered to the
 * 50 clients together.
 *
 * Usage: `bun bench/events.ts [--rounds N]` (or `deno run -A bench/events.ts`).
 *
 * @module
 */
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { eventsRoute } from "../src/daemon/events_route.ts";
import { startHttpApi } from "../src/daemon/http.ts";
import { storeBackend } from "../src/daemon/store_backend.ts";
import { EventTail, openRepoEvents } from "../src/events/mod.ts";
import { newActionRecord } from "../src/model/schedule.ts";
import type { ActorRecord, ServiceRecord } from "../src/model/types.ts";
import { validateData } from "../src/model/validate.ts";
import { loadRepoActors } from "../src/repo/mod.ts";
import { executeRepoRun, type RunSession } from "../src/run/repo_run.ts";
import { runtimeName } from "../src/runtime.ts";
import { openRepositoryStore } from "../src/store/open.ts";
import { makeTempRepo, until } from "../test/helpers/mod.ts";
import { makeServiceRecord } from "../test/helpers/service_record.ts";
import { printTable, type Row, stats, writeResults } from "./stats.ts";

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};

const JOBS = 2000;
const CLIENTS = 50;

if (process.argv.includes("--clients")) {
  // The client side: N streams, each read until the run's end; prints what they got.
  const url = process.argv[process.argv.indexOf("--clients") + 1];
  const n = arg("--count", CLIENTS);
  // A lean reader: it counts messages in the raw stream and looks for the run's end, so the
  // clients, which share the machine with the run they measure, cost as little as they can.
  const responses = await Promise.all(Array.from({ length: n }, () => fetch(url)));
  console.log("ready");
  const counts = await Promise.all(responses.map(async (response) => {
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let events = 0;
    let first = 0;
    let carry = "";
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      if (first === 0) first = performance.now();
      const text = carry + decoder.decode(chunk.value, { stream: true });
      let at = text.indexOf("\ndata: ");
      while (at >= 0) {
        events++;
        at = text.indexOf("\ndata: ", at + 7);
      }
      // A message cut between two chunks is counted in the next one.
      const cut = text.lastIndexOf("\n\n");
      carry = cut >= 0 ? text.slice(cut + 2) : text;
      if (carry.includes("\ndata: ")) events -= (carry.match(/\ndata: /g) ?? []).length;
      if (text.includes('"type":"run.ended"')) break;
    }
    await reader.cancel().catch(() => {});
    return { events, first, last: performance.now() };
  }));
  const first = Math.min(...counts.map((c) => c.first));
  const last = Math.max(...counts.map((c) => c.last));
  const events = counts.reduce((sum, c) => sum + c.events, 0);
  console.log(JSON.stringify({ events, seconds: (last - first) / 1000 }));
  process.exit(0);
}

const rounds = arg("--rounds", 3);

const FILES = {
  "actorTemplates/noop/schema.hrd": "note = type:str\n",
  "actorTemplates/noop/actions.js": 'export function init(job) { job.log("done"); }\n',
};

function services(actor: ActorRecord, count: number): ServiceRecord[] {
  const data = validateData(actor.fields, {});
  return Array.from({ length: count }, (_, i) => {
    const records: ServiceRecord["actions"] = {};
    for (const action of actor.actionNames) {
      records[action] = { ...newActionRecord(), state: action === "init" ? "scheduled" : "new" };
    }
    return makeServiceRecord(actor, `s${String(i).padStart(5, "0")}`, {
      repo: "bench",
      data: structuredClone(data),
      actions: records,
    });
  });
}

type Mode = "none" | "stored" | "streamed";

/** One run of {@link JOBS} jobs in mode `mode`: its seconds, and what the clients got. */
async function round(mode: Mode): Promise<{ seconds: number; delivered?: number }> {
  const name = "bench";
  const repo = await makeTempRepo({ name, files: FILES });
  await writeFile(join(repo.path, ".ays", "config.yaml"), `name: ${name}\n`);
  const { actors } = await loadRepoActors(repo.path, { globalDirs: [] });
  const opened = await openRepositoryStore({ repoPath: repo.path, repoName: name, env: {} });
  const events = openRepoEvents(opened.driver, { repo: name });
  const tail = new EventTail(events.log, { bus: events.bus });
  const stream = eventsRoute(new Map([[name, { log: events.log, tail }]]));
  await tail.start();
  const api = await startHttpApi(
    storeBackend([{ name, path: repo.path, store: opened.store, driver: opened.driver }]),
    { listen: { host: "127.0.0.1", port: 0 }, routes: [stream.route] },
  );
  let clients: Promise<string> | null = null;
  try {
    await opened.store.save({
      actors: [...actors.values()],
      services: services(actors.get("noop")!, JOBS),
    });
    if (mode === "streamed") {
      const child = spawn(process.execPath, [
        ...(runtimeName() === "deno" ? ["run", "-A"] : []),
        fileURLToPath(import.meta.url),
        "--clients",
        `${api.url}/events?repo=${name}`,
        "--count",
        String(CLIENTS),
      ], { stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      child.stdout.on("data", (chunk) => (out += String(chunk)));
      clients = new Promise((resolve) => child.once("close", () => resolve(out)));
      await until(() => stream.clients() === CLIENTS, {
        what: "the SSE clients",
        timeoutMs: 60_000,
      });
    }
    const session: RunSession = {
      store: opened.store,
      driver: opened.driver,
      repo: { name, path: repo.path },
    };
    const result = await executeRepoRun(session, {
      parallel: 10,
      mirror: false,
      events: mode === "none" ? undefined : events.writer,
    });
    await events.writer.flush();
    if (result.run.state !== "ok" || result.jobs.length !== JOBS) {
      throw new Error(`run ended ${result.run.state} with ${result.jobs.length} jobs`);
    }
    const seconds = (result.run.endedAt! - result.run.startedAt!) / 1000;
    if (!clients) return { seconds };
    const got = JSON.parse((await clients).trim().split("\n").at(-1)!);
    return { seconds, delivered: got.events / got.seconds };
  } finally {
    stream.close();
    await tail.stop();
    await api.close();
    await opened.driver.close();
    await repo.remove();
  }
}

const times: Record<Mode, number[]> = { none: [], stored: [], streamed: [] };
const delivered: number[] = [];
for (let i = 0; i < rounds; i++) {
  // Interleaved, so a change in the machine's load hits every mode alike.
  for (const mode of ["none", "stored", "streamed"] as const) {
    const result = await round(mode);
    times[mode].push(result.seconds);
    if (result.delivered !== undefined) delivered.push(result.delivered);
  }
}
const median = (values: number[]) => stats(values).median;
const slowdown = (a: number[], b: number[]) => (median(a) / median(b) - 1) * 100;
const rows: Row[] = [
  { name: "(a) 2,000 jobs, no events", stats: stats(times.none), unit: "s" },
  { name: "(b) events stored, no clients", stats: stats(times.stored), unit: "s" },
  { name: "(c) events to 50 SSE clients", stats: stats(times.streamed), unit: "s" },
  { name: "delivered to the 50 clients", stats: stats(delivered), unit: "events/s" },
];
printTable(`the event stream, ${runtimeName()}, ${rounds} rounds`, rows);
const streamSlowdown = slowdown(times.streamed, times.stored);
const storeSlowdown = slowdown(times.stored, times.none);
console.log(
  `\nslowdown (c) vs (b): ${streamSlowdown.toFixed(1)} % (goal < 5 %); ` +
    `(b) vs (a): ${storeSlowdown.toFixed(1)} %`,
);
const path = await writeResults(`events_${runtimeName()}`, {
  measuredAt: new Date().toISOString(),
  rounds,
  jobs: JOBS,
  clients: CLIENTS,
  goal: { streamSlowdownPercent: 5 },
  runSeconds: {
    none: stats(times.none),
    stored: stats(times.stored),
    streamed: stats(times.streamed),
  },
  deliveredEventsPerSecond: stats(delivered),
  streamSlowdownPercent: streamSlowdown,
  storeSlowdownPercent: storeSlowdown,
  loadAverage: loadavg()[0],
});
console.log(`written ${path}`);
