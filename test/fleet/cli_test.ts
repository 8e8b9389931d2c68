/**
 * `ays worker` processes, `ays workers` and `ays run --fleet` / `fleet: true` on a private
 * loopback Redis: routing by label, spread, the worker on the run record, SIGTERM of a worker,
 * `kill -9` of a worker and of a coordinator mid-run. The multi-host version over network
 * namespaces is test/e2e/fleet_test.ts.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { after, afterEach, before, describe, it } from "node:test";
import { captureIo, runCli } from "../../src/cli/mod.ts";
import {
  aysCommand,
  makeTempRepo,
  type RedisServer,
  startRedis,
  type TempDir,
  until,
} from "../helpers/mod.ts";
import {
  fleetRepoFiles,
  readTrace,
  spawnWorker,
  untilTraced,
  type WorkerProcess,
} from "./fleet_fixture.ts";

describe("ays worker, ays workers and runs on the fleet (loopback Redis, worker processes)", () => {
  let redis: RedisServer;
  const dirs: TempDir[] = [];
  const workers: WorkerProcess[] = [];

  const repo = async (name: string, files: Record<string, string>, config = "") => {
    const dir = await makeTempRepo({ files });
    dirs.push(dir);
    await writeFile(join(dir.path, ".ays", "config.yaml"), `name: ${name}\n${config}`);
    const env = { XDG_CONFIG_HOME: join(dir.path, ".cfg") };
    const ays = async (args: string[]) => {
      const io = captureIo({ env, cwd: dir.path });
      const code = await runCli(args, io);
      return { code, out: io.out.join(""), err: io.err.join("") };
    };
    return { dir, ays, trace: join(dir.path, "trace.log") };
  };
  const worker = (name: string, trace: string, options: { labels?: string[] } = {}) => {
    const w = spawnWorker(redis.url, name, {
      labels: options.labels,
      concurrency: 2,
      env: { FLEET_TRACE: trace, XDG_CACHE_HOME: join(dirs[0].path, ".cache", name) },
    });
    workers.push(w);
    return w;
  };
  const liveWorkers = async (ays: (a: string[]) => Promise<{ out: string }>) => {
    const listed = JSON.parse((await ays(["workers", "--json"])).out) as {
      name: string;
      live: boolean;
    }[];
    return listed.filter((w) => w.live).map((w) => w.name).sort();
  };
  const stopAll = async () => {
    for (const w of workers.splice(0)) {
      w.child.kill("SIGTERM");
      await w.exited;
    }
  };

  before(async () => {
    redis = await startRedis();
  });
  // The fleet is shared by every repository on the Redis: no test's workers may serve the next.
  afterEach(() => stopAll());
  after(async () => {
    for (const w of workers) w.child.kill("SIGKILL");
    await redis.close();
    for (const dir of dirs) await dir.remove();
  });

  it("refuses the fleet on a SQLite store: exit 2 with a clear message", async () => {
    const r = await repo("onsqlite", fleetRepoFiles({ frees: 1 }), "fleet: true\n");
    const applied = await r.ays(["blueprint"]);
    assert.equal(applied.code, 0, applied.err);
    const run = await r.ays(["install"]);
    assert.equal(run.code, 2, run.err);
    assert.match(run.err, /the fleet needs a Redis store shared with its workers/);
    const flag = await r.ays([
      "install",
      "--fleet",
      "--store",
      join(r.dir.path, ".ays", "store.db"),
    ]);
    assert.equal(flag.code, 2, flag.err);
  });

  it("a job no live worker serves: waiting on the terminal and in run show, fails after --worker-timeout", async () => {
    const r = await repo("fleetnone", fleetRepoFiles({ frees: 1 }), `store: ${redis.url}\n`);
    const applied = await r.ays(["blueprint"]);
    assert.equal(applied.code, 0, applied.err);
    const run = await r.ays([
      "do",
      "install",
      "-r",
      "node",
      "--fleet",
      "--worker-timeout",
      "1s",
      "--json",
    ]);
    assert.equal(run.code, 1, run.err);
    assert.match(run.err, /node!n1 install: waiting for a worker labeled edge: none is live/);
    const id = (JSON.parse(run.out) as { id: string }).id;
    const show = await r.ays(["run", "show", id]);
    assert.match(show.out, /waiting for a worker labeled edge: none is live/);
    assert.match(show.out, /error: no worker labeled edge took the job within 1 s/);
    const bad = await r.ays(["run", "--fleet", "--worker-timeout", "soon"]);
    assert.equal(bad.code, 2, bad.err);
    assert.match(bad.err, /--worker-timeout: bad period "soon"/);
  });

  it("labeled jobs run on their label's worker, unlabeled ones spread; records name the worker", async () => {
    const r = await repo(
      "fleetone",
      fleetRepoFiles({ frees: 8, sleepMs: 300 }),
      `store: ${redis.url}\nfleet: true\n`,
    );
    worker("w-edge", r.trace, { labels: ["edge"] });
    worker("w-plain", r.trace);
    await until(async () => (await liveWorkers(r.ays)).length === 2, {
      what: "two live workers",
      timeoutMs: 60_000,
    });
    const table = await r.ays(["workers"]);
    assert.match(table.out, /^w-edge\s+\S+\s+edge,default\s+2\s+\d+\s+\d+ s ago\s+live$/m);
    assert.match(table.out, /^w-plain\s+\S+\s+default\s+2\s+/m);
    const applied = await r.ays(["blueprint"]);
    assert.equal(applied.code, 0, applied.err);
    const run = await r.ays(["install", "--json"]);
    assert.equal(run.code, 0, run.err);
    const trace = await readTrace(r.trace);
    const starts = trace.filter((l) => l.what === "start");
    assert.equal(starts.length, 11, "each job ran once");
    for (const s of starts.filter((l) => !l.service.startsWith("free!"))) {
      assert.equal(s.worker, "w-edge", `${s.service} runs where its node is`);
    }
    const spread = new Set(
      starts.filter((l) => l.service.startsWith("free!")).map((l) => l.worker),
    );
    assert.deepEqual([...spread].sort(), ["w-edge", "w-plain"]);
    const show = JSON.parse(run.out) as {
      id: string;
      jobs: { service: string; worker?: string; state: string }[];
    };
    for (const job of show.jobs) {
      assert.equal(job.state, "ok");
      assert.equal(job.worker, starts.find((s) => s.service === job.service)?.worker);
    }
    const text = await r.ays(["run", "show", show.id]);
    assert.match(text.out, /ok\s+node!n1 install\s+[\d.]+ s\s+on w-edge/);
    await stopAll();
  });

  it("SIGTERM of a worker lets its running job finish, then it leaves and exits 0", async () => {
    const r = await repo(
      "fleetterm",
      fleetRepoFiles({ frees: 1, slow: { f1: 2500 } }),
      `store: ${redis.url}\n`,
    );
    const w = worker("w-term", r.trace);
    await until(async () => (await liveWorkers(r.ays)).includes("w-term"), {
      what: "the worker",
      timeoutMs: 60_000,
    });
    const applied = await r.ays(["blueprint"]);
    assert.equal(applied.code, 0, applied.err);
    const running = r.ays(["do", "install", "-i", "f1", "--fleet"]);
    await until(async () => (await readTrace(r.trace)).some((l) => l.what === "start"), {
      what: "the job to start",
      timeoutMs: 60_000,
    });
    // Not child.kill: Deno's ChildProcess then reports the signal as the way the child ended,
    // even when it handled the signal and exited 0 itself.
    process.kill(w.child.pid!, "SIGTERM");
    const run = await running;
    assert.equal(run.code, 0, run.err);
    assert.deepEqual((await readTrace(r.trace)).map((l) => `${l.service} ${l.worker} ${l.what}`), [
      "free!f1 w-term start",
      "free!f1 w-term end",
    ]);
    assert.deepEqual(await w.exited, { code: 0, signal: null });
    assert.match(w.output(), /SIGTERM: finishing the running jobs/);
    assert.match(w.output(), /worker w-term left the fleet/);
    assert.deepEqual(await liveWorkers(r.ays), []);
    workers.splice(workers.indexOf(w), 1);
  });

  it("kill -9 of a worker mid-job: the job runs again on another worker, no ok job twice", async () => {
    const slow = { f1: 2000, f2: 2000, f3: 2000, f4: 2000 };
    const r = await repo(
      "fleetkill",
      fleetRepoFiles({ frees: 4, slow }),
      `store: ${redis.url}\nfleet: true\n`,
    );
    const a = worker("w-a", r.trace);
    await until(async () => (await liveWorkers(r.ays)).includes("w-a"), {
      what: "worker w-a",
      timeoutMs: 60_000,
    });
    const applied = await r.ays(["blueprint"]);
    assert.equal(applied.code, 0, applied.err);
    const running = r.ays(["do", "install", "-r", "free", "--json"]);
    await untilTraced(r.trace, "start", { count: 2, description: "w-a to start two jobs" });
    worker("w-b", r.trace);
    a.child.kill("SIGKILL");
    const run = await running;
    assert.equal(run.code, 0, run.err);
    const trace = await readTrace(r.trace);
    const ends = trace.filter((l) => l.what === "end");
    assert.deepEqual(ends.map((l) => l.service).sort(), [
      "free!f1",
      "free!f2",
      "free!f3",
      "free!f4",
    ]);
    const interrupted = trace.filter((l) =>
      l.what === "start" && l.worker === "w-a" &&
      !trace.some((e) => e.what === "end" && e.service === l.service && e.worker === "w-a")
    );
    assert.ok(interrupted.length >= 1, "a job was interrupted on w-a");
    for (const l of interrupted) {
      assert.ok(
        trace.some((e) => e.what === "end" && e.service === l.service && e.worker === "w-b"),
        `${l.service} ran again on w-b`,
      );
    }
    const show = await r.ays(["run", "show", (JSON.parse(run.out) as { id: string }).id]);
    assert.match(
      show.out,
      /interrupted attempt: worker w-a stopped answering; running it again on worker w-b/,
    );
    await stopAll();
  });

  it("a coordinator killed mid-run: the next ays run adopts its jobs and runs none again", async () => {
    const slow = { f1: 1500, f2: 1500, f3: 1500 };
    const r = await repo(
      "fleetcoord",
      fleetRepoFiles({ frees: 3, slow }),
      `store: ${redis.url}\nfleet: true\n`,
    );
    worker("w-c", r.trace);
    await until(async () => (await liveWorkers(r.ays)).includes("w-c"), {
      what: "worker w-c",
      timeoutMs: 60_000,
    });
    const applied = await r.ays(["blueprint"]);
    assert.equal(applied.code, 0, applied.err);
    const [cmd, ...args] = aysCommand("bun");
    const coordinator = spawn(cmd, [...args, "do", "install", "-r", "free"], {
      cwd: r.dir.path,
      env: { ...process.env, XDG_CONFIG_HOME: join(r.dir.path, ".cfg") },
      stdio: "ignore",
    });
    const gone = new Promise((resolve) => coordinator.once("close", resolve));
    // w-c runs two at once: f1 and f2 start, f3 waits in the queue.
    await untilTraced(r.trace, "start", { count: 2, description: "two jobs to start" });
    coordinator.kill("SIGKILL");
    await gone;
    // The fleet goes on without a coordinator: the jobs it had finish meanwhile.
    await untilTraced(r.trace, "end", {
      count: 2,
      description: "the jobs to finish on the worker",
    });
    const run = await r.ays(["run"]);
    assert.equal(run.code, 0, run.err);
    const trace = await readTrace(r.trace);
    for (const service of ["free!f1", "free!f2", "free!f3"]) {
      assert.equal(
        trace.filter((l) => l.service === service && l.what === "start").length,
        1,
        `${service} ran once`,
      );
      assert.equal(trace.filter((l) => l.service === service && l.what === "end").length, 1);
    }
    const state = await r.ays(["state", "--json"]);
    assert.equal(state.code, 0, state.err);
    assert.doesNotMatch(state.out, /"running"|"error"|"scheduled"/);
    await stopAll();
  });
});
