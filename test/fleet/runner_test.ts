import assert from "node:assert/strict";
import { readFile, rm, writeFile } from "node:fs/promises";
import { basename, join, relative, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, it } from "node:test";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import {
  FLEET_PREFIX,
  fleetConnection,
  FleetRunner,
  type FleetRunnerOptions,
  FleetWorker,
  type FleetWorkerEvent,
  listWorkers,
} from "../../src/fleet/mod.ts";
import type { JobRequest } from "../../src/run/mod.ts";
import { openRedisDriver, type StoreDriver } from "../../src/store/mod.ts";
import {
  makeTempDir,
  type RedisServer,
  startRedis,
  type TempDir,
  until,
  writeFiles,
} from "../helpers/mod.ts";

const ACTIONS = `
import { readFileSync, appendFileSync, existsSync } from "node:fs";
import { helper } from "./lib/helper.ts";
export async function install(job) {
  const r = await job.exec("echo worker=$AYS_WORKER repo=$AYS_REPO_NAME");
  appendFileSync(job.args.count, job.service.name + "\\n");
  job.log("installing " + helper());
  job.service.data.port = 8080;
  return { out: r.stdout.trim() };
}
export async function waits(job) {
  appendFileSync(job.args.count, "start\\n");
  while (!existsSync(job.args.gate)) await new Promise((r) => setTimeout(r, 20));
  appendFileSync(job.args.count, "end\\n");
  return "done";
}
export async function cancellable(job) {
  job.log("waiting for the signal");
  // An abort that came before this line (the action still loading) fires no event.
  await new Promise((resolve) => job.signal.aborted ? resolve() : job.signal.addEventListener("abort", resolve));
  throw new Error("saw " + job.signal.reason.message);
}
export async function fails(job) {
  throw new Error("boom");
}
`;

function request(dir: string, action: string, args: Record<string, unknown>): JobRequest {
  return {
    actionsPath: join(dir, "actorTemplates", "web", "actions.ts"),
    action,
    args,
    runId: "run-1",
    attempt: 1,
    repo: { name: "fleetrepo", path: dir },
    service: {
      name: "web1",
      actor: "web",
      role: "web",
      key: "k-web1",
      data: { port: 80 },
      parent: null,
      producers: {},
      consumers: [],
    },
    secrets: [],
  };
}

