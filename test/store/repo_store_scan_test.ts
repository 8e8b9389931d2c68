/**
 * A run's plan reads every service once (`scanServices` with `keepDue`); the first update of a due service
 * (a job's start) reuses the bytes it read instead of reading the record again — on Redis one
 * round trip per job fewer — and stays guarded on them, so another writer in between is never
 * overwritten. On a real redis-server.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { StoreDriver } from "../../src/store/driver.ts";
import { openRedisDriver } from "../../src/store/redis.ts";
import { openRepoStore, type RepoStore } from "../../src/store/repo_store.ts";
import { type RedisServer, startRedis } from "../helpers/mod.ts";
import { makeActor, makeService } from "./fixtures.ts";

const actor = makeActor("node.ssh");
const scheduled = { state: "scheduled" as const, period: 0, lastRun: null, lastJob: null };

describe("updates after a scan", () => {
  let server: RedisServer;
  let driver: StoreDriver;
  let other: StoreDriver;
  let store: RepoStore;
  /** The keys this store's driver read one at a time. */
  const gets: string[] = [];

  before(async () => {
    server = await startRedis();
    driver = await openRedisDriver(server.url, { namespace: "scan" });
    other = await openRedisDriver(server.url, { namespace: "scan" });
    const get = driver.get.bind(driver);
    driver.get = (key: string) => {
      gets.push(key);
      return get(key);
    };
    store = await openRepoStore(driver, { repoName: "r" });
    const due = (instance: string) =>
      makeService("r", actor, instance, {
        actions: { ...makeService("r", actor, instance).actions, install: { ...scheduled } },
      });
    await store.save({
      actors: [actor],
      services: [due("a"), due("b"), makeService("r", actor, "idle")],
    });
  });

  after(async () => {
    await driver.close();
    await other.close();
    await server.close();
  });

  it("reads a due service's record no more after the scan, an idle one still", async () => {
    const services = await store.loadServices({ keepDue: true });
    const key = (instance: string) => services.find((s) => s.name === instance)!.key;
    gets.length = 0;
    const saved = await store.updateService(key("a"), (svc) => {
      svc.actions.install = { ...svc.actions.install, state: "running" };
      return svc;
    });
    assert.equal(saved?.actions.install.state, "running");
    assert.equal(gets.length, 0, gets.join(", "));
    await store.updateService(key("idle"), (svc) => svc);
    assert.equal(gets.length, 1);
    assert.ok(gets[0].endsWith(key("idle")), gets[0]);
  });

  it("reads the record again after a scan that kept nothing (an apply's, a daemon's)", async () => {
    // A store of its own: this one's last writes would be known to it without a read.
    const fresh = await openRepoStore(driver, { repoName: "r" });
    const services = await fresh.loadServices();
    const a = services.find((s) => s.name === "a")!;
    gets.length = 0;
    await fresh.updateService(a.key, (svc) => svc);
    assert.equal(gets.length, 1);
    assert.ok(gets[0].endsWith(a.key), gets[0]);
  });

  it("reads the record again of a service whose kept bytes were let go (forgetScanned)", async () => {
    const fresh = await openRepoStore(driver, { repoName: "r" });
    const services = await fresh.loadServices({ keepDue: true });
    const a = services.find((s) => s.name === "a")!;
    fresh.forgetScanned([a.key]);
    gets.length = 0;
    await fresh.updateService(a.key, (svc) => svc);
    assert.equal(gets.length, 1);
  });

  it("keeps another writer's change made between the scan and the update", async () => {
    const services = await store.loadServices({ keepDue: true });
    const b = services.find((s) => s.name === "b")!;
    // Another process changes b's data after this store's scan.
    const elsewhere = await openRepoStore(other, { repoName: "r" });
    await elsewhere.updateService(b.key, (svc) => {
      svc.data = { ...svc.data, description: "changed elsewhere" };
      return svc;
    });
    const seen: string[] = [];
    const saved = await store.updateService(b.key, (svc) => {
      seen.push(String(svc.data.description));
      svc.actions.install = { ...svc.actions.install, state: "running" };
      return svc;
    });
    // The scanned version met its guard's conflict; the second attempt read the store.
    assert.deepEqual(seen, ["service b", "changed elsewhere"]);
    assert.equal(saved?.data.description, "changed elsewhere");
    const stored = await elsewhere.loadService(b.key);
    assert.equal(stored?.data.description, "changed elsewhere");
    assert.equal(stored?.actions.install.state, "running");
  });
});
