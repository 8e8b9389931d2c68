/**
 * Early writeback of the WAL: one sync at a time, one per interval after the last ended, on an
 * injected clock; failures swallowed; and through the SQLite driver, a real `fdatasync` of the
 * real WAL file.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
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
    const wb = new WalWriteback("/store.db-wal", { intervalMs: 100, now: () => now, sync });
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
    const wb = new WalWriteback("w", { intervalMs: 0, now: () => 0, sync });
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
  });

  it("the default sync syncs a file that exists and passes over one that does not", async () => {
    const dir = await makeTempDir();
    try {
      const wal = join(dir.path, "store.db-wal");
      await writeFile(wal, "frames");
      let now = 0;
      const wb = new WalWriteback(wal, { intervalMs: 1, now: () => now });
      now = 1;
      wb.committed();
      await wb.settled();
      assert.equal(readFileSync(wal, "utf8"), "frames");
      const missing = join(dir.path, "none-wal");
      const none = new WalWriteback(missing, { intervalMs: 0 });
      none.committed();
      await none.settled();
      assert.equal(existsSync(missing), false, "nothing created");
    } finally {
      await dir.remove();
    }
  });
});
