/**
 * The fleet on several hosts (docs/fleet.md): test hosts are network namespaces
 * (`test/helpers/netns.ts`), a real redis-server is bound to a root-side address of that test
 * network, an `ays worker` from dist/ays runs in each namespace, and dist/ays coordinates from
 * the root namespace. Nothing else is contacted.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { after, afterEach, before, describe, it } from "node:test";
import {
  aysBinary,
  makeTempRepo,
  type RedisServer,
  runAys,
  startRedis,
  type TempDir,
  until,
} from "../helpers/mod.ts";
import {
  createTestHosts,
  netnsSkipReason,
  type TestHost,
  type TestHosts,
} from "../helpers/netns.ts";
import { fleetRepoFiles, readTrace, untilTraced } from "../fleet/fleet_fixture.ts";

interface HostWorker {
  name: string;
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: string | null }>;
}

describe("the fleet over a test network (ays worker in network namespaces)", {
  skip: await netnsSkipReason(),
}, () => {
  let net: TestHosts;
  let redis: RedisServer;
  const dirs: TempDir[] = [];
  const workers: HostWorker[] = [];

  const repo = async (name: string, files: Record<string, string>, config = "") => {
    const dir = await makeTempRepo({ files });
    dirs.push(dir);
    await writeFile(
      join(dir.path, ".ays", "config.yaml"),
      `name: ${name}\nstore: ${redis.url}\nfleet: true\n${config}`,
    );
    const env = { XDG_CONFIG_HOME: join(dir.path, ".cfg") };
    const ays = (args: string[], extra: Record<string, string> = {}) =>
      runAys(args, { cwd: dir.path, extraEnv: { ...env, ...extra } });
    return { dir, ays, env, trace: join(dir.path, "trace.log") };
  };
  const worker = (
    host: TestHost,
    name: string,
    trace: string,
    options: { labels?: string[]; key?: string } = {},
  ): HostWorker => {
    const args = ["worker", "--store", redis.url, "--name", name, "--concurrency", "2"];
    for (const label of options.labels ?? []) args.push("--label", label);
    const env: Record<string, string> = {
      ...process.env as Record<string, string>,
      FLEET_TRACE: trace,
      XDG_CACHE_HOME: join(dirs[0].path, ".cache", name),
    };
    delete env.AYS_FLEET_KEY;
    if (options.key) env.AYS_FLEET_KEY = options.key;
    const child = host.spawn(aysBinary, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout!.on("data", (chunk) => (out += String(chunk)));
    child.stderr!.on("data", (chunk) => (out += String(chunk)));
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.once("close", (code, signal) => resolve({ code, signal }))
    );
    const w = { name, child, output: () => out, exited };
    workers.push(w);
    return w;
  };
  const waitLive = async (
    r: { ays: (args: string[]) => Promise<{ code: number | null; stdout: string }> },
    names: string[],
  ) => {
    await until(async () => {
      const listed = await r.ays(["workers", "--json"]);
      if (listed.code !== 0) return false;
      const live = (JSON.parse(listed.stdout) as { name: string; live: boolean }[])
        .filter((w) => w.live).map((w) => w.name);
      return names.every((n) => live.includes(n));
    }, { what: `workers ${names.join(", ")}`, timeoutMs: 60_000 });
  };

  before(async () => {
    net = await createTestHosts(3, { label: "fleet" });
    // Redis accepts non-loopback clients only with a password (protected mode).
    redis = await startRedis({ bind: net.rootAddress, password: "fleet-e2e-pass" });
    dirs.push(await makeTempRepo());
  });
  afterEach(async () => {
    for (const w of workers.splice(0)) {
      w.child.kill("SIGTERM");
      await w.exited;
    }
  });
  after(async () => {
    for (const w of workers) w.child.kill("SIGKILL");
    await redis?.close();
    await net?.close();
    for (const dir of dirs) await dir.remove();
  });

  it("labeled jobs run on their label's host, unlabeled ones spread over the hosts", async () => {
    const r = await repo("netone", fleetRepoFiles({ frees: 8, sleepMs: 400 }));
    const [h0, h1, h2] = net.hosts;
    worker(h0, "edge", r.trace, { labels: ["edge"] });
    worker(h1, "p1", r.trace);
    worker(h2, "p2", r.trace);
    await waitLive(r, ["edge", "p1", "p2"]);
    const applied = await r.ays(["blueprint"]);
    assert.equal(applied.code, 0, applied.stderr);
    const run = await r.ays(["install", "--json"]);
    assert.equal(run.code, 0, run.stderr);
    const starts = (await readTrace(r.trace)).filter((l) => l.what === "start");
    assert.equal(starts.length, 11, "each job ran once");
    for (const s of starts.filter((l) => !l.service.startsWith("free!"))) {
      assert.equal(s.worker, "edge", `${s.service} ran where its node is`);
    }
    const spread = new Set(
      starts.filter((l) => l.service.startsWith("free!")).map((l) => l.worker),
    );
    assert.ok(spread.size >= 2, `unlabeled jobs spread: ${[...spread]}`);
    const detail = JSON.parse(run.stdout) as { jobs: { service: string; worker?: string }[] };
    for (const job of detail.jobs) {
      assert.equal(job.worker, starts.find((s) => s.service === job.service)?.worker);
    }
  });

  it("kill -9 of a worker mid-job: the run finishes, the job ran again elsewhere, no ok job twice", async () => {
    const slow = { f1: 2500, f2: 2500, f3: 2500, f4: 2500 };
    const r = await repo("netkill", fleetRepoFiles({ frees: 4, slow }));
    const [h0, h1] = net.hosts;
    const victim = worker(h0, "victim", r.trace);
    await waitLive(r, ["victim"]);
    const applied = await r.ays(["blueprint"]);
    assert.equal(applied.code, 0, applied.stderr);
    const running = r.ays(["do", "install", "-r", "free", "--json"]);
    await untilTraced(r.trace, "start", { count: 2, description: "the victim to start two jobs" });
    worker(h1, "survivor", r.trace);
    victim.child.kill("SIGKILL");
    const run = await running;
    assert.equal(run.code, 0, run.stderr);
    const detail = JSON.parse(run.stdout) as { jobs: { state: string; worker?: string }[] };
    assert.deepEqual(detail.jobs.map((j) => j.state), ["ok", "ok", "ok", "ok"]);
    const trace = await readTrace(r.trace);
    const ends = trace.filter((l) => l.what === "end").map((l) => l.service).sort();
    assert.deepEqual(ends, ["free!f1", "free!f2", "free!f3", "free!f4"], "no ok job ran twice");
    const interrupted = trace.filter((l) =>
      l.what === "start" && l.worker === "victim" &&
      !trace.some((e) => e.what === "end" && e.service === l.service && e.worker === "victim")
    );
    assert.ok(interrupted.length >= 1);
    for (const l of interrupted) {
      assert.ok(
        trace.some((e) => e.what === "end" && e.service === l.service && e.worker === "survivor"),
      );
    }
  });

  it("SIGTERM of a worker lets its running job finish, then it exits 0", async () => {
    const r = await repo("netterm", fleetRepoFiles({ frees: 1, slow: { f1: 2500 } }));
    const w = worker(net.hosts[2], "leaving", r.trace);
    await waitLive(r, ["leaving"]);
    const applied = await r.ays(["blueprint"]);
    assert.equal(applied.code, 0, applied.stderr);
    const running = r.ays(["install", "-r", "free"]);
    await until(async () => (await readTrace(r.trace)).some((l) => l.what === "start"), {
      what: "the job to start",
      timeoutMs: 60_000,
    });
    w.child.kill("SIGTERM");
    const run = await running;
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual((await readTrace(r.trace)).map((l) => `${l.worker} ${l.what}`), [
      "leaving start",
      "leaving end",
    ]);
    assert.deepEqual(await w.exited, { code: 0, signal: null });
  });

  it("a worker with the fleet key refuses a wrongly signed job", async () => {
    const r = await repo("netsign", fleetRepoFiles({ frees: 1 }));
    worker(net.hosts[1], "keyed", r.trace, { key: "the-right-key" });
    await waitLive(r, ["keyed"]);
    const applied = await r.ays(["blueprint"]);
    assert.equal(applied.code, 0, applied.stderr);
    const wrong = await r.ays(["install", "-r", "free", "--json"], {
      AYS_FLEET_KEY: "a-wrong-key",
    });
    assert.equal(wrong.code, 1, wrong.stderr);
    const detail = JSON.parse(wrong.stdout) as { jobs: { error: { message: string } | null }[] };
    assert.match(detail.jobs[0].error?.message ?? "", /signature does not match/);
    assert.deepEqual(await readTrace(r.trace), [], "the refused job did not run");
    const right = await r.ays(["install", "-r", "free"], { AYS_FLEET_KEY: "the-right-key" });
    assert.equal(right.code, 0, right.stderr);
    assert.equal((await readTrace(r.trace)).filter((l) => l.what === "end").length, 1);
  });

  it("a coordinator killed mid-run: the next ays run finishes without running jobs again", async () => {
    const slow = { f1: 1500, f2: 1500, f3: 1500 };
    const r = await repo("netcoord", fleetRepoFiles({ frees: 3, slow }));
    worker(net.hosts[0], "steady", r.trace);
    await waitLive(r, ["steady"]);
    const applied = await r.ays(["blueprint"]);
    assert.equal(applied.code, 0, applied.stderr);
    const coordinator = spawn(aysBinary, ["do", "install", "-r", "free"], {
      cwd: r.dir.path,
      env: { ...process.env, ...r.env },
      stdio: "ignore",
    });
    const gone = new Promise((resolve) => coordinator.once("close", resolve));
    await untilTraced(r.trace, "start", { count: 2, description: "two jobs to start" });
    coordinator.kill("SIGKILL");
    await gone;
    await untilTraced(r.trace, "end", {
      count: 2,
      description: "the jobs to finish on the worker",
    });
    const run = await r.ays(["run"]);
    assert.equal(run.code, 0, run.stderr);
    const trace = await readTrace(r.trace);
    for (const service of ["free!f1", "free!f2", "free!f3"]) {
      assert.equal(trace.filter((l) => l.service === service && l.what === "start").length, 1);
      assert.equal(trace.filter((l) => l.service === service && l.what === "end").length, 1);
    }
  });
});
