/**
 * A run's plan decodes every due service once (`loadServices` with `keepDue`); the first update
 * of each (a job's start) starts from a copy of what the scan decoded instead of decoding the
 * bytes again, and the caller's changes to the records the scan returned never reach it.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { capnpRecordCodec, type RecordCodec } from "../../src/store/record_codec.ts";
import { openRepoStore, type RepoStore } from "../../src/store/repo_store.ts";
import { openSqliteDriver } from "../../src/store/sqlite.ts";
import type { StoreDriver } from "../../src/store/driver.ts";
import { makeTempDir, type TempDir } from "../helpers/mod.ts";
import { makeActor, makeService } from "./fixtures.ts";

const actor = makeActor("node.ssh");
const scheduled = { state: "scheduled" as const, period: 0, lastRun: null, lastJob: null };

describe("the first update after a scan", () => {
  let dir: TempDir;
  let driver: StoreDriver;
  let store: RepoStore;
  /** Service records this store decoded. */
  let decodes = 0;

  before(async () => {
    dir = await makeTempDir();
    driver = openSqliteDriver(join(dir.path, "store.db"), { namespace: "r" });
    const records: RecordCodec = {
      ...capnpRecordCodec,
      decode: (kind, bytes) => {
        if (kind === "service") decodes++;
        return capnpRecordCodec.decode(kind, bytes);
      },
    };
    store = await openRepoStore(driver, { repoName: "r", records });
    const due = (instance: string) =>
      makeService("r", actor, instance, {
        actions: { ...makeService("r", actor, instance).actions, install: { ...scheduled } },
      });
    const args = JSON.parse('{"__proto__": {"x": 1}, "y": 2}') as Record<string, unknown>;
    const withArgs = makeService("r", actor, "c", {
      actions: {
        ...makeService("r", actor, "c").actions,
        install: { ...scheduled, args },
      },
    });
    await store.save({ actors: [actor], services: [due("a"), due("b"), withArgs] });
  });

  after(async () => {
    await driver.close();
    await dir.remove();
  });

  it("decodes no service record again", async () => {
    const services = await store.loadServices({ keepDue: true });
    const a = services.find((s) => s.name === "a")!;
    decodes = 0;
    const saved = await store.updateService(a.key, (svc) => {
      svc.actions.install = { ...svc.actions.install, state: "running" };
      return svc;
    });
    assert.equal(saved?.actions.install.state, "running");
    assert.equal(decodes, 0);
    assert.equal((await store.loadService(a.key))?.actions.install.state, "running");
  });

  it("starts from the record as stored, not as the caller changed the scan's copy", async () => {
    const services = await store.loadServices({ keepDue: true });
    const b = services.find((s) => s.name === "b")!;
    // The plan's own view of the service changes (a run's does) before the job starts.
    b.data = { ...b.data, description: "changed in memory only" };
    b.actions.install.state = "error";
    const seen: string[] = [];
    await store.updateService(b.key, (svc) => {
      seen.push(`${svc.data.description} ${svc.actions.install.state}`);
      svc.actions.install = { ...svc.actions.install, state: "running" };
      return svc;
    });
    assert.deepEqual(seen, ["service b scheduled"]);
    assert.equal((await store.loadService(b.key))?.data.description, "service b");
  });

  it("keeps an own `__proto__` of an action's args (just a name)", async () => {
    const services = await store.loadServices({ keepDue: true });
    const c = services.find((s) => s.name === "c")!;
    const seen: boolean[] = [];
    await store.updateService(c.key, (svc) => {
      seen.push(Object.hasOwn(svc.actions.install.args ?? {}, "__proto__"));
      svc.actions.install = { ...svc.actions.install, state: "running" };
      return svc;
    });
    assert.deepEqual(seen, [true]);
    const stored = (await store.loadService(c.key))?.actions.install.args ?? {};
    assert.ok(Object.hasOwn(stored, "__proto__"));
    assert.deepEqual(Object.getOwnPropertyDescriptor(stored, "__proto__")?.value, { x: 1 });
    assert.equal(stored.y, 2);
    assert.equal(Object.getPrototypeOf(stored), Object.prototype);
  });
});
