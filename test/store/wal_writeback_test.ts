/**
 * Early writeback of the WAL: one sync at a time, one per interval after the last ended, on an
 * injected clock, and only once the WAL grew enough; failures swallowed; the default sync on a
 * real file; and the SQLite driver's wiring: a commit after the interval syncs the store's real
 * `-wal` file, and `close()` waits for a sync under way.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { currentHolder } from "../../src/store/holder.ts";
import { openSqliteDriver } from "../../src/store/sqlite.ts";
import { WalWriteback } from "../../src/store/wal_writeback.ts";
import { makeTempDir } from "../helpers/mod.ts";

/** A sync the test ends itself. */
function heldSyncs() {
  const calls: { path: string; end: () => void; fail: () => void }[] = [];
  const sync = (path: string) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ path, end: resolve, fail: () => reject(new Error("EIO")) });
    });
  return { calls, sync };
}

describe("WalWriteback", () => {
  it("syncs once per interval after the last sync ended, never two at once", async () => {
    let now = 1000;
    const { calls, sync } = heldSyncs();
    const wb = new WalWriteback("/store.db-wal", {
      intervalMs: 100,
      minGrowthBytes: 0,
      now: () => now,
      sync,
      size: () => 0,
    });
    wb.committed();
    now += 99;
    wb.committed();
    assert.equal(calls.length, 0, "not before one interval after it was made");
    now += 1;
    wb.committed();
    assert.deepEqual(calls.map((c) => c.path), ["/store.db-wal"]);
    now += 500;
    wb.committed();
    assert.equal(calls.length, 1, "one at a time");
    calls[0].end();
    await wb.settled();
    wb.committed();
    assert.equal(calls.length, 1, "the interval counts from the end of the last one");
    now += 100;
    wb.committed();
    assert.equal(calls.length, 2);
    calls[1].fail();
    await wb.settled();
    now += 100;
    wb.committed();
    assert.equal(calls.length, 3, "a failed sync is only a hint: the next one comes");
    calls[2].end();
    await wb.settled();
  });

  it("settled waits for the sync under way", async () => {
    const { calls, sync } = heldSyncs();
    const wb = new WalWriteback("w", {
      intervalMs: 0,
      minGrowthBytes: 0,
      now: () => 0,
      sync,
      size: () => 0,
    });
    wb.committed();
    let settled = false;
    const done = wb.settled().then(() => (settled = true));
    await Promise.resolve();
    assert.equal(settled, false);
    calls[0].end();
    await done;
    assert.equal(settled, true);
  });

  it("refuses a bad interval", () => {
    assert.throws(() => new WalWriteback("w", { intervalMs: -1 }), RangeError);
    assert.throws(() => new WalWriteback("w", { intervalMs: NaN }), RangeError);
    assert.throws(() => new WalWriteback("w", { minGrowthBytes: -1 }), RangeError);
  });

  it("syncs only once the WAL grew by minGrowthBytes since the last sync, counting anew after a reset", async () => {
    let size = 0;
    const { calls, sync } = heldSyncs();
    const wb = new WalWriteback("w", {
      intervalMs: 0,
      minGrowthBytes: 1000,
      now: () => 0,
      sync,
      size: () => size,
    });
    size = 999;
    wb.committed();
    assert.equal(calls.length, 0, "grown by less than 1,000 bytes");
    size = 1000;
    wb.committed();
    assert.equal(calls.length, 1);
    calls[0].end();
    await wb.settled();
    size = 1999;
    wb.committed();
    assert.equal(calls.length, 1, "999 bytes since the last sync");
    size = 2000;
    wb.committed();
    assert.equal(calls.length, 2);
    calls[1].end();
    await wb.settled();
    size = 1200; // the WAL was removed and made anew: its 1,200 bytes are all new
    wb.committed();
    assert.equal(calls.length, 3);
    calls[2].end();
    await wb.settled();
  });

  it("syncs after minCommits commits when the WAL does not grow (SQLite reuses it after a checkpoint)", async () => {
    const { calls, sync } = heldSyncs();
    const wb = new WalWriteback("w", {
      intervalMs: 0,
      minCommits: 3,
      now: () => 0,
      sync,
      size: () => 4096,
    });
    wb.committed(); // 4,096 bytes: under 1 MiB, one commit
    wb.committed();
    assert.equal(calls.length, 0);
    wb.committed();
    assert.equal(calls.length, 1, "the third commit");
    calls[0].end();
    await wb.settled();
    wb.committed();
    wb.committed();
    assert.equal(calls.length, 1, "counted anew from the last sync");
    wb.committed();
    assert.equal(calls.length, 2);
    calls[1].end();
    await wb.settled();
    assert.throws(() => new WalWriteback("w", { minCommits: 0 }), RangeError);
  });

  it("a size that cannot be read is no sync and no error: the commit has happened", () => {
    const { calls, sync } = heldSyncs();
    const wb = new WalWriteback("w", {
      intervalMs: 0,
      now: () => 0,
      sync,
      size: () => {
        throw new Error("EACCES");
      },
    });
    wb.committed();
    assert.equal(calls.length, 0);
  });

  it("the default sync syncs a file that exists and passes over one that does not", async () => {
    const dir = await makeTempDir();
    try {
      const wal = join(dir.path, "store.db-wal");
      await writeFile(wal, "frames");
      let now = 0;
      const wb = new WalWriteback(wal, { intervalMs: 1, minGrowthBytes: 1, now: () => now });
      now = 1;
      wb.committed();
      await wb.settled();
      assert.equal(readFileSync(wal, "utf8"), "frames");
      const missing = join(dir.path, "none-wal");
      const none = new WalWriteback(missing, { intervalMs: 0, minGrowthBytes: 0 });
      none.committed();
      await none.settled();
      assert.equal(existsSync(missing), false, "nothing created");
    } finally {
      await dir.remove();
    }
  });
});

