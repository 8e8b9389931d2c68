/**
 * The records layer over both backends: services with their data in the actor's capnp
 * schema, indexes, atomic saves, runs and jobs as separate records, the layout version.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { InputError } from "../../src/errors.ts";
import type { ActionState, JobRecord, RunRecord, ServiceRecord } from "../../src/model/types.ts";
import type { StoreDriver } from "../../src/store/driver.ts";
import { openRedisDriver } from "../../src/store/redis.ts";
import { LAYOUT_VERSION, openRepoStore } from "../../src/store/repo_store.ts";
import { openSqliteDriver } from "../../src/store/sqlite.ts";
import { makeTempDir, type RedisServer, startRedis, type TempDir } from "../helpers/mod.ts";
import { makeActor, makeService, nameOf } from "./fixtures.ts";

interface Backend {
  name: string;
  open(namespace: string): Promise<StoreDriver>;
  setup(): Promise<void>;
  teardown(): Promise<void>;
}

let dir: TempDir;
let redis: RedisServer;
const backends: Backend[] = [
  {
    name: "sqlite",
    open: (namespace) =>
      Promise.resolve(openSqliteDriver(join(dir.path, `${namespace}.db`), { namespace })),
    setup: async () => {
      dir = await makeTempDir();
    },
    teardown: () => dir.remove(),
  },
  {
    name: "redis",
    open: (namespace) => openRedisDriver(redis.url, { namespace }),
    setup: async () => {
      redis = await startRedis();
    },
    teardown: () => redis.close(),
  },
];

const run = (id: string, createdAt: number): RunRecord => ({
  id,
  repo: "r",
  scope: {},
  steps: [[{ service: "node!a", action: "install" }]],
  state: "new",
  createdAt,
  startedAt: null,
  endedAt: null,
  holder: null,
});

const job = (runId: string, id: string): JobRecord => ({
  id,
  runId,
  service: "node!a",
  action: "install",
  state: "new",
  attempts: 0,
  startedAt: null,
  endedAt: null,
  result: null,
  error: null,
  actionsHash: null,
});

for (const backend of backends) {
  describe(`records on ${backend.name}`, () => {
    let counter = 0;
    const drivers: StoreDriver[] = [];
    const fresh = async (name = `repo${++counter}`) => {
      const driver = await backend.open(name);
      drivers.push(driver);
      return driver;
    };
    before(() => backend.setup());
    after(async () => {
      for (const driver of drivers) await driver.close();
      await backend.teardown();
    });

    it("a large save (its writes put in key order) stores every service, index entry and deletion", async () => {
      const driver = await fresh("big");
      const store = await openRepoStore(driver, { repoName: "big" });
      const node = makeActor("node.ssh");
      const app = makeActor("app");
      const first = Array.from({ length: 150 }, (_, i) => makeService("big", node, `gone${i}`));
      await store.save({ actors: [node, app], services: first });
      // 300 services of two actors, in no key order, children among them; the first ones go.
      const services = Array.from(
        { length: 300 },
        (_, i) =>
          i % 3 === 0
            ? makeService("big", app, `a${299 - i}`, { parent: "node!n0" })
            : makeService("big", node, `n${i}`),
      );
      services.push(makeService("big", node, "n0"));
      await store.save({ services, deleteServices: first.map((service) => service.key) });
      const again = await openRepoStore(driver, { repoName: "big" });
      const names = (await again.loadServices()).map(nameOf).sort();
      assert.deepEqual(names, services.map(nameOf).sort());
      assert.equal((await again.serviceKeysOfActor("app")).length, 100);
      assert.equal((await again.serviceKeysOfActor("node.ssh")).length, 201);
      assert.equal((await again.childKeysOf("node!n0")).length, 100);
    });

    it("saves actors and services in one batch and loads them back", async () => {
      const driver = await fresh("web");
      const store = await openRepoStore(driver, { repoName: "web" });
      const node = makeActor("node.ssh");
      const app = makeActor("app");
      const host = makeService("web", node, "host1", { data: { sshPort: 2222, tags: ["x"] } });
      const web = makeService("web", app, "web1", { parent: "node!host1", consumers: [] });
      await store.save({ actors: [node, app], services: [host, web] });
      assert.equal(await driver.getLayoutVersion(), LAYOUT_VERSION);

      // A fresh store object (no caches) reads the same thing.
      const again = await openRepoStore(driver, { repoName: "web" });
      const one = await again.loadServiceByName("node", "host1");
      assert.equal(one?.key, host.key);
      assert.deepEqual(one?.data, {
        description: "",
        sshPort: 2222,
        enabled: false,
        tags: ["x"],
        password: "",
      });
      const all = await again.loadServices();
      assert.deepEqual(all.map(nameOf).sort(), ["app!web1", "node!host1"]);
      assert.deepEqual(all.find((s) => s.name === "web1")?.data, web.data);
      assert.deepEqual(
        (await again.loadActors()).map((a) => a.name),
        ["app", "node.ssh"],
      );
      // The data really is the actor's capnp message, not JSON.
      const stored = await driver.get(`service:${host.key}`);
      assert.ok(stored && stored.length > 0);
    });

    it("keeps the actor and parent indexes right through changes and deletes", async () => {
      const driver = await fresh();
      const store = await openRepoStore(driver, { repoName: "r" });
      const node = makeActor("node");
      const app = makeActor("app");
      const a = makeService("r", node, "a");
      const b = makeService("r", app, "b", { parent: "node!a" });
      const c = makeService("r", app, "c", { parent: "node!a" });
      await store.save({ actors: [node, app], services: [a, b, c] });
      assert.deepEqual((await store.serviceKeysOfActor("app")).sort(), [b.key, c.key].sort());
      assert.deepEqual((await store.childKeysOf("node!a")).sort(), [b.key, c.key].sort());
      // c moves to another parent; b is deleted.
      await store.save({ services: [{ ...c, parent: null }], deleteServices: [b.key] });
      assert.deepEqual(await store.childKeysOf("node!a"), []);
      assert.deepEqual(await store.serviceKeysOfActor("app"), [c.key]);
      assert.equal(await store.loadService(b.key), null);
      assert.equal((await store.loadServices()).length, 2);
    });

    it("concurrent updates of one service lose nothing", async () => {
      const name = `concurrent${++counter}`;
      const driver = await fresh(name);
      const store = await openRepoStore(driver, { repoName: "r" });
      const node = makeActor("node");
      const tally = makeService("r", node, "tally", { data: { sshPort: 0 } });
      await store.save({ actors: [node], services: [tally] });
      // Two store objects over two connections, interleaving read-modify-write cycles.
      const other = await openRepoStore(await fresh(name), { repoName: "r" });
      const both = [store, other];
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          both[i % 2].updateService(tally.key, (service) => ({
            ...service,
            data: { ...service.data, sshPort: Number(service.data.sshPort) + 1 },
          }))),
      );
      assert.equal((await store.loadService(tally.key))?.data.sshPort, 20);
      assert.equal(await store.updateService("missing", (s) => s), null);
    });

    it("an update starts from the version it wrote, and from the store after another writer", async () => {
      const name = `again${++counter}`;
      const driver = await fresh(name);
      const store = await openRepoStore(driver, { repoName: "r" });
      const node = makeActor("node");
      const tally = makeService("r", node, "tally", { data: { sshPort: 0 } });
      await store.save({ actors: [node], services: [tally] });
      const bump = (service: ServiceRecord) => ({
        ...service,
        data: { ...service.data, sshPort: Number(service.data.sshPort) + 1 },
      });
      let gets = 0;
      const get = driver.get.bind(driver);
      driver.get = (key) => (gets++, get(key));
      try {
        await store.updateService(tally.key, bump);
        assert.equal(gets, 1);
        // The second update of the same service reads nothing: it starts from what it wrote.
        const seen: number[] = [];
        await store.updateService(tally.key, (service) => {
          seen.push(Number(service.data.sshPort));
          return bump(service);
        });
        assert.deepEqual([gets, seen], [1, [1]]);
        // Another writer in between: the guarded write conflicts and the update reads again.
        const other = await openRepoStore(await fresh(name), { repoName: "r" });
        await other.updateService(tally.key, (service) => bump(bump(bump(service))));
        await store.updateService(tally.key, (service) => {
          seen.push(Number(service.data.sshPort));
          return bump(service);
        });
        assert.deepEqual(seen, [1, 2, 5]);
        assert.equal((await store.loadService(tally.key))?.data.sshPort, 6);
        // A save of the service in between is read again too, and a deleted one is gone.
        await store.save({ services: [{ ...tally, data: { sshPort: 40 } }] });
        assert.equal((await store.updateService(tally.key, bump))?.data.sshPort, 41);
        await other.save({ deleteServices: [tally.key] });
        assert.equal(await store.updateService(tally.key, bump), null);
        assert.equal(await store.loadService(tally.key), null);
      } finally {
        driver.get = get;
      }
    });

    it("concurrent moves of one service leave exactly one parent index entry", async () => {
      const driver = await fresh();
      const store = await openRepoStore(driver, { repoName: "r" });
      const node = makeActor("node");
      const app = makeActor("app");
      const a = makeService("r", node, "a");
      const b = makeService("r", node, "b");
      const child = makeService("r", app, "child", { parent: "node!a" });
      await store.save({ actors: [node, app], services: [a, b, child] });
      await Promise.all([
        store.save({ services: [{ ...child, parent: "node!b" }] }),
        store.save({ services: [{ ...child, parent: null }] }),
        store.save({ services: [{ ...child, parent: "node!b" }] }),
      ]);
      const entries = [
        ...(await store.childKeysOf("node!a")),
        ...(await store.childKeysOf("node!b")),
      ];
      const parent = (await store.loadService(child.key))?.parent;
      assert.deepEqual(entries, parent ? [child.key] : []);
    });

    it("an index value with a colon does not match another one's prefix", async () => {
      const driver = await fresh();
      const store = await openRepoStore(driver, { repoName: "r" });
      const app = makeActor("app");
      const x = makeService("r", app, "x", { parent: "node!a" });
      const y = makeService("r", app, "y", { parent: "node!a:b" });
      await store.save({ actors: [app], services: [x, y] });
      assert.deepEqual(await store.childKeysOf("node!a"), [x.key]);
    });

    it("refuses data that does not fit the actor's schema and saves nothing", async () => {
      const driver = await fresh();
      const store = await openRepoStore(driver, { repoName: "r" });
      const node = makeActor("node");
      const good = makeService("r", node, "good");
      const bad = makeService("r", node, "bad", { data: { sshPort: "not a number" } });
      await assert.rejects(store.save({ actors: [node], services: [good, bad] }));
      assert.deepEqual(await driver.listKeys(""), []);
    });

    it("keeps runs and jobs as separate records, with logs, and prunes old runs", async () => {
      const driver = await fresh();
      const store = await openRepoStore(driver, { repoName: "r" });
      await store.saveRun(run("run-1", 1000));
      await store.saveRun(run("run-2", 2000));
      await store.saveJobs([job("run-1", "j1"), job("run-1", "j2")]);
      await store.saveJob({ ...job("run-1", "j1"), state: "ok", attempts: 1 });
      await store.appendJobLog("j1", "hello");
      await store.appendJobLog("j1", "world");
      assert.deepEqual((await store.listRuns()).map((r) => r.id), ["run-2", "run-1"]);
      const jobs = await store.loadJobs("run-1");
      assert.deepEqual(jobs.map((j) => [j.id, j.state]), [["j1", "ok"], ["j2", "new"]]);
      assert.deepEqual(await store.readJobLog("j1"), ["hello", "world"]);
      await store.appendJobLog("j2", "untouched");
      await store.replaceJobLog("j1", ["tail 1", "tail 2"]);
      assert.deepEqual(await store.readJobLog("j1"), ["tail 1", "tail 2"]);
      assert.deepEqual(await store.readJobLog("j2"), ["untouched"]);
      await store.replaceJobLog("j2", []);
      assert.deepEqual(await store.readJobLog("j2"), []);
      await store.replaceJobLog("j1", ["hello", "world"]);
      assert.deepEqual(await store.pruneRuns(1), ["run-1"]);
      assert.equal(await store.loadRun("run-1"), null);
      assert.deepEqual(await store.loadJobs("run-1"), []);
      assert.deepEqual(await store.readJobLog("j1"), []);
      assert.equal((await store.loadRun("run-2"))?.createdAt, 2000);
    });

    it("keeps the open-runs index exact through a run's states and pruning", async () => {
      const driver = await fresh();
      const store = await openRepoStore(driver, { repoName: "r" });
      const open = async () => (await store.openRuns()).map((r) => [r.id, r.state]);
      await store.saveRun(run("run-1", 1000));
      await store.saveRun({ ...run("run-2", 2000), state: "running" });
      assert.deepEqual(await open(), [["run-2", "running"], ["run-1", "new"]]);
      for (const state of ["ok", "error", "cancelled"] as const) {
        await store.saveRun({ ...run("run-1", 1000), state });
        assert.deepEqual(await open(), [["run-2", "running"]], state);
        await store.saveRun({ ...run("run-1", 1000), state: "running" });
        assert.deepEqual(await open(), [["run-2", "running"], ["run-1", "running"]], state);
      }
      await store.pruneRuns(1);
      assert.deepEqual(await open(), [["run-2", "running"]]);
      assert.deepEqual(await driver.listKeys("idx:open-run:"), ["idx:open-run:run-2"]);
      await store.deleteRuns(["run-2"]);
      assert.deepEqual(await open(), []);
      assert.deepEqual(await driver.listKeys("idx:"), []);
    });

    it("migrates a layout 2 store by building its open-runs index", async () => {
      const driver = await fresh();
      const store = await openRepoStore(driver, { repoName: "r" });
      await store.saveRun({ ...run("done", 1000), state: "ok" });
      await store.saveRun({ ...run("left", 2000), state: "running" });
      await store.saveRun(run("fresh", 3000));
      // As layout 2 left it: no open-runs index, and a stray entry of a run that is gone.
      await driver.batch([
        { op: "delete", key: "idx:open-run:left" },
        { op: "delete", key: "idx:open-run:fresh" },
        { op: "set", key: "idx:open-run:gone", value: new Uint8Array(0) },
      ]);
      await driver.setLayoutVersion(2);
      assert.deepEqual(await store.openRuns(), []);
      const migrated = await openRepoStore(driver, { repoName: "r" });
      assert.equal(await driver.getLayoutVersion(), LAYOUT_VERSION);
      assert.deepEqual((await migrated.openRuns()).map((r) => r.id), ["fresh", "left"]);
      assert.deepEqual(await driver.listKeys("idx:open-run:"), [
        "idx:open-run:fresh",
        "idx:open-run:left",
      ]);
    });

    it("destroys every record of the repository, and only of that one", async () => {
      const driver = await fresh();
      const neighbour = await fresh();
      const store = await openRepoStore(driver, { repoName: "r" });
      const other = await openRepoStore(neighbour, { repoName: "n" });
      const node = makeActor("node");
      await store.save({ actors: [node], services: [makeService("r", node, "a")] });
      await other.save({ actors: [node], services: [makeService("n", node, "a")] });
      await store.saveRun(run("run-1", 1));
      await store.saveJob(job("run-1", "j1"));
      await store.appendJobLog("j1", "line");
      await driver.set("meta:path", new TextEncoder().encode("/somewhere"));
      assert.deepEqual(await store.destroyAll(), { services: 1, actors: 1, runs: 1 });
      assert.deepEqual(await driver.listKeys(""), []);
      assert.deepEqual(await store.readJobLog("j1"), []);
      assert.equal((await other.loadServices()).length, 1);
    });

    it("destroys the mirror with the records", async () => {
      const driver = await fresh();
      const repo = await makeTempDir();
      const repoPath = repo.path;
      try {
        const store = await openRepoStore(driver, { repoName: "r", mirror: { repoPath } });
        const node = makeActor("node");
        await store.save({ actors: [node], services: [makeService("r", node, "a")] });
        assert.ok((await stat(join(repoPath, "services")).catch(() => null))?.isDirectory());
        assert.deepEqual(await store.destroyAll(), { services: 1, actors: 1, runs: 0 });
        assert.equal(await stat(join(repoPath, "services")).catch(() => null), null);
        assert.equal(await stat(join(repoPath, "actors")).catch(() => null), null);
      } finally {
        await repo.remove();
      }
    });

    it("deletes jobs with their logs, leaving the others", async () => {
      const driver = await fresh();
      const store = await openRepoStore(driver, { repoName: "r" });
      await store.saveJobs([job("run-1", "j1"), job("run-1", "j2")]);
      await store.appendJobLog("j1", "one");
      await store.appendJobLog("j2", "two");
      await store.deleteJobs([{ runId: "run-1", id: "j1" }]);
      assert.deepEqual((await store.loadJobs("run-1")).map((j) => j.id), ["j2"]);
      assert.deepEqual(await store.readJobLog("j1"), []);
      assert.deepEqual(await store.readJobLog("j2"), ["two"]);
    });

    it("keeps action sources by their SHA-256", async () => {
      const driver = await fresh();
      const store = await openRepoStore(driver, { repoName: "r" });
      const source = "export function install() { return 1; }\n";
      const sha = await store.saveActionSource(source);
      assert.match(sha, /^[0-9a-f]{64}$/);
      assert.equal(await store.saveActionSource(source), sha);
      assert.equal(await store.loadActionSource(sha), source);
      assert.equal(await store.loadActionSource("0".repeat(64)), null);
    });

    it("keeps the due index exact through saves, updates, deletes and replaceAll", async () => {
      const driver = await fresh();
      const store = await openRepoStore(driver, { repoName: "r" });
      const node = makeActor("node");
      const withState = (service: ServiceRecord, action: string, state: ActionState) => ({
        ...service,
        actions: { ...service.actions, [action]: { ...service.actions[action], state } },
      });
      const a = makeService("r", node, "a");
      const b = makeService("r", node, "b");
      const c = makeService("r", node, "c");
      await store.save({ actors: [node], services: [a, withState(b, "install", "ok"), c] });
      assert.deepEqual(await store.dueServiceKeys(), []);
      // Every state a run may take an action in puts the service in the index; others not.
      for (const state of ["scheduled", "changed", "error", "running"] as const) {
        await store.save({ services: [withState(a, "install", state)] });
        assert.deepEqual(await store.dueServiceKeys(), [a.key], state);
      }
      for (const state of ["new", "ok", "disabled"] as const) {
        await store.save({ services: [withState(a, "install", state)] });
        assert.deepEqual(await store.dueServiceKeys(), [], state);
      }
      await store.save({ services: [withState(b, "start", "scheduled")] });
      await store.updateService(c.key, (s) => withState(s, "install", "error"));
      assert.deepEqual((await store.dueServiceKeys()).sort(), [b.key, c.key].sort());
      await store.updateService(c.key, (s) => withState(s, "install", "ok"));
      assert.deepEqual(await store.dueServiceKeys(), [b.key]);
      await store.save({ deleteServices: [b.key] });
      assert.deepEqual(await store.dueServiceKeys(), []);
      await store.replaceAll({ actors: [node], services: [withState(a, "stop", "scheduled")] });
      assert.deepEqual(await store.dueServiceKeys(), [a.key]);
      assert.equal(await store.loadService(c.key), null);
    });

    it("saving services exactly as they are stored writes nothing", async () => {
      const driver = await fresh();
      const store = await openRepoStore(driver, { repoName: "r" });
      const node = makeActor("node");
      const a = makeService("r", node, "a");
      const b = makeService("r", node, "b");
      await store.save({ actors: [node], services: [a, b] });
      const batches: number[] = [];
      const batch = driver.batch.bind(driver);
      driver.batch = (ops, options) => {
        const list = [...ops];
        batches.push(list.length);
        return batch(list, options);
      };
      try {
        const again = await openRepoStore(driver, { repoName: "r" });
        await again.save({ services: [structuredClone(a), structuredClone(b)] });
        assert.deepEqual(batches, []);
        // One changed service among unchanged ones writes that one record only.
        await again.save({ services: [a, { ...b, data: { ...b.data, sshPort: 2200 } }] });
        assert.deepEqual(batches, [1]);
      } finally {
        driver.batch = batch;
      }
    });

    it("migrates a layout 1 store by building its due index", async () => {
      const driver = await fresh();
      const node = makeActor("node");
      const a = makeService("r", node, "a");
      const b = makeService("r", node, "b");
      const due = { ...a, actions: { ...a.actions, install: { ...a.actions.install } } };
      due.actions.install.state = "scheduled";
      const store = await openRepoStore(driver, { repoName: "r" });
      await store.save({ actors: [node], services: [due, b] });
      // As layout 1 left it: no due index, and a stray entry of a service that is gone.
      await driver.batch([
        { op: "delete", key: `idx:due:${a.key}` },
        { op: "set", key: "idx:due:gone", value: new Uint8Array(0) },
      ]);
      await driver.setLayoutVersion(1);
      const migrated = await openRepoStore(driver, { repoName: "r" });
      assert.equal(await driver.getLayoutVersion(), LAYOUT_VERSION);
      assert.deepEqual(await migrated.dueServiceKeys(), [a.key]);
    });

    it("refuses a newer layout and migrates an older one", async () => {
      const driver = await fresh();
      await driver.setLayoutVersion(LAYOUT_VERSION + 1);
      await assert.rejects(
        openRepoStore(driver, { repoName: "r" }),
        (error: Error) => error instanceof InputError && /newer than this ays/.test(error.message),
      );
      const older = await fresh();
      await older.setLayoutVersion(1);
      await older.set("legacy:a", new TextEncoder().encode("1"));
      const steps: number[] = [];
      await openRepoStore(older, {
        repoName: "r",
        layoutVersion: 3,
        migrations: [
          {
            from: 1,
            describe: "rename legacy keys",
            run: async (d) => {
              steps.push(1);
              await d.batch([
                { op: "set", key: "modern:a", value: (await d.get("legacy:a"))! },
                { op: "delete", key: "legacy:a" },
              ]);
            },
          },
          { from: 2, describe: "nothing", run: () => Promise.resolve(void steps.push(2)) },
        ],
      });
      assert.deepEqual(steps, [1, 2]);
      assert.equal(await older.getLayoutVersion(), 3);
      assert.deepEqual(await older.listKeys(""), ["modern:a"]);
      const missing = await fresh();
      await missing.setLayoutVersion(0);
      await assert.rejects(openRepoStore(missing, { repoName: "r" }), InputError);
    });
  });
}
