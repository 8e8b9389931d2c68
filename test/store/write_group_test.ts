/**
 * Group commit (`src/store/write_group.ts`) over a real SQLite driver whose batches are
 * counted: units of the same moment go in one batch, in order; a unit touching a key of an
 * earlier unit waits for the next batch; a failed guard costs only its own unit.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { BatchOp, BatchOptions, StoreDriver } from "../../src/store/driver.ts";
import { openSqliteDriver } from "../../src/store/sqlite.ts";
import { WriteGroup } from "../../src/store/write_group.ts";
import { makeTempDir } from "../helpers/mod.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));
const set = (key: string, value: string): BatchOp => ({ op: "set", key, value: bytes(value) });

/** A SQLite driver that records the operations of each batch it is given. */
async function countedDriver() {
  const dir = await makeTempDir("ays-group-");
  const driver = openSqliteDriver(join(dir.path, "store.db"), { namespace: "g" });
  const batches: string[][] = [];
  const counted: Pick<StoreDriver, "batch"> = {
    batch(ops: Iterable<BatchOp>, options?: BatchOptions) {
      const list = [...ops];
      batches.push(list.map((op) => op.key));
      return driver.batch(list, options);
    },
  };
  return {
    driver,
    counted,
    batches,
    close: async () => {
      await driver.close();
      await dir.remove();
    },
  };
}

describe("WriteGroup", () => {
  it("commits the units of one moment in one batch, in order, each durable when it resolves", async () => {
    const { driver, counted, batches, close } = await countedDriver();
    try {
      const group = new WriteGroup(counted);
      const results = await Promise.all([
        group.submit([set("job:1", "a")]),
        group.submit([set("svc:1", "b"), set("idx:1", "")]),
        group.submit([set("job:2", "c")]),
      ]);
      assert.deepEqual(results, [true, true, true]);
      assert.deepEqual(batches, [["job:1", "svc:1", "idx:1", "job:2"]]);
      assert.equal(text(await driver.get("svc:1")), "b");
      // A later moment is a batch of its own.
      await group.submit([set("job:3", "d")]);
      assert.equal(batches.length, 2);
    } finally {
      await close();
    }
  });

  it("puts a unit that touches a key of an earlier one in the next batch", async () => {
    const { driver, counted, batches, close } = await countedDriver();
    try {
      await driver.set("svc:1", bytes("v0"));
      const group = new WriteGroup(counted);
      // Both read v0; merged, the second's guard would pass against the first's write.
      const [first, second, other] = await Promise.all([
        group.submit([set("svc:1", "v1")], [{ key: "svc:1", value: bytes("v0") }]),
        group.submit([set("svc:1", "v2")], [{ key: "svc:1", value: bytes("v0") }]),
        group.submit([set("job:9", "x")]),
      ]);
      assert.deepEqual([first, second, other], [true, false, true]);
      assert.deepEqual(batches.slice(0, 1), [["svc:1"]]);
      assert.equal(
        text(await driver.get("svc:1")),
        "v1",
        "the second saw a conflict, not a lost update",
      );
      assert.equal(text(await driver.get("job:9")), "x");
    } finally {
      await close();
    }
  });

  it("sends the units of a batch with a failed guard again one by one", async () => {
    const { driver, counted, batches, close } = await countedDriver();
    try {
      await driver.set("svc:1", bytes("changed"));
      const group = new WriteGroup(counted);
      const results = await Promise.all([
        group.submit([set("job:1", "a")]),
        group.submit([set("svc:1", "mine")], [{ key: "svc:1", value: bytes("what I read") }]),
        group.submit([set("job:2", "b")]),
      ]);
      assert.deepEqual(results, [true, false, true]);
      assert.deepEqual(batches, [["job:1", "svc:1", "job:2"], ["job:1"], ["svc:1"], ["job:2"]]);
      assert.equal(text(await driver.get("svc:1")), "changed");
      assert.equal(text(await driver.get("job:2")), "b");
    } finally {
      await close();
    }
  });

  it("rejects every unit of a batch the store refused, and records the layout first", async () => {
    const calls: string[] = [];
    const failing: Pick<StoreDriver, "batch"> = {
      batch: () => {
        calls.push("batch");
        return Promise.reject(new Error("store unavailable"));
      },
    };
    const group = new WriteGroup(failing, {
      beforeWrite: () => {
        calls.push("layout");
        return Promise.resolve();
      },
    });
    const results = await Promise.allSettled([
      group.submit([set("a", "1")]),
      group.submit([set("b", "2")]),
    ]);
    assert.deepEqual(results.map((r) => r.status), ["rejected", "rejected"]);
    assert.deepEqual(calls, ["layout", "batch"]);
    assert.throws(() => new WriteGroup(failing, { maxOps: 0 }), /maxOps/);
  });
});
