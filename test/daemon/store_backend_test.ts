/**
 * The daemon's interfaces over a real store (SQLite and a private Redis) with real workers:
 * recurring jobs (state, lastRun, data, failure, cancellation, bounded history with logs),
 * queued runs (run id = request id, a redelivered request does not run twice, `action`
 * schedules first, bad requests are InputErrors) and the API's bodies.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { applyBlueprints, listBlueprints, readBlueprintFiles } from "../../src/blueprint/mod.ts";
import type { RecurringStartInfo } from "../../src/daemon/backend.ts";
import {
  loadRecurringJobs,
  recurringRunId,
  type ServedRepo,
  storeBackend,
  storeExecuteRun,
  storeLoadServices,
  storeRunRecurring,
} from "../../src/daemon/store_backend.ts";
import { queueRunRequest, storeRunQueue } from "../../src/daemon/store_queue.ts";
import { InputError } from "../../src/errors.ts";
import { listEntry, showEntry, sortServices } from "../../src/model/views.ts";
import { loadRepoActors } from "../../src/repo/mod.ts";
import { loadLastJobs } from "../../src/run/last_jobs.ts";
import { WorkerPool } from "../../src/run/pool.ts";
import { loadRunDetail, runListEntry } from "../../src/run/run_views.ts";
import { openRepositoryStore } from "../../src/store/open.ts";
import {
  makeTempRepo,
  ManualTimers,
  type RedisServer,
  startRedis,
  type TempDir,
  until,
} from "../helpers/mod.ts";
import { liveGroupMembers, waitFor } from "../run/fixtures.ts";

const ACTIONS = `
import { appendFileSync } from "node:fs";
export async function monitor(job) {
  job.log("tick " + job.service.data.count);
  if (job.service.name === "bad") throw new Error("monitor broke");
  if (job.service.name === "waits") {
    // An abort that came before this line (the action still loading) fires no event.
    await new Promise((resolve) => job.signal.aborted ? resolve() : job.signal.addEventListener("abort", resolve));
    throw new Error("stopped");
  }
  job.service.data.count = Number(job.service.data.count) + 1;
  return { seen: job.service.data.count };
}
export async function install(job) {
  appendFileSync(job.repo.path + "/install.log", job.service.name + " " + job.runId + "\\n");
}
export async function backup(job) {
  appendFileSync(job.repo.path + "/backup.log", job.service.name + "\\n");
}
`;

const FILES = {
  "actorTemplates/ticker/schema.hrd": "count = type:int default:0\nsecret = type:str secret\n",
  "actorTemplates/ticker/actions.js": ACTIONS,
  "actorTemplates/ticker/actor.yaml": "actions:\n  backup: {}\n",
  "blueprints/a.yaml": [
    "ticker__good:\n  count: 5\n  secret: hush",
    "ticker__bad:",
    "ticker__waits:",
    "actions:",
    "  - action: monitor",
    "    recurring: 1s",
    "  - action: install",
    "",
  ].join("\n"),
};

/** Applies the blueprints through the library and saves actors and services. */
async function openSeeded(repo: TempDir, name: string, store?: string): Promise<ServedRepo> {
  const { actors } = await loadRepoActors(repo.path, { globalDirs: [] });
  const docs = await readBlueprintFiles(await listBlueprints(repo.path));
  const change = applyBlueprints(docs, { repoName: name, actors, services: [] });
  const services = change.created.map((service) => {
    const scheduled = change.scheduled.filter((s) =>
      s.service === `${service.role}!${service.name}`
    );
    const next = structuredClone(service);
    for (const { action } of scheduled) next.actions[action].state = "scheduled";
    // Up: recurring actions run only while their prerequisite (monitor ← start) is ok.
    next.actions.start.state = "ok";
    return next;
  });
  const opened = await openRepositoryStore({
    repoPath: repo.path,
    repoName: name,
    storeFlag: store,
    env: {},
    mirror: true,
  });
  await opened.store.save({ actors: [...actors.values()], services });
  return { name, path: repo.path, store: opened.store, driver: opened.driver };
}

function info(startedAt: number, signal = new AbortController().signal): RecurringStartInfo {
  return { dueAt: startedAt, startedAt, signal };
}