describe("the SQLite driver's early writeback", () => {
  it("counts only commits that changed rows: polls of an empty queue never sync", async () => {
    const dir = await makeTempDir();
    try {
      const { calls, sync } = heldSyncs();
      const driver = openSqliteDriver(join(dir.path, "store.db"), {
        namespace: "r",
        walWriteback: {
          intervalMs: 0,
          minGrowthBytes: Number.MAX_SAFE_INTEGER,
          minCommits: 1,
          now: () => 0,
          sync,
          size: () => 0,
        },
      });
      await driver.set("a", new Uint8Array([1]));
      assert.equal(calls.length, 1, "a write");
      calls[0].end();
      const me = currentHolder();
      for (let i = 0; i < 5; i++) assert.equal(await driver.pop("q", me, 10_000), null);
      assert.equal(calls.length, 1, "five empty polls: no sync");
      await driver.push("q", new Uint8Array([1]));
      assert.equal(calls.length, 2, "a push changed a row");
      calls[1].end();
      await driver.close();
    } finally {
      await dir.remove();
    }
  });

  it("syncs the store's -wal file after a commit once the interval is over, and close waits for that sync", async () => {
    const dir = await makeTempDir();
    try {
      const path = join(dir.path, "store.db");
      let now = 0;
      const { calls, sync } = heldSyncs();
      const driver = openSqliteDriver(path, {
        namespace: "r",
        walWriteback: { intervalMs: 100, minGrowthBytes: 1, now: () => now, sync },
      });
      await driver.set("a", new Uint8Array([1]));
      assert.equal(calls.length, 0, "not before one interval");
      now = 100;
      await driver.batch([{ op: "set", key: "b", value: new Uint8Array([2]) }]);
      assert.deepEqual(calls.map((c) => c.path), [`${path}-wal`]);

      let closed = false;
      const closing = driver.close().then(() => (closed = true));
      for (let i = 0; i < 5; i++) await Promise.resolve();
      assert.equal(closed, false, "close waits for the sync under way");
      assert.equal(existsSync(`${path}-wal`), true, "the file is not closed before it ends");
      calls[0].end();
      await closing;
      assert.equal(existsSync(`${path}-wal`), false, "closed: the WAL checkpointed and removed");
      const reopened = openSqliteDriver(path, { namespace: "r" });
      assert.deepEqual(await reopened.get("b"), new Uint8Array([2]));
      await reopened.close();
    } finally {
      await dir.remove();
    }
  });
});
