/**
 * The daemon's queued runs on the fleet (docs/fleet.md, "Queued runs of the daemon"): a
 * repository with `fleet: true` on a real redis-server, an `ays daemon` process and an
 * `ays worker` process; `ays run --queue` goes through the daemon to the worker. A SQLite
 * repository with `fleet: true` is refused when the daemon starts.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { after, before, describe, it } from "node:test";
import { captureIo, runCli } from "../../src/cli/mod.ts";
import { EventLog } from "../../src/events/mod.ts";
import { openRedisDriver } from "../../src/store/mod.ts";
import {
  aysCommand,
  makeTempRepo,
  type RedisServer,
  startRedis,
  type TempDir,
  until,
} from "../helpers/mod.ts";
import { fleetRepoFiles, readTrace, spawnWorker, type WorkerProcess } from "./fleet_fixture.ts";

describe("the daemon's queued runs go to the fleet when the repository says fleet: true", () => {
  let redis: RedisServer;
  const dirs: TempDir[] = [];
  let worker: WorkerProcess | undefined;
  let daemon: ChildProcess | undefined;

  const repo = async (config: string) => {
    const dir = await makeTempRepo({ files: fleetRepoFiles({ frees: 3 }) });
    dirs.push(dir);
    await writeFile(join(dir.path, ".ays", "config.yaml"), config);
    const env = { XDG_CONFIG_HOME: join(dir.path, ".cfg") };
    const ays = async (args: string[]) => {
      const io = captureIo({ env, cwd: dir.path });
      const code = await runCli(args, io);
      return { code, out: io.out.join(""), err: io.err.join("") };
    };
    return { dir, env, ays, trace: join(dir.path, "trace.log") };
  };

  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    worker?.child.kill("SIGKILL");
    daemon?.kill("SIGKILL");
    await redis?.close();
    for (const dir of dirs) await dir.remove();
  });

  it("ays run --queue: the daemon sends the jobs to the worker; the run record names it", async () => {
    const r = await repo(`name: dfleet\nstore: ${redis.url}\nfleet: true\n`);
    assert.equal((await r.ays(["blueprint"])).code, 0);
    worker = spawnWorker(redis.url, "dq-worker", {
      concurrency: 3,
      env: { FLEET_TRACE: r.trace, XDG_CACHE_HOME: join(r.dir.path, ".cache") },
    });
    const [cmd, ...args] = aysCommand("bun");
    daemon = spawn(cmd, [...args, "daemon", "--listen", "127.0.0.1:0"], {
      cwd: r.dir.path,
      env: { ...process.env as Record<string, string>, ...r.env, FLEET_TRACE: r.trace },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let daemonOut = "";
    daemon.stdout!.on("data", (c) => (daemonOut += String(c)));
    daemon.stderr!.on("data", (c) => (daemonOut += String(c)));
    await until(async () => {
      const status = await r.ays(["daemon", "status", "--json"]);
      return status.code === 0 && JSON.parse(status.out).serving === true;
    }, { what: "the daemon", timeoutMs: 60_000 });
    await until(() => worker!.output().includes("joined the fleet"), {
      what: "the worker",
      timeoutMs: 60_000,
    });

    const scheduled = await r.ays(["install", "-r", "free", "--schedule-only"]);
    assert.equal(scheduled.code, 0, scheduled.err);
    const queued = await r.ays(["run", "--queue", "-r", "free"]);
    assert.equal(queued.code, 0, queued.err);
    const id = queued.out.trim().split(/\s+/).pop()!;
    const watched = await r.ays(["watch", id]);
    assert.equal(watched.code, 0, `${watched.err}\n${daemonOut}\n${worker.output()}`);

    // Every job ran once, on the worker (its commands saw AYS_WORKER), not in the daemon.
    const starts = (await readTrace(r.trace)).filter((l) => l.what === "start");
    assert.deepEqual(
      starts.map((l) => `${l.service} ${l.worker}`).sort(),
      ["free!f1 dq-worker", "free!f2 dq-worker", "free!f3 dq-worker"],
    );
    const show = await r.ays(["run", "show", id, "--json"]);
    assert.equal(show.code, 0, show.err);
    const jobs = (JSON.parse(show.out) as { jobs: { state: string; worker?: string }[] }).jobs;
    assert.deepEqual(jobs.map((j) => [j.state, j.worker]), [
      ["ok", "dq-worker"],
      ["ok", "dq-worker"],
      ["ok", "dq-worker"],
    ]);

    // The daemon tells the repository's stream who joins and leaves the fleet.
    const driver = await openRedisDriver(redis.url, { namespace: "dfleet" });
    try {
      const log = new EventLog(driver, { repo: "dfleet" });
      const fleetEvents = async () =>
        (await log.since(0)).filter((e) => e.type.startsWith("worker."))
          .map((e) => `${e.type} ${(e as { worker: string }).worker}`);
      await until(async () => (await fleetEvents()).length > 0, { what: "worker.joined" });
      process.kill(worker.child.pid!, "SIGTERM");
      await worker.exited;
      await until(async () => (await fleetEvents()).length > 1, {
        what: "worker.left",
        timeoutMs: 60_000,
      });
      assert.deepEqual(await fleetEvents(), [
        "worker.joined dq-worker",
        "worker.left dq-worker",
      ]);
      const left = (await log.since(0)).find((e) => e.type === "worker.left");
      assert.equal((left as { reason?: string }).reason, "stopped");
    } finally {
      await driver.close();
    }
  });

  it("a SQLite repository with fleet: true: the daemon refuses to start, exit 2", async () => {
    const r = await repo("name: dsqlite\nfleet: true\n");
    const started = await r.ays(["daemon", "--listen", "127.0.0.1:0"]);
    assert.equal(started.code, 2, started.err);
    assert.match(
      started.err,
      /repository 'dsqlite' says fleet: true, but the fleet needs a Redis store shared with its workers/,
    );
    // Reading its status is no error.
    assert.equal((await r.ays(["daemon", "status"])).code, 0);
  });
});