for (const backend of ["sqlite", "redis"] as const) {
  describe(`daemon store backend on ${backend}`, () => {
    let redis: RedisServer | undefined;
    let repo: TempDir;
    let served: ServedRepo;
    let pool: WorkerPool;
    const name = `sb-${backend}`;

    before(async () => {
      if (backend === "redis") redis = await startRedis();
      repo = await makeTempRepo({ name, files: FILES });
      served = await openSeeded(repo, name, redis?.url);
      pool = new WorkerPool({ size: 2 });
    });
    after(async () => {
      await pool?.close();
      await served?.driver.close();
      await redis?.close();
      await repo?.remove();
    });

    it("a recurring job saves ok, lastRun, the data it changed and its record; the history is bounded with its logs", async () => {
      const run = storeRunRecurring([served], { pool, history: 3 });
      const targets = await storeLoadServices([served])();
      const good = targets.find((t) => t.service.name === "good")!;
      assert.equal(targets.length, 3);
      const base = Date.now();
      for (let i = 0; i < 5; i++) await run(good, "monitor", info(base + i * 10));
      const service = (await served.store.loadServiceByName("ticker", "good"))!;
      assert.equal(service.actions.monitor.state, "ok");
      assert.equal(service.actions.monitor.lastRun, base + 40);
      assert.equal(service.data.count, 10);
      // Install was scheduled by the blueprint: a recurring job runs no prerequisites.
      assert.equal(service.actions.install.state, "scheduled");
      const jobs = await loadRecurringJobs(served.store, "ticker!good", "monitor");
      assert.deepEqual(jobs.map((job) => job.startedAt), [base + 20, base + 30, base + 40]);
      assert.ok(
        jobs.every((job) =>
          job.state === "ok" && job.runId === recurringRunId("ticker!good", "monitor")
        ),
      );
      assert.deepEqual(jobs[2].result, { seen: 10 });
      assert.equal(service.actions.monitor.lastJob, jobs[2].id);
      assert.deepEqual(await served.store.readJobLog(jobs[2].id), ["[info] tick 9"]);
      // The pruned records' logs are gone too.
      const pruned = jobs[0].id.replace(String(base + 20), String(base));
      assert.deepEqual(await served.store.readJobLog(pruned), []);
      // Recurring jobs are not runs.
      assert.deepEqual(await served.store.listRuns(), []);
    });

    it("a record left running by a killed daemon ends error at the next job", async () => {
      const run = storeRunRecurring([served], { pool });
      const good = (await storeLoadServices([served])()).find((t) => t.service.name === "good")!;
      const [last] = (await loadRecurringJobs(served.store, "ticker!good", "monitor")).slice(-1);
      const orphan = {
        ...last,
        id: last.id.slice(0, -13) + "0000000000001",
        state: "running" as const,
        endedAt: null,
      };
      await served.store.saveJob(orphan);
      await run(good, "monitor", info(Date.now()));
      const jobs = await loadRecurringJobs(served.store, "ticker!good", "monitor");
      const found = jobs.find((job) => job.id === orphan.id)!;
      assert.equal(found.state, "error");
      assert.match(found.error!.message, /interrupted/);
      assert.equal(jobs.at(-1)!.state, "ok");
    });

    it("a failing recurring job leaves the action error with the job's error", async () => {
      const run = storeRunRecurring([served], { pool });
      const bad = (await storeLoadServices([served])()).find((t) => t.service.name === "bad")!;
      await assert.rejects(run(bad, "monitor", info(Date.now())), /monitor broke/);
      const service = (await served.store.loadServiceByName("ticker", "bad"))!;
      assert.equal(service.actions.monitor.state, "error");
      const [job] = await loadRecurringJobs(served.store, "ticker!bad", "monitor");
      assert.equal(job.state, "error");
      assert.match(job.error!.message, /monitor broke/);
      assert.match((await served.store.readJobLog(job.id)).join("\n"), /\[error\] .*monitor broke/);
    });

    it("a recurring job stopped by the daemon's signal is cancelled and leaves the action as it was", async () => {
      const run = storeRunRecurring([served], { pool });
      const waits = (await storeLoadServices([served])()).find((t) => t.service.name === "waits")!;
      const before =
        (await served.store.loadServiceByName("ticker", "waits"))!.actions.monitor.state;
      const stop = new AbortController();
      const done = run(waits, "monitor", info(Date.now(), stop.signal));
      // It is `running` (durable) while the job runs.
      for (let i = 0; i < 50; i++) {
        const s = await served.store.loadServiceByName("ticker", "waits");
        if (s!.actions.monitor.state === "running") break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal(
        (await served.store.loadServiceByName("ticker", "waits"))!.actions.monitor.state,
        "running",
      );
      stop.abort();
      await assert.rejects(done);
      const service = (await served.store.loadServiceByName("ticker", "waits"))!;
      assert.equal(service.actions.monitor.state, before);
      const [job] = await loadRecurringJobs(served.store, "ticker!waits", "monitor");
      assert.equal(job.state, "cancelled");
    });

    it("a recurring job cancelled after an interrupted attempt leaves its action scheduled, as a run does", async () => {
      const run = storeRunRecurring([served], { pool });
      const waits = (await storeLoadServices([served])()).find((t) => t.service.name === "waits")!;
      await served.store.updateService(waits.service.key, (svc) => {
        svc.actions.monitor = { ...svc.actions.monitor, state: "running" };
        return svc;
      });
      const stop = new AbortController();
      const done = run(waits, "monitor", info(Date.now(), stop.signal));
      for (let i = 0; i < 100; i++) {
        const jobs = await loadRecurringJobs(served.store, "ticker!waits", "monitor");
        if (jobs.length === 2 && (await served.store.readJobLog(jobs[1].id)).length > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      stop.abort();
      await assert.rejects(done);
      const service = (await served.store.loadServiceByName("ticker", "waits"))!;
      assert.equal(service.actions.monitor.state, "scheduled");
      const jobs = await loadRecurringJobs(served.store, "ticker!waits", "monitor");
      assert.equal(jobs.at(-1)!.state, "cancelled");
      assert.equal(service.actions.monitor.lastJob, jobs.at(-1)!.id);
      // Left scheduled, the hanging monitor would be taken by the queued runs below.
      await served.store.updateService(waits.service.key, (svc) => {
        svc.actions.monitor = { ...svc.actions.monitor, state: "new" };
        return svc;
      });
    });

    it("a queued run executes under the request id, once even when delivered again", async () => {
      const execute = storeExecuteRun([served], { pool });
      const queue = storeRunQueue(served.driver);
      const id = await queueRunRequest(served.driver, {}, { repo: name });
      const item = (await queue.pop("test", { timeoutMs: 0 }))!;
      assert.equal(item.id, id);
      const signal = new AbortController().signal;
      await execute(item, { signal });
      const run = (await served.store.loadRun(id))!;
      assert.equal(run.state, "ok");
      // init and install of each service (monitor is recurring and not scheduled).
      assert.equal(run.steps.flat().filter((job) => job.action === "install").length, 3);
      const log = await readFile(join(repo.path, "install.log"), "utf8");
      assert.equal(log.split("\n").filter(Boolean).length, 3);
      // Delivered again after a crash: acknowledged work is not repeated.
      await execute(item, { signal });
      assert.equal(await readFile(join(repo.path, "install.log"), "utf8"), log);
      await item.ack();
    });

    it("a queued request naming an action schedules it first; one matching nothing is an InputError", async () => {
      const execute = storeExecuteRun([served], { pool });
      const queue = storeRunQueue(served.driver);
      const signal = new AbortController().signal;
      await queueRunRequest(served.driver, { action: "backup", instance: "good" }, {
        repo: name,
      });
      const item = (await queue.pop("test", { timeoutMs: 0 }))!;
      await execute(item, { signal });
      await item.ack();
      assert.equal(await readFile(join(repo.path, "backup.log"), "utf8"), "good\n");
      assert.equal((await served.store.loadRun(item.id))!.state, "ok");

      await queueRunRequest(served.driver, { action: "backup", role: "nothing" }, { repo: name });
      const none = (await queue.pop("test", { timeoutMs: 0 }))!;
      await assert.rejects(execute(none, { signal }), InputError);
      await none.ack();

      // As `ays do`: an action none of the matched services has is refused.
      await queueRunRequest(served.driver, { action: "nosuch" }, { repo: name });
      const unknown = (await queue.pop("test", { timeoutMs: 0 }))!;
      await assert.rejects(
        execute(unknown, { signal }),
        /no matching service has an action nosuch/,
      );
      await unknown.ack();
    });

    it("the API's bodies are the CLI's --json shapes", async () => {
      const api = storeBackend([served]);
      assert.deepEqual(await api.repos(), [{ name, path: repo.path, exists: true }]);
      assert.equal(await api.hasRepo(name), true);
      assert.equal(await api.hasRepo("nope"), false);
      const services = await served.store.loadServices();
      assert.deepEqual(await api.services(name), sortServices(services).map(listEntry));
      const good = services.find((s) => s.name === "good")!;
      const actor = (await served.store.loadActor(good.actor))!;
      const shown = await api.service(name, { role: "ticker", instance: "good" });
      const jobs = await loadLastJobs(served.store, [good]);
      assert.ok(jobs.size > 0, "the show body names the last jobs");
      // As `ays show --json`: the entry and where the service's jobs run (docs/executors.md).
      assert.deepEqual(shown, {
        ...showEntry(good, actor.fields, { reveal: false, jobs }),
        executor: "local",
      });
      assert.equal((shown as unknown as { data: { secret: string } }).data.secret, "***");
      assert.equal(await api.service(name, { role: "ticker", instance: "nope" }), null);
      assert.deepEqual(await api.runs(name), (await served.store.listRuns()).map(runListEntry));
      const [latest] = await served.store.listRuns();
      assert.deepEqual(await api.run(latest.id), await loadRunDetail(served.store, latest.id));
      assert.equal(await api.run("no-such-run"), null);
      const id = await api.queueRun(name, { role: "ticker" });
      const item = (await storeRunQueue(served.driver).pop("test", { timeoutMs: 0 }))!;
      assert.equal(item.id, id);
      assert.equal(item.request.source, "http");
      assert.equal(item.request.role, "ticker");
      await item.ack();
      await assert.rejects(api.services("nope"), InputError);
    });
  });
}

// Logs "exec running" once the shell wrote its pid: the pool knows its group by then (the worker
// reported it on spawning the shell, before the line, on one channel). At most 60 s.
const SLEEPER = `
import { readFileSync } from "node:fs";
const pidWritten = (file) => {
  try {
    return readFileSync(file, "utf8").trim() !== "";
  } catch {
    return false;
  }
};
export async function monitor(job) {
  job.log("started");
  const pidFile = job.repo.path + "/sleep.pid";
  const running = job.exec("echo $$ > " + JSON.stringify(pidFile) + "; sleep 600");
  for (let i = 0; i < 12000 && !pidWritten(pidFile); i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  job.log("exec running");
  await running;
}
`;

describe("daemon recurring job with a timeout", () => {
  let repo: TempDir;
  let served: ServedRepo;
  let pool: WorkerPool;
  // The job's timeout fires when the test has seen it run (its log, its exec group): on real
  // time, 2 s from the job's start also had to cover a worker's start, a shell's start and the
  // checks, which a loaded machine does not promise.
  const timeouts = new ManualTimers();

  before(async () => {
    repo = await makeTempRepo({
      name: "sb-timeout",
      files: {
        "actorTemplates/sleeper/schema.hrd": "",
        "actorTemplates/sleeper/actions.js": SLEEPER,
        "actorTemplates/sleeper/actor.yaml": "actions:\n  monitor: {timeout: 2s}\n",
        "blueprints/a.yaml": "sleeper__slow:\nactions:\n  - action: monitor\n    recurring: 1h\n",
      },
    });
    served = await openSeeded(repo, "sb-timeout");
    pool = new WorkerPool({ size: 1, timeoutTimers: timeouts.timers });
  });
  after(async () => {
    await pool?.close();
    await served?.driver.close();
    await repo?.remove();
  });

  it("logs as it runs; on its timeout it ends error and its exec process group is gone", async () => {
    const run = storeRunRecurring([served], { pool });
    const slow = (await storeLoadServices([served])()).find((t) => t.service.name === "slow")!;
    const done = run(slow, "monitor", info(Date.now()));
    // The log is in the store while the job still runs, not only when it ends; the timeout
    // fires once it says the exec runs (on the pid file alone, it raced the pool learning the
    // exec's group, which was then left alive).
    const running = await until(async () => {
      const [job] = await loadRecurringJobs(served.store, "sleeper!slow", "monitor");
      const log = job ? await served.store.readJobLog(job.id) : [];
      return log.includes("[info] exec running") ? job : null;
    }, { what: "the job's exec to run", timeoutMs: 60_000 });
    assert.equal(running.state, "running");
    assert.deepEqual(await served.store.readJobLog(running.id), [
      "[info] started",
      "[info] exec running",
    ]);
    const pgid = Number((await readFile(join(repo.path, "sleep.pid"), "utf8")).trim());
    assert.ok(liveGroupMembers(pgid).length > 0, "the exec group runs during the job");
    assert.deepEqual(timeouts.armed().map((t) => t.ms), [2000], "the action's timeout is armed");
    timeouts.fire();
    await assert.rejects(done, /timed out/);
    const [job] = await loadRecurringJobs(served.store, "sleeper!slow", "monitor");
    assert.equal(job.state, "error");
    assert.match(job.error!.message, /timed out after 2 s/);
    assert.equal(
      (await served.store.loadServiceByName("sleeper", "slow"))!.actions.monitor.state,
      "error",
    );
    assert.ok(
      await waitFor(() => liveGroupMembers(pgid).length === 0, 30_000),
      `still alive: ${liveGroupMembers(pgid).join("; ")}`,
    );
    assert.deepEqual((await served.store.readJobLog(job.id)).at(-1), "[error] timed out after 2 s");
  });
});
