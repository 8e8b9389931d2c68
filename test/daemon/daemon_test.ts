import assert from "node:assert/strict";
import { createServer } from "node:http";
import { hostname } from "node:os";
import { describe, it } from "node:test";
import type {
  DaemonStatus,
  QueueItem,
  RecurringStartInfo,
  RecurringTarget,
} from "../../src/daemon/backend.ts";
import { type DaemonRepo, isDaemonAlive, startDaemon } from "../../src/daemon/daemon.ts";
import { createLogger } from "../../src/daemon/logger.ts";
import { InputError, UnavailableError } from "../../src/errors.ts";
import { delay, FakeBackend, makeService, MemoryStatusStore } from "./fake_backend.ts";

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not reached");
    await delay(10);
  }
}

/** A daemon over the fake backend whose runs and recurring jobs are recorded. */
function setup() {
  const backend = new FakeBackend({
    alpha: [makeService("node", "web1", { monitor: { period: 0.3 } })],
    beta: [],
  });
  const repos: DaemonRepo[] = [...backend.queues.values()].map((queue) => ({
    name: queue.repo,
    queue,
  }));
  const recurring: { service: string; info: RecurringStartInfo }[] = [];
  const release = { run: () => {} };
  const options = {
    backend,
    loadServices: () =>
      Promise.resolve(
        [...backend.services_].flatMap(([repo, services]) =>
          services.map((service): RecurringTarget => ({ repo, service }))
        ),
      ),
    runRecurring: (target: RecurringTarget, action: string, info: RecurringStartInfo) => {
      target.service.actions[action].lastRun = info.startedAt;
      recurring.push({ service: target.service.name, info });
      return Promise.resolve();
    },
    executeRun: async (item: QueueItem) => {
      backend.runs_.set(item.id, {
        id: item.id,
        repo: item.request.repo,
        scope: item.request,
        state: "running",
      });
      await new Promise<void>((resolve) => (release.run = resolve));
      backend.runs_.get(item.id)!.state = "ok";
    },
    listen: { host: "127.0.0.1", port: 0 },
    popTimeoutMs: 50,
    heartbeatMs: 100,
  };
  return { backend, repos, recurring, release, options };
}

describe("startDaemon", () => {
  it("serves the API, runs recurring actions and queued runs, keeps its status", async () => {
    const { backend, repos, recurring, release, options } = setup();
    const statusStore = new MemoryStatusStore();
    const lines: string[] = [];
    const daemon = await startDaemon(repos, {
      ...options,
      statusStore,
      logger: createLogger({ format: "json", write: (line) => lines.push(line) }),
    });
    try {
      const health = await (await fetch(daemon.url + "/health")).json();
      assert.equal(health.status, "ok");
      assert.deepEqual(health.repos, ["alpha", "beta"]);

      const queued = await fetch(daemon.url + "/repos/alpha/runs", {
        method: "POST",
        body: JSON.stringify({ action: "install" }),
      });
      assert.equal(queued.status, 202);
      const { id } = await queued.json();
      await until(() => backend.runs_.get(id)?.state === "running");
      await until(() => statusStore.current?.jobs.some((job) => job.runId === id) ?? false);
      const status = statusStore.current!;
      assert.equal(status.pid, process.pid);
      assert.equal(status.host, hostname());
      assert.equal(status.address, `127.0.0.1:${daemon.address.port}`);
      assert.deepEqual(status.repos, ["alpha", "beta"]);
      const job = status.jobs.find((j) => j.kind === "run")!;
      assert.deepEqual({ ...job, startedAt: "" }, {
        kind: "run",
        repo: "alpha",
        runId: id,
        action: "install",
        startedAt: "",
      });
      release.run();
      await until(() => backend.queues.get("alpha")!.pending === 0);
      const run = await (await fetch(`${daemon.url}/runs/${id}`)).json();
      assert.equal(run.state, "ok");

      await until(() => recurring.length >= 2);
      assert.ok(recurring.every((r) => r.service === "web1"));
      assert.ok(isDaemonAlive(daemon.status()));
    } finally {
      await daemon.stop();
    }
    assert.equal(statusStore.current, null, "the status is cleared when the daemon stops");
    assert.equal(statusStore.cleared.length, 1);
    const messages = lines.map((line) => JSON.parse(line).msg);
    assert.ok(messages.includes("daemon started"));
    assert.equal(messages.at(-1), "daemon stopped");
    // The port is free again.
    const again = await startDaemon(repos, {
      ...options,
      listen: { host: "127.0.0.1", port: daemon.address.port },
    });
    await again.stop();
  });

  it("stop() waits for the running queued run, which gets the abort signal", async () => {
    const { backend, repos, options } = setup();
    let aborted = false;
    const daemon = await startDaemon(repos, {
      ...options,
      executeRun: async (item, { signal }) => {
        backend.runs_.set(item.id, { id: item.id, repo: "alpha", scope: {}, state: "running" });
        await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
        aborted = true;
        await delay(100);
        backend.runs_.get(item.id)!.state = "error";
      },
    });
    const id = backend.queues.get("alpha")!.push({});
    await until(() => backend.runs_.has(id));
    await daemon.stop();
    assert.ok(aborted);
    assert.equal(backend.runs_.get(id)!.state, "error", "the run ended before stop() resolved");
    assert.equal(backend.queues.get("alpha")!.pending, 0);
    assert.equal(daemon.stop(), daemon.stop(), "stop() twice is the same promise");
  });

  it("fails before starting any job: token rule (exit 2) and port in use (exit 4)", async () => {
    const { repos, recurring, options } = setup();
    await assert.rejects(
      startDaemon(repos, { ...options, listen: { host: "0.0.0.0", port: 0 } }),
      InputError,
    );
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, "127.0.0.1", resolve));
    const port = (squatter.address() as { port: number }).port;
    try {
      await assert.rejects(
        startDaemon(repos, { ...options, listen: { host: "127.0.0.1", port } }),
        (error: unknown) => error instanceof UnavailableError && error.exitCode === 4,
      );
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
    // The never-run recurring action would have started at once had the scheduler started.
    await delay(200);
    assert.equal(recurring.length, 0);
  });
});

