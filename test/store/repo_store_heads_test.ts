/**
 * `loadServiceHeads` (docs/blueprints.md, "How stored services are read"): every service
 * without its actions and event filters, each readable whole — the same record
 * `loadServices` gives — and a corrupted record refused as `loadServices` refuses it. SQLite.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { CorruptRecordError } from "../../src/store/corrupt_record.ts";
import type { StoreDriver } from "../../src/store/driver.ts";
import { openRepoStore } from "../../src/store/repo_store.ts";
import { openSqliteDriver } from "../../src/store/sqlite.ts";
import { makeTempDir, type TempDir } from "../helpers/mod.ts";
import { makeActor, makeService, nameOf } from "./fixtures.ts";

describe("loadServiceHeads", () => {
  let dir: TempDir;
  let driver: StoreDriver;
  const actor = makeActor("node.ssh");
  const parent = makeService("r", actor, "a", {
    eventFilters: [{ channel: "telegram", cmd: "restart" }],
  });
  const child = makeService("r", actor, "b", { parent: nameOf(parent) });
  child.actions.install = { state: "ok", period: 60, lastRun: 1234, lastJob: "j1" };

  before(async () => {
    dir = await makeTempDir();
    driver = openSqliteDriver(join(dir.path, "r.db"), { namespace: "r" });
    const store = await openRepoStore(driver, { repoName: "r" });
    await store.save({ actors: [actor], services: [parent, child] });
  });
  after(async () => {
    await driver.close();
    await dir.remove();
  });

  it("reads names, relations and data, not actions or filters; whole() reads the rest", async () => {
    const store = await openRepoStore(driver, { repoName: "r" });
    const full = await store.loadServices();
    const { services, whole } = await store.loadServiceHeads();
    assert.equal(services.length, 2);
    for (const head of services) {
      const record = full.find((s) => s.key === head.key)!;
      assert.equal(head.actions, undefined);
      assert.equal(head.eventFilters, undefined);
      const { actions: _a, eventFilters: _f, ...rest } = record;
      assert.deepEqual(head, rest);
      const read = whole(head);
      assert.deepEqual(read, record);
      assert.notEqual(read, head);
      assert.notEqual(read.data, head.data, "the whole record has data of its own");
    }
    const b = services.find((s) => s.name === "b")!;
    assert.deepEqual(whole(b).actions.install, child.actions.install);
    assert.deepEqual(whole(services.find((s) => s.name === "a")!).eventFilters, [
      { channel: "telegram", cmd: "restart" },
    ]);
  });

  it("refuses a corrupted record as loadServices does", async () => {
    const store = await openRepoStore(driver, { repoName: "r" });
    await driver.set(`service:${child.key}`, new Uint8Array([0xde, 0xad, 0xbe, 0xef, 1, 2]));
    await assert.rejects(store.loadServices(), CorruptRecordError);
    await assert.rejects(store.loadServiceHeads(), (error: unknown) => {
      assert.ok(error instanceof CorruptRecordError, String(error));
      assert.equal(error.recordKey, `service:${child.key}`);
      return true;
    });
  });
});
