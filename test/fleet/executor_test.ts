/**
 * A fleet job's executor (docs/fleet.md, "A job's executor on the fleet"): the coordinator
 * walks the parent chain where the ancestors' actions files are and sends the resolved spec;
 * the worker runs the job on it. Real redis-server, real FleetRunner and FleetWorker (Web
 * Workers); the SSH side is proven end to end in test/e2e/fleet_ssh_test.ts.
 */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  actionsLoader,
  FleetRunner,
  FleetWorker,
  resolveFleetExecutor,
} from "../../src/fleet/mod.ts";
import type { JobRequest, JobServiceData } from "../../src/run/mod.ts";
import { openRedisDriver, type StoreDriver } from "../../src/store/mod.ts";
import {
  makeTempDir,
  type RedisServer,
  startRedis,
  type TempDir,
  writeFiles,
} from "../helpers/mod.ts";

// Where executor() runs shows in the port it gives: the coordinator's main thread or a worker.
const NODE_ACTIONS = `
import { isMainThread } from "node:worker_threads";
export function executor(job) {
  return {
    kind: "ssh",
    host: "127.0.0.1",
    port: isMainThread ? job.service.data.mainPort : 2,
    user: "root",
    connectAttempts: 1,
    connectTimeout: 2,
  };
}
`;

const APP_ACTIONS = `
export async function where(job) {
  return job.executor;
}
export async function remote(job) {
  await job.exec("echo never");
}
export async function local(job) {
  const r = await job.local.exec("echo local=$AYS_WORKER");
  return r.stdout.trim();
}
`;

const BROKEN_ACTIONS = `export function executor() { throw new Error("no address yet"); }\n`;

function service(name: string, actor: string, data: Record<string, unknown>): JobServiceData {
  return {
    name,
    actor,
    role: actor,
    key: `k-${name}`,
    data,
    parent: null,
    producers: {},
    consumers: [],
  };
}

describe("a fleet job's executor: resolved by the coordinator, honoured by the worker", () => {
  let redis: RedisServer;
  let dir: TempDir;
  let store: StoreDriver;
  let worker: FleetWorker;
  let runner: FleetRunner;
  /** A local port nothing listens on (taken, then released). */
  let closedPort: number;

  const request = (action: string, parentActions = "node"): JobRequest => ({
    actionsPath: join(dir.path, "actorTemplates", "app", "actions.js"),
    action,
    args: {},
    runId: "run-x",
    attempt: 1,
    repo: { name: "execrepo", path: dir.path },
    service: service("a1", "app", {}),
    ancestors: [{
      actionsPath: join(dir.path, "actorTemplates", parentActions, "actions.js"),
      service: service("n1", "node", { mainPort: closedPort }),
    }],
    secrets: [],
  });

  before(async () => {
    redis = await startRedis();
    dir = await makeTempDir("ays-fleet-exec-");
    await writeFiles(dir.path, {
      "actorTemplates/node/actions.js": NODE_ACTIONS,
      "actorTemplates/broken/actions.js": BROKEN_ACTIONS,
      "actorTemplates/app/actions.js": APP_ACTIONS,
    });
    closedPort = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    store = await openRedisDriver(redis.url, { namespace: "execrepo" });
    worker = await FleetWorker.start(redis.url, {
      name: "execw",
      concurrency: 2,
      cacheDir: join(dir.path, "cache"),
      workDir: join(dir.path, "work"),
    });
    runner = await FleetRunner.open(redis.url, {
      repo: "execrepo",
      store,
      router: () => "default",
    });
  });
  after(async () => {
    await runner?.close();
    await worker?.stop({ force: true });
    await store?.close();
    await redis?.close();
    await dir?.remove();
  });

  it("resolveFleetExecutor walks the chain: the nearest executor(), executor: local, noexec", async () => {
    const calls: string[] = [];
    const load = (path: string) => {
      calls.push(path);
      return Promise.resolve(
        path.endsWith("node.js")
          ? {
            executor: (job: { service: { name: string } }) => ({
              kind: "ssh",
              host: job.service.name,
            }),
          }
          : {},
      );
    };
    const req = (extra: Partial<JobRequest>): JobRequest => ({
      ...request("where"),
      actionsPath: "/t/app.js",
      ancestors: [
        { actionsPath: null, service: service("mid", "mid", {}) },
        { actionsPath: "/t/node.js", service: service("n9", "node", {}) },
      ],
      ...extra,
    });
    assert.deepEqual(await resolveFleetExecutor(req({}), { load }), { kind: "ssh", host: "n9" });
    assert.deepEqual(calls, ["/t/app.js", "/t/node.js"]);
    assert.deepEqual(await resolveFleetExecutor(req({ executorLocal: true }), { load }), {
      kind: "local",
    });
    assert.deepEqual(await resolveFleetExecutor(req({ noexec: true }), { load }), {
      kind: "local",
    });
    await assert.rejects(
      resolveFleetExecutor(req({}), { load: () => Promise.resolve({ executor: () => ({}) }) }),
      /executor\(\) of app!a1 \(\/t\/app\.js\): /,
    );
  });

  it("actionsLoader imports each file once; a missing one rejects", async () => {
    const load = actionsLoader();
    const path = join(dir.path, "actorTemplates", "node", "actions.js");
    const first = load(path);
    assert.equal(load(path), first, "the same import");
    assert.equal(typeof (await first).executor, "function");
    await assert.rejects(load(join(dir.path, "missing.js")));
  });

  it("the worker runs the job on the executor the coordinator resolved", async () => {
    const outcome = await runner.run(request("where"));
    assert.equal(outcome.ok, true, String(outcome.error?.message));
    assert.equal(outcome.worker, "execw");
    // The main thread's port: the coordinator's walk, not one in the worker's job thread.
    assert.deepEqual(outcome.result, {
      kind: "ssh",
      host: "127.0.0.1",
      port: closedPort,
      user: "root",
    });
  });

  it("job.exec goes to the SSH target from the worker; job.local.exec stays on the worker", async () => {
    const remote = await runner.run(request("remote"));
    assert.equal(remote.ok, false);
    assert.match(
      remote.error?.message ?? "",
      new RegExp(`^host unreachable: root@127\\.0\\.0\\.1:${closedPort} `),
    );
    const local = await runner.run(request("local"));
    assert.equal(local.ok, true, String(local.error?.message));
    assert.equal(local.result, "local=execw");
  });

  it("a failing executor() fails the job on the coordinator, naming the service", async () => {
    const outcome = await runner.run(request("where", "broken"));
    assert.equal(outcome.ok, false);
    assert.equal(outcome.worker, undefined, "no worker got it");
    assert.match(
      outcome.error?.message ?? "",
      /^executor\(\) of node!n1 \(.*broken\/actions\.js\) failed: no address yet$/,
    );
  });
});
