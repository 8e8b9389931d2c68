import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { DaemonStatus } from "../../src/daemon/backend.ts";
import { readDaemonStatus, storeDaemonStatus } from "../../src/daemon/store_status.ts";
import { openSqliteDriver } from "../../src/store/sqlite.ts";
import { makeTempDir } from "../helpers/mod.ts";

const status: DaemonStatus = {
  pid: 4242,
  host: "box",
  since: "2026-01-01T00:00:00.000Z",
  address: "127.0.0.1:5000",
  repos: ["alpha", "beta"],
  jobs: [{ kind: "run", repo: "alpha", runId: "r1", startedAt: "2026-01-01T00:00:01.000Z" }],
  updatedAt: "2026-01-01T00:00:02.000Z",
  heartbeatMs: 5000,
};

describe("daemon status in the store (SQLite)", () => {
  it("is saved to every served repository, read back, and cleared only by its owner", async () => {
    const dir = await makeTempDir();
    const alpha = openSqliteDriver(join(dir.path, "a.db"), { namespace: "alpha" });
    const beta = openSqliteDriver(join(dir.path, "b.db"), { namespace: "beta" });
    try {
      const store = storeDaemonStatus(new Map([["alpha", alpha], ["beta", beta]]));
      assert.equal(await readDaemonStatus(alpha), null);
      await store.save(status);
      assert.deepEqual(await readDaemonStatus(alpha), status);
      assert.deepEqual(await readDaemonStatus(beta), status);
      // Another daemon took over beta: the first one's clear leaves it alone.
      const other = { ...status, pid: 7, repos: ["beta"] };
      await store.save(other);
      await store.clear(status);
      assert.equal(await readDaemonStatus(alpha), null);
      assert.deepEqual(await readDaemonStatus(beta), other);
    } finally {
      await alpha.close();
      await beta.close();
      await dir.remove();
    }
  });
});
