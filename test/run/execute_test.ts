import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { ServiceRecord } from "../../src/model/types.ts";
import { serviceName } from "../../src/model/names.ts";
import { actionSettings, executePlan, JobFailedError } from "../../src/run/execute.ts";
import { jobServiceData } from "../../src/run/job_request.ts";
import { jobId, planRun } from "../../src/run/plan.ts";
import { WorkerPool } from "../../src/run/pool.ts";
import { actor, link, service } from "./model_fixtures.ts";
import { writeActions } from "./fixtures.ts";

const TIMED_ACTIONS = `
import { appendFileSync } from "node:fs";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function timed(job) {
  const start = Date.now();
  const id = job.service.role + "!" + job.service.name + ":" + job.action;
  await sleep(job.args.ms ?? 20);
  if (job.args.fail === id) throw new Error("failing " + id);
  if (job.args.hang === id) await new Promise(() => {});
  if (job.args.flaky === id && job.attempt < 3) throw new Error("flaky attempt " + job.attempt);
  appendFileSync(job.repo.path + "/times.jsonl", JSON.stringify({ id, start, end: Date.now() }) + "\\n");
  return { attempt: job.attempt };
}
export const init = timed;
export const install = timed;
export async function start(job) {
  if (job.args.waitSignal) {
    // An abort that came before this line (the action still loading) fires no event.
    await new Promise((r) => job.signal.aborted ? r() : job.signal.addEventListener("abort", r));
    throw new Error("stopped by signal");
  }
  return timed(job);
}
`;

interface Times {
  id: string;
  start: number;
  end: number;
}

/** sshkey!main ← 5 nodes ← 3 apps each (parent); every app's start scheduled. */
function fanOut(): ServiceRecord[] {
  const key = service("sshkey", "main");
  const services = [key];
  for (let n = 0; n < 5; n++) {
    const node = service("node.ssh", `n${n}`);
    link(node, key);
    services.push(node);
    for (let a = 0; a < 3; a++) {
      const app = service("app", `a${n}${a}`, { states: { start: "scheduled" } });
      link(app, node, true);
      services.push(app);
    }
  }
  return services;
}