describe("daemon status saves", () => {
  it("never overlap, and changes during a slow save end in one save of the latest", async () => {
    const { repos, options, backend } = setup();
    backend.services_.get("alpha")![0].actions.monitor.period = 0.02;
    let inFlight = 0;
    let most = 0;
    const saved: DaemonStatus[] = [];
    // Once the daemon runs, a save waits for the test to let it go: slow for as long as it takes
    // more than ten changes to happen meanwhile, however fast the machine makes them (a fixed
    // 60 ms save and a 500 ms wait counted how many 20 ms periods fit in it on a loaded machine).
    let held: Promise<void> = Promise.resolve();
    let letGo = () => {};
    const store = {
      async save(status: DaemonStatus) {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await held;
        saved.push(status);
        inFlight -= 1;
      },
      clear: () => Promise.resolve(),
    };
    let changes = 0;
    const daemon = await startDaemon(repos, {
      ...options,
      statusStore: store,
      heartbeatMs: 60_000,
      runRecurring: (target, action, info) => {
        changes += 2; // a start and an end
        target.service.actions[action].lastRun = info.startedAt;
        return Promise.resolve();
      },
    });
    held = new Promise((resolve) => letGo = () => resolve());
    try {
      await until(() => inFlight === 1);
      const before = changes;
      await until(() => changes > before + 10);
    } finally {
      letGo();
      await daemon.stop();
    }
    assert.equal(most, 1);
    assert.ok(changes > 10, `${changes} changes`);
    assert.ok(saved.length < changes, `${saved.length} saves for ${changes} changes`);
    const times = saved.map((s) => Date.parse(s.updatedAt));
    assert.deepEqual(times, [...times].sort((a, b) => a - b), "saved in order");
  });
});

describe("isDaemonAlive", () => {
  const status: DaemonStatus = {
    pid: 4242,
    host: "box",
    since: "2026-01-01T00:00:00.000Z",
    address: "127.0.0.1:5000",
    repos: ["alpha"],
    jobs: [],
    updatedAt: "2026-01-01T00:10:00.000Z",
    heartbeatMs: 5000,
  };
  const at = Date.parse(status.updatedAt);

  it("trusts a fresh heartbeat of another machine and refuses a stale one", () => {
    assert.ok(isDaemonAlive(status, { now: at + 10_000, host: "other" }));
    assert.ok(!isDaemonAlive(status, { now: at + 20_000, host: "other" }));
  });

  it("on this machine also checks that the process exists", () => {
    assert.ok(isDaemonAlive(status, { now: at, host: "box", pidAlive: () => true }));
    assert.ok(!isDaemonAlive(status, { now: at, host: "box", pidAlive: () => false }));
    const mine = { ...status, pid: process.pid, host: hostname() };
    assert.ok(isDaemonAlive(mine, { now: at }));
  });
});
