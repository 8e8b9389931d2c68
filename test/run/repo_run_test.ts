/**
 * Runs over a real store (SQLite and a private Redis): planning from the store, run and job
 * records, durable action states, failure isolation, resume, the lock, cancellation.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { LockedError } from "../../src/errors.ts";
import type { JobRecord, ServiceRecord } from "../../src/model/types.ts";
import {
  executeRepoRun,
  holdRunLock,
  planRepoRun,
  type RepoRunEvent,
  runJobId,
  type RunSession,
} from "../../src/run/repo_run.ts";
import { type RedisServer, startRedis } from "../helpers/mod.ts";
import {
  fanActions,
  makeFanRepo,
  type OpenedRepo,
  openRunSession,
  readTraces,
  startCounts,
  type TraceLine,
} from "./repo_fixture.ts";

let counter = 0;

interface Backend {
  name: string;
  store: () => string | undefined;
}

let redis: RedisServer | undefined;
const backends: Backend[] = [
  { name: "sqlite", store: () => undefined },
  { name: "redis", store: () => redis!.url },
];

async function open(
  backend: Backend,
  options: Parameters<typeof makeFanRepo>[0] = {},
): Promise<OpenedRepo> {
  const name = `fan${process.pid}x${++counter}`;
  const repo = await makeFanRepo({ ...options, name, store: backend.store() });
  return await openRunSession(repo, { name, store: backend.store() });
}

/** Every key and value of the store, for "nothing changed" comparisons. */
async function snapshot(session: RunSession): Promise<Map<string, string>> {
  const rows = await session.driver.getByPrefix("");
  return new Map(rows.map((row) => [row.key, Buffer.from(row.value).toString("hex")]));
}

function byName(services: ServiceRecord[]): Map<string, ServiceRecord> {
  return new Map(services.map((s) => [`${s.role}!${s.name}`, s]));
}

function trace(traces: Map<string, TraceLine[]>, job: string, what: "start" | "end"): number {
  const line = traces.get(job)?.find((l) => l.what === what);
  assert.ok(line, `${job} has no ${what}`);
  return line.at;
}

/** What each fixture job waits for: `role!instance.action` names. */
function dependenciesOf(name: string, services: Map<string, ServiceRecord>): string[] {
  const dot = name.lastIndexOf(".");
  const service = name.slice(0, dot);
  const action = name.slice(dot + 1);
  const deps: string[] = action === "install" ? [`${service}.init`] : [];
  const svc = services.get(service)!;
  const producers = new Set<string>(Object.values(svc.producers).flat());
  if (svc.parent) producers.add(svc.parent);
  for (const p of producers) deps.push(`${p}.${action}`);
  return deps;
}

before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.close();
});

