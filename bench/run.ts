/**
 * The run engine without the store: planner, eager walker and Web Worker pool (docs/benchmarks.md).
 *
 * (a) 2,000 no-op jobs through pool + walker: jobs/s (goal ≥ 1,000);
 * (b) 100 jobs that each wait 200 ms with parallel 20: elapsed against the ideal 1.0 s
 *     (goal ≤ 1.15 s), with a warm pool and with the pool started inside the timing;
 * (c) planning 10,000 services × 4 actions (goal < 0.5 s);
 * (d) the eager walk against a step-barrier walk of the same skewed graph, as a ratio.
 *
 * Nothing is written to a store here, so these are upper bounds for `ays run`, which also
 * records every job's start and end.
 *
 * Usage: `bun bench/run.ts [--rounds N]` (or `deno run -A bench/run.ts`).
 *
 * @module
 */
import { join } from "node:path";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import type { ActionRecord, ActorRecord, PlannedJob, ServiceRecord } from "../src/model/types.ts";
import { DEFAULT_ACTIONS } from "../src/model/types.ts";
import { parseServiceName, roleOf, serviceKey, serviceName } from "../src/model/names.ts";
import { executePlan } from "../src/run/execute.ts";
import type { JobRequest } from "../src/run/job_protocol.ts";
import { type Plan, planRun } from "../src/run/plan.ts";
import { WorkerPool } from "../src/run/pool.ts";
import { runtimeName } from "../src/runtime.ts";
import { printTable, type Row, stats, writeResults } from "./stats.ts";

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const rounds = arg("--rounds", 5);

const ACTIONS = `
export function init() {}
export async function start(job) {
  await new Promise((resolve) => setTimeout(resolve, job.args.ms));
}
`;

function actor(name: string): ActorRecord {
  return {
    name,
    role: roleOf(name),
    templatePath: "",
    fields: [],
    capnpSchema: "",
    actionsPath: null,
    actionsHash: null,
    actionNames: [...DEFAULT_ACTIONS],
    config: { recurring: {}, actions: { start: { deps: [] } }, flists: {}, events: {} },
  };
}

function service(
  actorName: string,
  instance: string,
  states: Record<string, ActionRecord["state"]>,
): ServiceRecord {
  const role = roleOf(actorName);
  const actions: Record<string, ActionRecord> = {};
  for (const a of DEFAULT_ACTIONS) {
    actions[a] = { state: states[a] ?? "new", period: 0, lastRun: null, lastJob: null };
  }
  return {
    key: serviceKey("bench", role, instance),
    name: instance,
    actor: actorName,
    role,
    parent: null,
    producers: {},
    consumers: [],
    data: { n: instance },
    changed: false,
    actions,
    eventFilters: [],
  };
}

function requestFor(actionsPath: string, root: string, args: (job: PlannedJob) => object) {
  return (job: PlannedJob): JobRequest => {
    const { role, instance: name } = parseServiceName(job.service)!;
    return {
      actionsPath,
      action: job.action,
      args: args(job) as Record<string, unknown>,
      runId: "bench",
      repo: { name: "bench", path: root },
      service: {
        name,
        actor: role,
        role,
        key: job.service,
        data: {},
        parent: null,
        producers: {},
        consumers: [],
      },
    };
  };
}

/** `count` independent jobs of `action`. */
function flatPlan(count: number, action: string): Plan {
  const services = Array.from(
    { length: count },
    (_, i) => service("bench", `s${i}`, { [action]: "scheduled" }),
  );
  return planRun(services, [actor("bench")]);
}

const dir = await mkdtemp(join(tmpdir(), "ays-bench-run-"));
const actionsPath = join(dir, "actions.js");
await writeFile(actionsPath, ACTIONS);
const rows: Row[] = [];
const results: Record<string, unknown> = { runtime: runtimeName(), rounds, store: "none" };

