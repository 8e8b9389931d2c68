/** The repository lock helper over a real store: refusal naming the holder, wait, heartbeat. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { LockedError } from "../../src/errors.ts";
import { currentHolder } from "../../src/store/holder.ts";
import { holdRepoLock } from "../../src/store/repo_lock.ts";
import { openSqliteDriver } from "../../src/store/sqlite.ts";
import { StoreLostError } from "../../src/store/store_lost.ts";
import { makeTempDir, until } from "../helpers/mod.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("repository lock", () => {
  it("refuses a second writer with exit 3 naming the holder; waits with wait", async () => {
    const dir = await makeTempDir();
    const driver = openSqliteDriver(join(dir.path, "s.db"), { namespace: "r" });
    try {
      // The heartbeat keeps it: it moves the expiry on (every third of the TTL). Waiting past a
      // short TTL instead would fail whenever the loaded machine stalled the heartbeat's timer.
      const ttlMs = 3_000;
      const first = await holdRepoLock(driver, currentHolder("run-1"), { ttlMs });
      const firstExpiry = (await driver.readLock("repo"))!.expiresAt;
      const beaten = await until(
        async () => (await driver.readLock("repo"))!.expiresAt > firstExpiry,
        {
          timeoutMs: 30_000,
          what: "the heartbeat moved the lock's expiry on",
        },
      );
      assert.ok(beaten);
      await assert.rejects(holdRepoLock(driver, currentHolder("run-2")), (error: Error) => {
        assert.ok(error instanceof LockedError);
        assert.equal(error.exitCode, 3);
        assert.match(error.message, new RegExp(`pid ${process.pid} on .* \\(run-1\\)`));
        return true;
      });
      assert.equal(first.lost, false);
      const waiting = holdRepoLock(driver, currentHolder("run-2"), { wait: true, pollMs: 20 });
      await sleep(100);
      await first.release();
      const second = await waiting;
      assert.equal(second.lock.holder.id, "run-2");
      await second.release();
      assert.equal(await driver.readLock("repo"), null);
    } finally {
      await driver.close();
      await dir.remove();
    }
  });

  it("reports the lock lost when the store lost its data under the heartbeat", async () => {
    const dir = await makeTempDir();
    const path = join(dir.path, "s.db");
    const driver = openSqliteDriver(path, { namespace: "r" });
    try {
      await driver.setLayoutVersion(1);
      let reportLost!: () => void;
      const lostReported = new Promise<void>((resolve) => (reportLost = resolve));
      const held = await holdRepoLock(driver, currentHolder("run-1"), {
        ttlMs: 150,
        onLost: () => reportLost(),
      });
      assert.equal(held.lost, false);
      const other = new DatabaseSync(path);
      other.exec("DELETE FROM meta; DELETE FROM locks");
      other.close();
      await lostReported;
      assert.equal(held.lost, true);
      await assert.rejects(held.release(), StoreLostError);
    } finally {
      await driver.close();
      await dir.remove();
    }
  });
});
