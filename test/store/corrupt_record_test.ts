/**
 * A corrupted service record in the records layer (docs/store.md, "A corrupted record"), on
 * SQLite (the backends differ in nothing here: the bytes are overwritten through the driver):
 * exit 4 naming the record, `scanServices` reads around it, and a save that replaces or deletes
 * it also removes its index entries.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { ExitCode } from "../../src/errors.ts";
import { CorruptRecordError } from "../../src/store/corrupt_record.ts";
import type { StoreDriver } from "../../src/store/driver.ts";
import { openRepoStore, type RepoStore } from "../../src/store/repo_store.ts";
import { openSqliteDriver } from "../../src/store/sqlite.ts";
import { makeTempDir, type TempDir } from "../helpers/mod.ts";
import { makeActor, makeService, nameOf } from "./fixtures.ts";

const GARBAGE = new Uint8Array([0xde, 0xad, 0xbe, 0xef, 1, 2]);

describe("a corrupted service record", () => {
  let dir: TempDir;
  let driver: StoreDriver;
  let store: RepoStore;
  const actor = makeActor("node.ssh");
  const parent = makeService("r", actor, "a");
  const child = makeService("r", actor, "b", { parent: nameOf(parent) });
  const other = makeService("r", actor, "c");

  before(async () => {
    dir = await makeTempDir();
    driver = openSqliteDriver(join(dir.path, "r.db"), { namespace: "r" });
  });
  after(async () => {
    await driver.close();
    await dir.remove();
  });

  const indexOf = async (key: string) =>
    (await driver.listKeys("idx:")).filter((k) => k.endsWith(`:${key}`));

  it("is exit 4 naming its key; scanServices returns the rest", async () => {
    store = await openRepoStore(driver, { repoName: "r" });
    await store.save({ actors: [actor], services: [parent, child, other] });
    await driver.set(`service:${child.key}`, GARBAGE);

    const error = await store.loadService(child.key).then(() => null, (e) => e);
    assert.ok(error instanceof CorruptRecordError, String(error));
    assert.equal(error.exitCode, ExitCode.unavailable);
    assert.equal(error.recordKey, `service:${child.key}`);
    assert.match(error.message, new RegExp(`record service:${child.key} is corrupted: malformed`));
    await assert.rejects(store.loadServices(), CorruptRecordError);

    const scan = await store.scanServices();
    assert.deepEqual(scan.services.map(nameOf).sort(), [nameOf(parent), nameOf(other)].sort());
    assert.deepEqual(scan.corrupt.map((e) => e.recordKey), [`service:${child.key}`]);
    assert.equal(scan.corrupt[0].named("node!b").service, "node!b");
    assert.match(scan.corrupt[0].named("node!b").message, /\(service node!b\) is corrupted/);

    // What `ays list` reads: the same services (as summaries), the same corrupted record.
    const summaries = await store.scanServiceSummaries();
    assert.deepEqual(
      summaries.services.map((s) => [s.key, s.name, s.actor, s.role, s.parent]).sort(),
      scan.services.map((s) => [s.key, s.name, s.actor, s.role, s.parent]).sort(),
    );
    for (const summary of summaries.services) {
      const service = scan.services.find((s) => s.key === summary.key)!;
      assert.deepEqual(summary.producers, service.producers);
      assert.deepEqual(summary.consumers, service.consumers);
      assert.equal(summary.changed, service.changed);
      assert.deepEqual(
        summary.actions,
        Object.fromEntries(
          Object.entries(service.actions).map(([n, a]) => [n, { state: a.state }]),
        ),
      );
    }
    assert.deepEqual(summaries.corrupt.map((e) => e.recordKey), [`service:${child.key}`]);
    assert.ok(summaries.corrupt[0] instanceof CorruptRecordError);
  });

  it("is replaced by a save, which drops the index entries it had", async () => {
    assert.equal((await indexOf(child.key)).length, 2);
    // The replacement has no parent any more: its old parent index entry must go.
    await store.save({ services: [{ ...child, parent: null }] });
    assert.equal((await store.loadService(child.key))?.parent, null);
    assert.deepEqual(await indexOf(child.key), [`idx:actor:node.ssh:${child.key}`]);
    assert.deepEqual(await store.childKeysOf(nameOf(parent)), []);
  });

  it("is deleted by a save with its index entries", async () => {
    await driver.set(`service:${other.key}`, GARBAGE);
    await store.save({ deleteServices: [other.key] });
    assert.equal(await driver.get(`service:${other.key}`), null);
    assert.deepEqual(await indexOf(other.key), []);
    assert.deepEqual((await store.loadServices()).map(nameOf).sort(), ["node!a", "node!b"]);
  });
});