describe("the fleet: a coordinator's runner and workers on a real Redis", () => {
  let redis: RedisServer;
  let dir: TempDir;
  let store: StoreDriver;
  let client: Redis;
  const workers: FleetWorker[] = [];
  const events: FleetWorkerEvent[] = [];
  const runners: FleetRunner[] = [];

  const startWorker = async (
    name: string,
    extra: { labels?: string[]; key?: string; concurrency?: number; log?: (l: string) => void } =
      {},
  ) => {
    const w = await FleetWorker.start(redis.url, {
      name,
      concurrency: 2,
      cacheDir: join(dir.path, "cache", name),
      workDir: join(dir.path, "work", name),
      onEvent: (e) => events.push(e),
      ...extra,
    });
    workers.push(w);
    return w;
  };
  const runner = async (options: Partial<FleetRunnerOptions> = {}) => {
    const r = await FleetRunner.open(redis.url, {
      repo: "fleetrepo",
      store,
      router: () => "default",
      ...options,
    });
    runners.push(r);
    return r;
  };

  before(async () => {
    redis = await startRedis();
    dir = await makeTempDir("ays-fleet-");
    await writeFiles(dir.path, {
      "actorTemplates/web/actions.ts": ACTIONS,
      "actorTemplates/web/lib/helper.ts": `export const helper = () => "with a helper";\n`,
    });
    store = await openRedisDriver(redis.url, { namespace: "fleetrepo" });
    client = await fleetConnection(redis.url);
  });
  after(async () => {
    for (const r of runners) await r.close();
    for (const w of workers) await w.stop({ force: true });
    await store.close();
    client.disconnect();
    await redis.close();
    await dir.remove();
  });

  it("runs a job on a worker: template files by hash, AYS_WORKER, data, log and the worker's name", async () => {
    const w = await startWorker("alpha");
    const r = await runner();
    const count = join(dir.path, "count-1");
    const logs: string[] = [];
    const outcome = await r.run(request(dir.path, "install", { count }), {
      onLog: (text) => logs.push(text),
    });
    assert.equal(outcome.ok, true, String(outcome.error?.message));
    assert.equal(outcome.worker, "alpha");
    assert.deepEqual(outcome.result, { out: "worker=alpha repo=fleetrepo" });
    assert.deepEqual(outcome.data, { port: 8080 });
    assert.match(logs.join(""), /installing with a helper/);
    assert.match(outcome.log, /installing with a helper/);
    assert.equal(await readFile(count, "utf8"), "web1\n");
    // Live: its heartbeat is fresh at the time of its last beat (a clock of its own).
    const listed = await listWorkers(client, { now: w.info.heartbeat });
    assert.deepEqual(listed.map((x) => [x.name, x.live, x.labels]), [["alpha", true, ["default"]]]);
    assert.deepEqual(events.map((e) => [e.type, e.worker.name]), [["worker.joined", "alpha"]]);
    await w.stop();
    workers.splice(workers.indexOf(w), 1);
    assert.deepEqual(await listWorkers(client), []);
    assert.deepEqual(events.map((e) => e.type), ["worker.joined", "worker.left"]);
  });

  it("routes a labeled job to a worker with that label only", async () => {
    await startWorker("plain");
    await startWorker("dbhost", { labels: ["db"] });
    const r = await runner({ router: (req) => (req.action === "install" ? "db" : "default") });
    for (let i = 0; i < 4; i++) {
      const outcome = await r.run(request(dir.path, "install", { count: join(dir.path, "c2") }));
      assert.equal(outcome.worker, "dbhost");
    }
  });

  it("a job no live worker serves waits visibly, then fails after the worker timeout", async () => {
    const r = await runner({ router: () => "nobody", workerTimeoutMs: 300 });
    const logs: string[] = [];
    const outcome = await r.run(request(dir.path, "install", { count: join(dir.path, "c3") }), {
      onLog: (text) => logs.push(text),
    });
    assert.equal(outcome.ok, false);
    assert.equal(outcome.error?.message, "no worker labeled nobody took the job within 300 ms");
    assert.match(logs.join(""), /waiting for a worker labeled nobody: none is live/);
  });

  it("a failed action is a failed outcome, named by its worker", async () => {
    const r = await runner();
    const outcome = await r.run(request(dir.path, "fails", {}));
    assert.equal(outcome.ok, false);
    assert.equal(outcome.error?.message, "boom");
    assert.ok(outcome.worker);
  });

  it("cancellation reaches the worker's job.signal", async () => {
    const r = await runner();
    const cancel = new AbortController();
    const logs: string[] = [];
    const running = r.run(request(dir.path, "cancellable", {}), {
      signal: cancel.signal,
      onLog: (text) => logs.push(text),
    });
    await until(() => logs.join("").includes("waiting for the signal"), { what: "the job's log" });
    cancel.abort(new Error("cancelled by SIGINT"));
    const outcome = await running;
    assert.equal(outcome.ok, false);
    assert.equal(outcome.cancelled, true);
    assert.equal(outcome.error?.message, "saw cancelled by SIGINT");
  });

  it("a job cancelled while it is being sent is taken out of its queue once it is there", async () => {
    // No worker serves the label: the job could only end by its cancellation or its timeout.
    const r = await runner({ router: () => "nobody", workerTimeoutMs: 30_000 });
    const cancel = new AbortController();
    const running = r.run(request(dir.path, "install", { count: join(dir.path, "c-sent") }), {
      signal: cancel.signal,
    });
    cancel.abort(new Error("cancelled by SIGINT"));
    const outcome = await running;
    assert.equal(outcome.ok, false);
    assert.equal(outcome.cancelled, true);
    assert.equal(outcome.error?.message, "cancelled before a worker took it");
    assert.equal(await client.llen(`${FLEET_PREFIX}:q-nobody:wait`), 0);
  });

  it("a job gone from its queue without an event is found by the check on it", async () => {
    const r = await runner({ router: () => "lost", pollMs: 50, workerTimeoutMs: 30_000 });
    const logs: string[] = [];
    const running = r.run(request(dir.path, "install", { count: join(dir.path, "c-lost") }), {
      onLog: (text) => logs.push(text),
    });
    await until(() => logs.join("").includes("waiting for a worker labeled lost"), {
      what: "the job to be sent",
    });
    // Taken out behind the coordinator's back: BullMQ's "removed" event is not one it reads.
    const [id] = await client.lrange(`${FLEET_PREFIX}:q-lost:wait`, 0, -1);
    const queue = new Queue("q-lost", { connection: client, prefix: FLEET_PREFIX });
    assert.equal(await queue.remove(id), 1);
    await queue.close();
    const outcome = await running;
    assert.equal(outcome.ok, false);
    assert.equal(outcome.error?.message, "the job is gone from the fleet's queue");
  });

  it("a killed coordinator's job is adopted by the next one, which does not run it again", async () => {
    const first = await runner();
    const count = join(dir.path, "count-adopt");
    const gate = join(dir.path, "gate-adopt");
    const req = request(dir.path, "waits", { count, gate });
    void first.run(req);
    await until(async () => (await readFile(count, "utf8").catch(() => "")).includes("start"), {
      what: "the job to start",
    });
    await first.close(); // the coordinator is gone; its job runs on
    const second = await runner();
    const logs: string[] = [];
    const adopted = second.run(req, { onLog: (text) => logs.push(text) });
    await writeFile(gate, "");
    const outcome = await adopted;
    assert.equal(outcome.ok, true, String(outcome.error?.message));
    assert.equal(outcome.result, "done");
    assert.equal(await readFile(count, "utf8"), "start\nend\n");
    assert.match(logs.join(""), /adopted/);
    // It finished: a third run of the same action sends a new job.
    const again = await second.run(req);
    assert.equal(await readFile(count, "utf8"), "start\nend\nstart\nend\n");
    assert.equal(again.ok, true);
  });

  it("takes the outcome of a job that finished while no coordinator was running", async () => {
    const first = await runner();
    const count = join(dir.path, "count-finished");
    const gate = join(dir.path, "gate-finished");
    const req = request(dir.path, "waits", { count, gate });
    void first.run(req);
    await until(async () => (await readFile(count, "utf8").catch(() => "")).includes("start"), {
      what: "the job to start",
    });
    await first.close();
    await writeFile(gate, "");
    await until(async () => (await readFile(count, "utf8")).includes("end"), {
      what: "the job to end",
    });
    const second = await runner();
    const logs: string[] = [];
    const outcome = await second.run(req, { onLog: (text) => logs.push(text) });
    assert.equal(outcome.ok, true, String(outcome.error?.message));
    assert.equal(await readFile(count, "utf8"), "start\nend\n");
    assert.match(logs.join(""), /adopted: the fleet ran this job while no coordinator was running/);
  });

  it("a worker with a fleet key refuses unsigned and wrongly signed jobs, runs signed ones", async () => {
    for (const w of workers.splice(0)) await w.stop();
    await startWorker("keyed", { key: "s3cret" });
    const unsigned = await runner();
    const wrong = await runner({ key: "not-it" });
    const right = await runner({ key: "s3cret" });
    const count = join(dir.path, "count-signed");
    const a = await unsigned.run(request(dir.path, "install", { count }));
    assert.equal(a.ok, false);
    assert.match(a.error?.message ?? "", /refused: the job is not signed/);
    const b = await wrong.run(request(dir.path, "install", { count }));
    assert.equal(b.ok, false);
    assert.match(b.error?.message ?? "", /refused: the job's signature does not match/);
    assert.equal(await readFile(count, "utf8").catch(() => ""), "", "no refused job ran");
    const c = await right.run(request(dir.path, "install", { count }));
    assert.equal(c.ok, true, String(c.error?.message));
    assert.equal(await readFile(count, "utf8"), "web1\n");
  });

  it("a job cancelled while it waits on its worker for a slot ends before it starts", async () => {
    for (const w of workers.splice(0)) await w.stop();
    // One slot for both its queues: the db job is taken while the default one holds the slot.
    const lines: string[] = [];
    await startWorker("single", { labels: ["db"], concurrency: 1, log: (l) => lines.push(l) });
    const r = await runner({ router: (req) => (req.action === "install" ? "db" : "default") });
    const count = join(dir.path, "count-slot");
    const gate = join(dir.path, "gate-slot");
    const first = r.run(request(dir.path, "waits", { count, gate }));
    await until(async () => (await readFile(count, "utf8").catch(() => "")).includes("start"), {
      what: "the first job to start",
    });
    const cancel = new AbortController();
    const installed = join(dir.path, "count-slot-2");
    const second = r.run(request(dir.path, "install", { count: installed }), {
      signal: cancel.signal,
    });
    await until(async () => (await client.llen(`${FLEET_PREFIX}:q-db:active`)) === 1, {
      what: "the worker to take the second job",
    });
    cancel.abort(new Error("cancelled by SIGINT"));
    // The cancellation reached the worker before the slot frees up.
    await until(() => lines.some((l) => /cancelled by its coordinator/.test(l)), {
      what: "the cancellation to reach the worker",
    });
    assert.equal(workers[0].info.running, 1, "the waiting job does not count as running");
    await writeFile(gate, "");
    assert.equal((await first).ok, true);
    const outcome = await second;
    assert.equal(outcome.ok, false);
    assert.equal(outcome.cancelled, true);
    assert.equal(outcome.error?.message, "cancelled before it started");
    assert.equal(await readFile(installed, "utf8").catch(() => "never ran"), "never ran");
  });

  describe("the ancestors' template trees", () => {
    const parentActions = `import { writeFileSync } from "node:fs";
export function executor(job) {
  writeFileSync(job.service.data.marker, import.meta.url);
  return { kind: "local" };
}
`;
    const jobWith = (checkout: string, marker: string): JobRequest => {
      const parent = {
        name: "n1",
        actor: "node",
        role: "node",
        key: "k-node-n1",
        data: { marker },
        parent: null,
        producers: {},
        consumers: [],
      };
      const base = request(dir.path, "install", {});
      return {
        ...base,
        actionsPath: join(checkout, "actorTemplates", "app", "actions.js"),
        service: { ...base.service, key: `k-app-${basename(checkout)}`, parent },
        ancestors: [{
          actionsPath: join(checkout, "actorTemplates", "node", "actions.js"),
          service: parent,
        }],
      };
    };
    /** Sends `req` while no worker is live, then removes the coordinator's checkout. */
    const sendThenRemove = async (req: JobRequest, checkout: string) => {
      for (const w of workers.splice(0)) await w.stop();
      const r = await runner();
      const logs: string[] = [];
      const running = r.run(req, { onLog: (text) => logs.push(text) });
      await until(() => logs.join("").includes("waiting for a worker labeled default"), {
        what: "the job to be sent",
      });
      await rm(checkout, { recursive: true });
      return { outcome: running };
    };
    const writeCheckout = async (name: string) => {
      const checkout = join(dir.path, name);
      await writeFiles(checkout, {
        "actorTemplates/app/actions.js": `export function install() { return "installed"; }\n`,
        "actorTemplates/node/actions.js": parentActions,
      });
      return checkout;
    };

    it("a worker with no checkout runs a job whose parent's actions matter", async () => {
      const checkout = await writeCheckout("checkout-run");
      const marker = join(dir.path, "walked");
      const { outcome: running } = await sendThenRemove(jobWith(checkout, marker), checkout);
      await startWorker("nocheckout");
      const outcome = await running;
      assert.equal(outcome.ok, true, String(outcome.error?.message));
      assert.equal(outcome.result, "installed");
      // The parent's executor() was called on its file (where: the next test).
      assert.match(await readFile(marker, "utf8"), /\/actions\.js$/);
    });

    it("the job as it runs on the worker names them in the worker's cache, by hash", async () => {
      const checkout = await writeCheckout("checkout-echo");
      const marker = join(dir.path, "walked-echo");
      const { outcome: running } = await sendThenRemove(jobWith(checkout, marker), checkout);
      // A job worker that answers with the request it got: what the worker's pool runs.
      const echo = join(dir.path, "echo_worker.js");
      await writeFile(
        echo,
        `self.onmessage = (event) => {
          const m = event.data;
          if (m.type === "ping") postMessage({ type: "pong", id: m.id, runtime: "test" });
          if (m.type === "run") {
            const r = m.request;
            postMessage({ type: "result", id: m.id, data: r.service.data, result: {
              own: r.actionsPath, ancestors: r.ancestors.map((a) => a.actionsPath) } });
          }
        };\n`,
      );
      const cacheDir = join(dir.path, "cache", "echo");
      const w = await FleetWorker.start(redis.url, {
        name: "echo",
        cacheDir,
        workDir: join(dir.path, "work", "echo"),
        poolSpecifier: pathToFileURL(echo).href,
      });
      workers.push(w);
      const outcome = await running;
      assert.equal(outcome.ok, true, String(outcome.error?.message));
      const { own, ancestors } = outcome.result as { own: string; ancestors: string[] };
      assert.equal(ancestors.length, 1);
      for (const path of [own, ...ancestors]) {
        assert.ok(path.startsWith(cacheDir + sep), `${path} is in the worker's cache`);
      }
      assert.equal(relative(cacheDir, ancestors[0]).split(sep).length, 2, "<sha>/actions.js");
      assert.equal(await readFile(ancestors[0], "utf8"), parentActions);
    });
  });

  it("a worker that lost Redis reconnects and takes jobs again", async () => {
    for (const w of workers.splice(0)) await w.stop();
    const lines: string[] = [];
    const w = await FleetWorker.start(redis.url, {
      name: "phoenix",
      cacheDir: join(dir.path, "cache", "phoenix"),
      workDir: join(dir.path, "work", "phoenix"),
      log: (line) => lines.push(line),
    });
    workers.push(w);
    await redis.restart();
    await until(() => lines.some((l) => l.startsWith("connected to Redis again")), {
      what: "the worker to reconnect",
      timeoutMs: 60_000,
    });
    assert.ok(lines.some((l) => l.startsWith("lost the connection to Redis")), lines.join("\n"));
    const r = await runner();
    const count = join(dir.path, "count-phoenix");
    const outcome = await r.run(request(dir.path, "install", { count }));
    assert.equal(outcome.ok, true, String(outcome.error?.message));
    assert.equal(outcome.worker, "phoenix");
  });
});