try {
  // (a) no-op throughput.
  {
    const plan = flatPlan(2000, "init");
    const request = requestFor(actionsPath, dir, () => ({}));
    const rates: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const pool = new WorkerPool({ size: 10 });
      await pool.warm();
      const t0 = performance.now();
      const result = await executePlan(plan, { pool, request, onEvent: () => {} });
      const ms = performance.now() - t0;
      await pool.close();
      if (result.state !== "ok") throw new Error(`(a) run ended ${result.state}`);
      rates.push(2000 / (ms / 1000));
    }
    rows.push({ name: "(a) 2,000 no-op jobs, parallel 10", stats: stats(rates), unit: "jobs/s" });
    results.noopJobsPerSecond = stats(rates);
  }

  // (b) 100 × 200 ms with parallel 20: ideal 1.0 s.
  {
    const plan = flatPlan(100, "start");
    const request = requestFor(actionsPath, dir, () => ({ ms: 200 }));
    const warm: number[] = [];
    const cold: number[] = [];
    for (let r = 0; r < rounds; r++) {
      for (const mode of ["warm", "cold"] as const) {
        const pool = new WorkerPool({ size: 20 });
        if (mode === "warm") await pool.warm();
        const t0 = performance.now();
        const result = await executePlan(plan, { pool, request, onEvent: () => {} });
        const s = (performance.now() - t0) / 1000;
        await pool.close();
        if (result.state !== "ok") throw new Error(`(b) run ended ${result.state}`);
        (mode === "warm" ? warm : cold).push(s);
      }
    }
    rows.push({ name: "(b) 100 × 200 ms, parallel 20, warm pool", stats: stats(warm), unit: "s" });
    rows.push({ name: "(b) same, workers started in the run", stats: stats(cold), unit: "s" });
    results.waits100x200ms = { ideal: 1.0, warmPool: stats(warm), coldPool: stats(cold) };
  }

  // (c) planning 10,000 services × 4 actions, 1,000 parents with 9 children each.
  {
    const services: ServiceRecord[] = [];
    const actors = [actor("node.ssh"), actor("app")];
    actors[1].config.actions = {};
    actors[0].config.actions = {};
    const states = {
      init: "scheduled",
      install: "scheduled",
      start: "scheduled",
      monitor: "scheduled",
    } as const;
    for (let p = 0; p < 1000; p++) {
      const parent = service("node.ssh", `n${p}`, states);
      services.push(parent);
      for (let c = 0; c < 9; c++) {
        const child = service("app", `a${p}_${c}`, states);
        child.parent = serviceName(parent.role, parent.name);
        child.producers = { node: [child.parent] };
        parent.consumers.push(serviceName(child.role, child.name));
        services.push(child);
      }
    }
    const times: number[] = [];
    let jobs = 0, steps = 0;
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      const plan = planRun(services, actors);
      times.push((performance.now() - t0) / 1000);
      jobs = plan.graph.size;
      steps = plan.steps.length;
    }
    rows.push({
      name: `(c) plan 10,000 services × 4 (${jobs} jobs)`,
      stats: stats(times),
      unit: "s",
    });
    results.plan10k = { services: services.length, jobs, steps, seconds: stats(times) };
  }

  // (d) eager walk vs step barriers: 4 chains of 4 jobs, chain i slow (200 ms) at step i.
  {
    const chains = 4, length = 4, slow = 200, fast = 10;
    const services: ServiceRecord[] = [];
    const a = actor("chain");
    a.config.actions = {};
    for (let c = 0; c < chains; c++) {
      for (let s = 0; s < length; s++) {
        const svc = service("chain", `c${c}s${s}`, { start: "scheduled" });
        if (s > 0) {
          svc.parent = `chain!c${c}s${s - 1}`;
          svc.producers = { chain: [svc.parent] };
        }
        services.push(svc);
      }
    }
    for (const s of services) s.actions.init.state = s.actions.install.state = "ok";
    a.config.actions = { start: { deps: [] } };
    const plan = planRun(services, [a]);
    const ms = (job: PlannedJob) => {
      const m = /^chain!c(\d+)s(\d+)$/.exec(job.service)!;
      return Number(m[1]) === Number(m[2]) ? slow : fast;
    };
    const request = requestFor(actionsPath, dir, (job) => ({ ms: ms(job) }));
    const eager: number[] = [];
    const barrier: number[] = [];
    const ratio: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const pool = new WorkerPool({ size: chains });
      await pool.warm();
      let t0 = performance.now();
      await executePlan(plan, { pool, request });
      const e = performance.now() - t0;
      t0 = performance.now();
      for (const step of plan.steps) {
        await Promise.all(step.map((job) => pool.run(request(job))));
      }
      const b = performance.now() - t0;
      await pool.close();
      eager.push(e / 1000);
      barrier.push(b / 1000);
      ratio.push(b / e);
    }
    rows.push({ name: "(d) skewed graph, eager walk", stats: stats(eager), unit: "s" });
    rows.push({ name: "(d) same graph, step barriers", stats: stats(barrier), unit: "s" });
    rows.push({ name: "(d) barrier / eager", stats: stats(ratio), unit: "×" });
    results.eagerVsBarrier = {
      graph: `${chains} chains × ${length} jobs, one ${slow} ms job per step, others ${fast} ms`,
      eagerSeconds: stats(eager),
      barrierSeconds: stats(barrier),
      ratio: stats(ratio),
    };
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

printTable(`run engine (${runtimeName()}, no store, ${rounds} rounds)`, rows);
console.log(`\nwrote ${await writeResults("run", results)}`);
process.exit(0);
