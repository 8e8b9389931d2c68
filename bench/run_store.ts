/**
 * Runs through the store (docs/benchmarks.md), as `ays run` executes them: every job's start and end
 * recorded, every action state saved (with the readable mirror kept, as the CLI does), on the
 * repository's own SQLite store.
 *
 * (a) 2,000 no-op jobs: jobs/s from the run's start to its end as recorded (goal ≥ 1,000);
 * (b) 100 jobs that each wait 200 ms with parallel 20: the run's recorded start to end
 *     (goal ≤ 1.15 s; ideal 1.0 s);
 * (c) planning 10,000 services × 4 actions from the store: one bulk load + plan (goal < 0.5 s).
 *
 * Usage: `bun bench/run_store.ts [--rounds N]` (or `deno run -A bench/run_store.ts`).
 *
 * @module
 */
import { readFile, writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { newActionRecord } from "../src/model/schedule.ts";
import type { ActionState, ActorRecord, ServiceRecord } from "../src/model/types.ts";
import { validateData } from "../src/model/validate.ts";
import { loadRepoActors } from "../src/repo/mod.ts";
import { executeRepoRun, planRepoRun, type RunSession } from "../src/run/repo_run.ts";
import { runtimeName } from "../src/runtime.ts";
import { openRepositoryStore } from "../src/store/open.ts";
import { makeTempRepo } from "../test/helpers/mod.ts";
import { makeServiceRecord } from "../test/helpers/service_record.ts";
import { printTable, resultsDir, type Row, stats, writeResults } from "./stats.ts";

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const rounds = arg("--rounds", 5);

const FILES = {
  "actorTemplates/noop/schema.hrd": "note = type:str\nport = type:int default:80\n",
  "actorTemplates/noop/actions.js": "export function init() {}\n",
  "actorTemplates/wait/schema.hrd": "note = type:str\n",
  "actorTemplates/wait/actions.js":
    "export async function init() { await new Promise((r) => setTimeout(r, 200)); }\n",
};

/** `count` services of `actor`, with `actions` scheduled. */
function services(
  repo: string,
  actor: ActorRecord,
  count: number,
  actions: string[],
): ServiceRecord[] {
  const data = validateData(actor.fields, {});
  const out: ServiceRecord[] = [];
  for (let i = 0; i < count; i++) {
    const name = `s${String(i).padStart(5, "0")}`;
    const records: ServiceRecord["actions"] = {};
    for (const action of actor.actionNames) {
      const state: ActionState = actions.includes(action) ? "scheduled" : "new";
      records[action] = { ...newActionRecord(), state };
    }
    out.push(
      makeServiceRecord(actor, name, { repo, data: structuredClone(data), actions: records }),
    );
  }
  return out;
}

async function withRepo<T>(
  fn: (session: RunSession, actors: Map<string, ActorRecord>) => Promise<T>,
) {
  const name = "bench";
  const repo = await makeTempRepo({ name, files: FILES });
  // Run and job records would pile up across rounds otherwise; each round gets a fresh store.
  await writeFile(join(repo.path, ".ays", "config.yaml"), `name: ${name}\n`);
  const { actors } = await loadRepoActors(repo.path, { globalDirs: [] });
  const opened = await openRepositoryStore({
    repoPath: repo.path,
    repoName: name,
    env: {},
    mirror: true,
  });
  try {
    return await fn(
      { store: opened.store, driver: opened.driver, repo: { name, path: repo.path } },
      actors,
    );
  } finally {
    await opened.driver.close();
    await repo.remove();
  }
}

/** Runs `count` jobs of `actor` with `parallel`; returns the recorded start-to-end seconds. */
async function timedRun(actorName: string, count: number, parallel: number): Promise<number> {
  return await withRepo(async (session, actors) => {
    const actor = actors.get(actorName)!;
    await session.store.save({
      actors: [...actors.values()],
      services: services("bench", actor, count, ["init"]),
    });
    const result = await executeRepoRun(session, { parallel });
    if (result.run.state !== "ok" || result.jobs.length !== count) {
      throw new Error(`run ended ${result.run.state} with ${result.jobs.length} jobs`);
    }
    return (result.run.endedAt! - result.run.startedAt!) / 1000;
  });
}

const noop: number[] = [];
const waits: number[] = [];
const planning: number[] = [];
let planned = 0;
for (let round = 0; round < rounds; round++) {
  noop.push(2000 / (await timedRun("noop", 2000, 10)));
  waits.push(await timedRun("wait", 100, 20));
}
await withRepo(async (session, actors) => {
  const actor = actors.get("noop")!;
  await session.store.save({
    actors: [...actors.values()],
    services: services("bench", actor, 10_000, ["init", "install", "start", "monitor"]),
  });
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    const { plan } = await planRepoRun(session, { lockHeld: true });
    planning.push((performance.now() - started) / 1000);
    planned = plan.graph.nodes().length;
  }
});

const rows: Row[] = [
  { name: "(a) 2,000 no-op jobs, parallel 10", stats: stats(noop), unit: "jobs/s" },
  { name: "(b) 100 × 200 ms, parallel 20", stats: stats(waits), unit: "s (ideal 1.0)" },
  { name: `(c) plan 10,000 × 4 (${planned} jobs)`, stats: stats(planning), unit: "s" },
];
printTable(`runs through the store (sqlite, mirror on), ${runtimeName()}, ${rounds} rounds`, rows);
// One file for both runtimes: this runtime's figures replace its earlier ones.
let earlier: Record<string, unknown> = {};
try {
  earlier = JSON.parse(await readFile(join(resultsDir, "run_store.json"), "utf8")).runtimes ?? {};
} catch {
  // First measurement.
}
const path = await writeResults("run_store", {
  store: "sqlite",
  mirror: true,
  goals: { noopJobsPerSecond: 1000, wait100x200msSeconds: 1.15, plan10000x4Seconds: 0.5 },
  runtimes: {
    ...earlier,
    [runtimeName()]: {
      measuredAt: new Date().toISOString(),
      rounds,
      noopJobsPerSecond: stats(noop),
      wait100x200msSeconds: stats(waits),
      plan10000x4Seconds: stats(planning),
      plannedJobs: planned,
      loadAverage: loadavg()[0],
    },
  },
});
console.log(`\nwritten ${path}`);