for (const backend of backends) {
  describe(`runs over the store (${backend.name})`, () => {
    it("runs the fan-out / fan-in repository in dependency order, in parallel", async () => {
      const t = await open(backend, { sleepMs: 60 });
      try {
        const events: RepoRunEvent[] = [];
        const result = await executeRepoRun(t.session, {
          parallel: 8,
          onEvent: (e) => events.push(e),
        });
        assert.equal(result.run.state, "ok");
        assert.equal(result.jobs.length, 64);
        assert.ok(result.jobs.every((j) => j.state === "ok" && j.attempts === 1));
        assert.equal(result.run.steps.flat().length, 64);
        assert.ok(result.run.startedAt! >= result.run.createdAt);
        assert.ok(result.run.endedAt! >= result.run.startedAt!);

        // Recorded: the run, each job on its own, logs, the actions source by hash.
        const { store } = t.session;
        assert.deepEqual(await store.loadRun(result.run.id), result.run);
        const jobs = await store.loadJobs(result.run.id);
        assert.deepEqual(jobs, result.jobs);
        assert.deepEqual(await store.readJobLog(jobs[0].id), ["[info] working on main"]);
        const hash = jobs[0].actionsHash!;
        assert.match(hash, /^[0-9a-f]{64}$/);
        assert.equal(await store.loadActionSource(hash), fanActions(60));

        // Every action ok with its last job; the job record ok with its result.
        const services = byName(await store.loadServices());
        for (const job of jobs) {
          const action = services.get(job.service)!.actions[job.action];
          assert.equal(action.state, "ok", `${job.service} ${job.action}`);
          assert.equal(action.lastJob, job.id);
          assert.equal(action.lastRun, job.startedAt);
          assert.deepEqual(job.result, { done: job.service.split("!")[1] });
        }

        // The readable mirror is complete when the run's end is recorded.
        const mirrored = JSON.parse(
          await readFile(
            join(t.repo.path, "services/base!main/mid!m0/leaf!m0l1/service.json"),
            "utf8",
          ),
        );
        assert.equal(mirrored.actions.install.state, "ok");
        assert.equal(
          mirrored.actions.install.lastJob,
          services.get("leaf!m0l1")!.actions.install.lastJob,
        );

        // Order: each job started after every job it depends on ended; some overlap.
        const traces = await readTraces(t.repo.path);
        assert.equal(traces.size, 64);
        for (const name of traces.keys()) {
          for (const dep of dependenciesOf(name, services)) {
            assert.ok(
              trace(traces, dep, "end") <= trace(traces, name, "start"),
              `${name} started before ${dep} ended`,
            );
          }
        }
        const leaves = [...traces.keys()].filter((n) => n.startsWith("leaf!"));
        const overlapping = leaves.some((a) =>
          leaves.some((b) =>
            a !== b && trace(traces, a, "start") < trace(traces, b, "end") &&
            trace(traces, b, "start") < trace(traces, a, "end")
          )
        );
        assert.ok(overlapping, "independent jobs never overlapped");
        // Events: the run as new, running, ok; each job started and ended.
        const runStates = events.filter((e) => e.type === "run").map((e) => e.run.state);
        assert.deepEqual(runStates, ["new", "running", "ok"]);
        assert.equal(events.filter((e) => e.type === "job" && e.job.state === "ok").length, 64);
      } finally {
        await t.close();
      }
    });

    it("isolates a failing branch, then the next run does only what is left", async () => {
      const t = await open(backend, { sleepMs: 20, breakMid: "m3" });
      try {
        const first = await executeRepoRun(t.session, { parallel: 6 });
        assert.equal(first.run.state, "error");
        const state = (j: JobRecord) => `${j.service} ${j.action} ${j.state}`;
        const notOk = first.jobs.filter((j) => j.state !== "ok").map(state).sort();
        assert.deepEqual(notOk, [
          "leaf!m3l0 install skipped",
          "leaf!m3l1 install skipped",
          "mid!m3 install error",
          "sink!all install skipped",
        ]);
        const failed = first.jobs.find((j) => j.state === "error")!;
        assert.equal(failed.error?.message, "broken m3");
        assert.match(failed.error?.stack ?? "", /actions\.js/);
        const services = byName(await t.session.store.loadServices());
        assert.equal(services.get("mid!m3")!.actions.install.state, "error");
        assert.equal(services.get("leaf!m3l0")!.actions.install.state, "scheduled");
        assert.equal(services.get("sink!all")!.actions.install.state, "scheduled");
        assert.equal(services.get("leaf!m3l0")!.actions.init.state, "ok");

        // Fix the action: the next run takes only the remaining four jobs.
        await writeFile(join(t.repo.path, "actorTemplates/mid/actions.js"), fanActions(20));
        const before = startCounts(await readTraces(t.repo.path));
        const second = await executeRepoRun(t.session, { parallel: 6 });
        assert.equal(second.run.state, "ok");
        assert.deepEqual(second.jobs.map((j) => `${j.service} ${j.action}`), [
          "mid!m3 install",
          "leaf!m3l0 install",
          "leaf!m3l1 install",
          "sink!all install",
        ]);
        const afterCounts = startCounts(await readTraces(t.repo.path));
        for (const [name, n] of afterCounts) {
          const rerun = second.jobs.some((j) => `${j.service}.${j.action}` === name);
          assert.equal(n, (before.get(name) ?? 0) + (rerun ? 1 : 0), name);
        }
      } finally {
        await t.close();
      }
    });

    it("plans from the store and writes nothing while planning", async () => {
      const t = await open(backend, { sleepMs: 1 });
      try {
        const before = await snapshot(t.session);
        const planned = await planRepoRun(t.session, { scope: { role: "leaf", instance: "m1.*" } });
        assert.deepEqual(await snapshot(t.session), before);
        // leaf installs of m1 pull in their inits and the producers' init/install chain.
        const jobs = planned.plan.steps.flat().map((j) => `${j.service} ${j.action}`);
        assert.ok(jobs.includes("leaf!m1l0 install"));
        assert.ok(jobs.includes("mid!m1 install"));
        assert.ok(jobs.includes("base!main init"));
        assert.ok(!jobs.includes("leaf!m2l0 install"));
        assert.ok(!jobs.includes("sink!all install"));
        assert.equal(planned.services.size, 32);
      } finally {
        await t.close();
      }
    });

    it("takes a running action of a dead holder again, as an interrupted attempt", async () => {
      const t = await open(backend, { sleepMs: 1, mids: 1, leaves: 1 });
      try {
        const { store } = t.session;
        const deadPid = spawnSync("true").pid!;
        const deadRun = "20200101-000000-dead00";
        const deadJob = runJobId(deadRun, 1);
        await store.saveRun({
          id: deadRun,
          repo: t.session.repo.name,
          scope: {},
          steps: [[{ service: "base!main", action: "init" }]],
          state: "running",
          createdAt: 1,
          startedAt: 2,
          endedAt: null,
          holder: { pid: deadPid, host: (await import("node:os")).hostname() },
        });
        await store.saveJobs([{
          id: deadJob,
          runId: deadRun,
          service: "base!main",
          action: "init",
          state: "running",
          attempts: 1,
          startedAt: 2,
          endedAt: null,
          result: null,
          error: null,
          actionsHash: null,
        }]);
        await store.updateService((await store.loadServiceByName("base", "main"))!.key, (s) => {
          s.actions.init = { ...s.actions.init, state: "running", lastRun: 2, lastJob: deadJob };
          return s;
        });
        const planned = await planRepoRun(t.session);
        assert.deepEqual(planned.interrupted, ["base!main:init"]);
        assert.equal(planned.plan.graph.value("base!main:init").reason, "interrupted");

        const result = await executeRepoRun(t.session, {});
        assert.equal(result.run.state, "ok");
        const init = result.jobs.find((j) => j.service === "base!main" && j.action === "init")!;
        assert.equal(init.state, "ok");
        assert.match((await store.readJobLog(init.id))[0], /interrupted attempt \(job .*dead00/);
        // The dead run is closed: it and its running job end in error.
        assert.equal((await store.loadRun(deadRun))!.state, "error");
        const old = (await store.loadJob(deadRun, deadJob))!;
        assert.equal(old.state, "error");
        assert.match(old.error!.message, /interrupted/);
      } finally {
        await t.close();
      }
    });

    it("nothing due: reads no service; after a dead run it brings the mirror up to date", async () => {
      const t = await open(backend, { sleepMs: 1, mids: 1, leaves: 1 });
      try {
        const first = await executeRepoRun(t.session, { skipEmpty: true });
        assert.equal(first.run.state, "ok");
        const file = join(t.repo.path, "services", "base!main", "service.json");
        const current = await readFile(file, "utf8");
        assert.equal(JSON.parse(current).actions.install.state, "ok");

        const { driver } = t.session;
        const serviceReads: string[] = [];
        const { getByPrefix, getMany, get } = driver;
        driver.getByPrefix = (prefix) => {
          if ("service:".startsWith(prefix) || prefix.startsWith("service:")) {
            serviceReads.push(prefix);
          }
          return getByPrefix.call(driver, prefix);
        };
        driver.getMany = (keys) => {
          serviceReads.push(...keys.filter((k) => k.startsWith("service:")));
          return getMany.call(driver, keys);
        };
        driver.get = (key) => {
          if (key.startsWith("service:")) serviceReads.push(key);
          return get.call(driver, key);
        };
        try {
          const idle = await executeRepoRun(t.session, { skipEmpty: true });
          assert.deepEqual(idle.jobs, []);
          assert.deepEqual(serviceReads, []);
          const planned = await planRepoRun(t.session);
          assert.equal(planned.plan.steps.length, 0);
          assert.deepEqual(serviceReads, []);
        } finally {
          Object.assign(driver, { getByPrefix, getMany, get });
        }

        // As a run killed before its mirror writes leaves it: the file is behind the store,
        // and the run is still recorded as running by a process that is gone.
        await writeFile(file, current.replace('"ok"', '"scheduled"'));
        await t.session.store.saveRun({
          id: "20200101-000000-dead01",
          repo: t.session.repo.name,
          scope: {},
          steps: [],
          state: "running",
          createdAt: 1,
          startedAt: 2,
          endedAt: null,
          holder: { pid: spawnSync("true").pid!, host: (await import("node:os")).hostname() },
        });
        const after = await executeRepoRun(t.session, { skipEmpty: true });
        assert.deepEqual(after.jobs, []);
        assert.equal(await readFile(file, "utf8"), current);
        assert.equal((await t.session.store.loadRun("20200101-000000-dead01"))!.state, "error");
      } finally {
        await t.close();
      }
    });

    it("a second run while the lock is held fails naming the holder", async () => {
      const t = await open(backend, { sleepMs: 1, mids: 1, leaves: 1 });
      try {
        const held = await holdRunLock(t.session.driver, "20261125-000000-aaaaaa");
        try {
          await assert.rejects(
            executeRepoRun(t.session, {}),
            (e) => e instanceof LockedError && /20261125-000000-aaaaaa/.test(e.message),
          );
        } finally {
          await held.release();
        }
        // Under a lock the caller holds (ays do), the run uses it and leaves it held.
        const lock = await holdRunLock(t.session.driver, "20261125-000000-bbbbbb");
        const result = await executeRepoRun(t.session, { lock });
        assert.equal(result.run.id, "20261125-000000-bbbbbb");
        assert.equal(result.run.state, "ok");
        assert.equal((await t.session.driver.readLock("repo"))?.holder.id, result.run.id);
        await lock.release();
      } finally {
        await t.close();
      }
    });

    it("resumes a recorded run under its id; a final one is returned as it is", async () => {
      const t = await open(backend, { sleepMs: 1, mids: 1, leaves: 1 });
      try {
        const { store } = t.session;
        const runId = "20261125-000000-cccccc";
        await store.saveRun({
          id: runId,
          repo: t.session.repo.name,
          scope: { role: "base" },
          steps: [],
          state: "running",
          createdAt: 5,
          startedAt: 6,
          endedAt: null,
          holder: { pid: 1, host: "elsewhere" },
        });
        // It had started base!main init (left running) and not yet base!main install.
        const job = (n: number, action: string, state: JobRecord["state"]): JobRecord => ({
          id: runJobId(runId, n),
          runId,
          service: "base!main",
          action,
          state,
          attempts: state === "new" ? 0 : 1,
          startedAt: state === "new" ? null : 6,
          endedAt: null,
          result: null,
          error: null,
          actionsHash: null,
        });
        await store.saveJobs([job(1, "init", "running"), job(2, "install", "new")]);
        const resumed = await executeRepoRun(t.session, { runId, scope: { role: "mid" } });
        assert.equal(resumed.run.id, runId);
        assert.equal(resumed.run.createdAt, 5);
        assert.deepEqual(resumed.run.scope, { role: "base" }, "the recorded scope wins");
        assert.equal(resumed.run.state, "ok");
        assert.deepEqual(resumed.jobs.map((j) => `${j.id.slice(-1)} ${j.action} ${j.state}`), [
          "1 init error",
          "2 install cancelled",
          "3 init ok",
          "4 install ok",
        ]);
        assert.match(resumed.jobs[0].error!.message, /interrupted/);
        assert.match(resumed.jobs[1].error!.message, /re-planned/);
        assert.deepEqual(await store.loadJobs(runId), resumed.jobs);
        const again = await executeRepoRun(t.session, { runId });
        assert.deepEqual(again.run, resumed.run);
        assert.equal(startCounts(await readTraces(t.repo.path)).get("base!main.install"), 1);
      } finally {
        await t.close();
      }
    });

    it("validates data changes: saved with ok, refused when invalid", async () => {
      const t = await open(backend, {
        sleepMs: 1,
        mids: 1,
        leaves: 1,
        extra: {
          "actorTemplates/port/schema.hrd": "port = type:int\n",
          "actorTemplates/port/actions.js": `
export function install(job) { job.service.data.port = job.service.name === "bad" ? "x" : 8080; }
`,
          "blueprints/2_port.yaml": "port__good:\nport__bad:\n",
        },
      });
      try {
        const { store } = t.session;
        const result = await executeRepoRun(t.session, { scope: { role: "port" } });
        assert.equal(result.run.state, "error");
        const good = (await store.loadServiceByName("port", "good"))!;
        assert.equal(good.data.port, 8080);
        assert.equal(good.actions.install.state, "ok");
        const bad = (await store.loadServiceByName("port", "bad"))!;
        assert.equal(bad.data.port, 0);
        assert.equal(bad.actions.install.state, "error");
        const job = result.jobs.find((j) => j.service === "port!bad" && j.action === "install")!;
        assert.match(job.error!.message, /data changes are invalid: .*port/);
      } finally {
        await t.close();
      }
    });

    it("cancellation: running jobs get the signal, the run ends cancelled", async () => {
      const t = await open(backend, { sleepMs: 400 });
      try {
        const cancel = new AbortController();
        const result = await executeRepoRun(t.session, {
          parallel: 4,
          signal: cancel.signal,
          graceMs: 2000,
          onEvent: (e) => {
            if (e.type === "job" && e.job.state === "running") cancel.abort();
          },
        });
        assert.equal(result.run.state, "cancelled");
        const states = new Set(result.jobs.map((j) => j.state));
        assert.ok(states.has("cancelled"));
        const services = byName(await t.session.store.loadServices());
        // Nothing is left running; what did not finish is still due.
        for (const svc of services.values()) {
          for (const [name, action] of Object.entries(svc.actions)) {
            assert.notEqual(action.state, "running", `${svc.name} ${name}`);
          }
        }
        assert.equal(services.get("sink!all")!.actions.install.state, "scheduled");
        const next = await executeRepoRun(t.session, { parallel: 10 });
        assert.equal(next.run.state, "ok");
      } finally {
        await t.close();
      }
    });

    it("retries from actor.yaml (attempts recorded) and --fail-fast", async () => {
      const t = await open(backend, {
        sleepMs: 1,
        mids: 2,
        leaves: 1,
        breakMid: "m0",
        extra: {
          "actorTemplates/flaky/actor.yaml": "actions:\n  install: { retries: 1 }\n",
          "actorTemplates/flaky/schema.hrd": "note = type:str\n",
          "actorTemplates/flaky/actions.js": `
export function install(job) {
  if (job.attempt === 1) throw new Error("first attempt fails");
  return { attempt: job.attempt };
}
`,
          "blueprints/2_flaky.yaml": "flaky__f1:\n",
        },
      });
      try {
        const retries: RepoRunEvent[] = [];
        const flaky = await executeRepoRun(t.session, {
          scope: { role: "flaky" },
          onEvent: (e) => e.type === "retry" && retries.push(e),
        });
        assert.equal(flaky.run.state, "ok");
        const job = flaky.jobs.find((j) => j.action === "install")!;
        assert.equal(job.attempts, 2);
        assert.deepEqual(job.result, { attempt: 2 });
        assert.equal(retries.length, 1);
        const log = await t.session.store.readJobLog(job.id);
        assert.ok(
          log.some((l) => /attempt 1 failed: first attempt fails; retrying in 1000 ms/.test(l)),
        );

        const fast = await executeRepoRun(t.session, { parallel: 1, failFast: true });
        assert.equal(fast.run.state, "error");
        const skipped = fast.jobs.filter((j) => j.state === "skipped");
        assert.ok(skipped.length > 0);
        assert.ok(
          skipped.some((j) => /fail-fast/.test(j.error?.message ?? "")),
          "jobs not started after the failure are skipped for fail-fast",
        );
      } finally {
        await t.close();
      }
    });

    it("a second signal (killSignal) terminates jobs that ignore job.signal", async () => {
      const t = await open(backend, {
        sleepMs: 1,
        mids: 1,
        leaves: 1,
        extra: {
          "actorTemplates/stubborn/schema.hrd": "note = type:str\n",
          "actorTemplates/stubborn/actions.js": `
export async function install() { await new Promise((resolve) => setTimeout(resolve, 600000)); }
`,
          "blueprints/2_stubborn.yaml": "stubborn__s1:\n",
        },
      });
      try {
        const cancel = new AbortController();
        const kill = new AbortController();
        const result = await executeRepoRun(t.session, {
          scope: { role: "stubborn" },
          signal: cancel.signal,
          killSignal: kill.signal,
          // Without the kill the run would wait for this grace: far past the test's timeout.
          graceMs: 600_000,
          onEvent: (e) => {
            if (e.type === "job" && e.job.state === "running" && e.job.action === "install") {
              // Once it runs in its worker: the first signal, then the second.
              setTimeout(() => cancel.abort(), 300);
              setTimeout(() => kill.abort(), 400);
            }
          },
        });
        assert.equal(result.run.state, "cancelled");
        const install = result.jobs.find((j) => j.action === "install")!;
        assert.equal(install.state, "cancelled");
        assert.match(install.error!.message, /killed/);
        const svc = (await t.session.store.loadServiceByName("stubborn", "s1"))!;
        assert.equal(svc.actions.install.state, "scheduled");
      } finally {
        await t.close();
      }
    });
  });
}