describe("executePlan with real workers", () => {
  let dir: Awaited<ReturnType<typeof writeActions>>;
  let pool: WorkerPool;
  const actors = ["sshkey", "node.ssh", "app"].map((n) => actor(n));

  before(async () => {
    dir = await writeActions(TIMED_ACTIONS);
    pool = new WorkerPool({ size: 6 });
  });
  after(async () => {
    await pool.close();
    await dir.remove();
  });

  async function runFanOut(args: Record<string, unknown>, extra = {}) {
    const services = fanOut();
    const byName = new Map(services.map((s) => [serviceName(s.role, s.name), s]));
    const plan = planRun(services, actors);
    const timesFile = join(dir.path, "times.jsonl");
    await import("node:fs/promises").then((fs) => fs.rm(timesFile, { force: true }));
    const result = await executePlan(plan, {
      pool,
      request: (job) => ({
        actionsPath: dir.actions,
        action: job.action,
        args,
        runId: "r1",
        repo: { name: "t", path: dir.path },
        service: jobServiceData(byName.get(job.service)!, (n) => byName.get(n)),
      }),
      ...extra,
    });
    const text = await readFile(timesFile, "utf8").catch(() => "");
    const times = new Map<string, Times>(
      text.trim().split("\n").filter(Boolean).map((l) => {
        const t = JSON.parse(l) as Times;
        return [t.id, t];
      }),
    );
    return { plan, result, times };
  }

  it("runs a fan-out / fan-in plan: every job after its dependencies, independent ones overlap", async () => {
    const { plan, result, times } = await runFanOut({ ms: 30 });
    assert.equal(result.state, "ok");
    assert.equal(plan.graph.size, 63);
    assert.equal(times.size, 63);
    for (const [from, to] of plan.graph.edges()) {
      assert.ok(times.get(from)!.start >= times.get(to)!.end, `${from} started before ${to} ended`);
    }
    // Some two jobs ran at the same time.
    const spans = [...times.values()];
    const overlap = spans.some((a) =>
      spans.some((b) => a !== b && a.start < b.end && b.start < a.end)
    );
    assert.ok(overlap, "independent jobs overlap");
  });

  it("skips the dependents of a failed job and finishes the other branches", async () => {
    const events: string[] = [];
    const { result, times } = await runFanOut({ ms: 5, fail: "node!n2:install" }, {
      onEvent: (e: { type: string; id: string }) => void events.push(`${e.type} ${e.id}`),
    });
    assert.equal(result.state, "error");
    const failed = result.nodes.get("node!n2:install")!;
    assert.equal(failed.state, "error");
    assert.ok(failed.error instanceof JobFailedError);
    assert.equal(failed.error.outcome.error?.message, "failing node!n2:install");
    for (const a of ["a20", "a21", "a22"]) {
      assert.equal(result.nodes.get(`app!${a}:install`)!.state, "skipped");
      assert.equal(result.nodes.get(`app!${a}:start`)!.state, "skipped");
      assert.ok(!times.has(`app!${a}:install`));
    }
    assert.equal(result.nodes.get("app!a20:init")!.state, "ok", "init does not wait for install");
    for (const a of ["a00", "a11", "a42"]) assert.ok(times.has(`app!${a}:start`));
    assert.ok(events.includes("skip app!a21:start"));
  });

  it("fails a job past its timeout while the others finish", async () => {
    const settings = (job: { service: string; action: string }) =>
      jobId(job) === "app!a31:start"
        ? { ...actionSettings(undefined, job.action), timeout: 0.5 }
        : actionSettings(undefined, job.action);
    const { result, times } = await runFanOut({ ms: 5, hang: "app!a31:start" }, { settings });
    assert.equal(result.state, "error");
    const node = result.nodes.get("app!a31:start")!;
    assert.equal(node.state, "error");
    assert.equal((node.error as JobFailedError).outcome.error?.message, "timed out after 500 ms");
    assert.equal((node.error as JobFailedError).outcome.timedOut, true);
    assert.equal(times.size, 62);
  });

  it("retries per the settings, reporting each retry", async () => {
    const retried: number[] = [];
    const { result } = await runFanOut({ ms: 1, flaky: "sshkey!main:init" }, {
      settings: (job: { action: string }) => ({
        ...actionSettings(undefined, job.action),
        retries: 2,
        retryDelay: 0.01,
      }),
      onRetry: (_job: unknown, outcome: { attempt: number }) => void retried.push(outcome.attempt),
    });
    assert.equal(result.state, "ok");
    assert.deepEqual(result.nodes.get("sshkey!main:init")!.result?.result, { attempt: 3 });
    assert.deepEqual(retried, [1, 2]);
  });

  it("cancels: the running job gets job.signal, nothing new starts", async () => {
    const cancel = new AbortController();
    const started: string[] = [];
    const pending = runFanOut({ ms: 1, waitSignal: true }, {
      signal: cancel.signal,
      graceMs: 2000,
      onEvent: (e: { type: string; id: string }) => {
        if (e.type === "start") {
          started.push(e.id);
          if (e.id.endsWith(":start")) setTimeout(() => cancel.abort(), 50);
        }
      },
    });
    const { result } = await pending;
    assert.equal(result.state, "cancelled");
    const cancelled = [...result.nodes.values()].filter((n) => n.state === "cancelled");
    assert.ok(cancelled.length > 0);
    const ran = [...result.nodes.entries()].filter(([, n]) => n.startedAt !== undefined);
    assert.equal(ran.length, started.length);
    for (const [id] of ran.filter(([id]) => id.endsWith(":start"))) {
      const outcome = result.nodes.get(id)!;
      assert.equal(outcome.state, "cancelled");
      assert.equal((outcome.error as JobFailedError).outcome.error?.message, "stopped by signal");
    }
  });
});
