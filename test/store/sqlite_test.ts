/**
 * The SQLite driver: the conformance suite, plus what only the embedded store does (a file
 * created on first write, the v8.1 `.ays` marker file, a process killed mid-transaction).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, statSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { openSqliteDriver } from "../../src/store/sqlite.ts";
import { makeTempDir } from "../helpers/mod.ts";
import { startStoreChild } from "./child.ts";
import { storeConformance } from "./conformance.ts";

storeConformance("sqlite", async () => {
  const dir = await makeTempDir("ays-store-");
  const path = join(dir.path, ".ays", "store.db");
  return {
    open: (namespace) => Promise.resolve(openSqliteDriver(path, { namespace })),
    child: { kind: "sqlite", path },
    wipe: (namespace) => {
      const db = new DatabaseSync(path);
      try {
        for (const table of ["kv", "meta", "batches", "locks", "queue", "logs", "events"]) {
          db.prepare(`DELETE FROM ${table} WHERE ns = ?`).run(namespace);
        }
      } finally {
        db.close();
      }
      return Promise.resolve();
    },
    teardown: () => dir.remove(),
  };
});

describe("sqlite store file", () => {
  it("is not created by reads, only by the first write", async () => {
    const dir = await makeTempDir();
    try {
      const path = join(dir.path, ".ays", "store.db");
      const store = openSqliteDriver(path, { namespace: "r" });
      assert.equal(await store.get("a"), null);
      assert.deepEqual(await store.getByPrefix(""), []);
      assert.equal(await store.readLock("run"), null);
      assert.equal(existsSync(join(dir.path, ".ays")), false);
      await store.set("a", new Uint8Array([1]));
      assert.equal(existsSync(path), true);
      await store.close();
    } finally {
      await dir.remove();
    }
  });

  it("turns the v8.1 empty .ays marker file into the folder on first write", async () => {
    const dir = await makeTempDir();
    try {
      await writeFile(join(dir.path, ".ays"), "");
      const store = openSqliteDriver(join(dir.path, ".ays", "store.db"), { namespace: "r" });
      assert.equal(await store.get("a"), null);
      assert.equal(statSync(join(dir.path, ".ays")).isFile(), true);
      await store.set("a", new Uint8Array([1]));
      assert.equal(statSync(join(dir.path, ".ays")).isDirectory(), true);
      assert.deepEqual(await store.get("a"), new Uint8Array([1]));
      await store.close();
    } finally {
      await dir.remove();
    }
  });

  it("uses WAL, so a second connection reads while the first holds a write open", async () => {
    const dir = await makeTempDir();
    try {
      await mkdir(join(dir.path, ".ays"));
      const path = join(dir.path, ".ays", "store.db");
      const one = openSqliteDriver(path, { namespace: "r" });
      await one.set("a", new Uint8Array([1]));
      assert.equal(existsSync(`${path}-wal`), true);
      const two = openSqliteDriver(path, { namespace: "r" });
      assert.deepEqual(await two.get("a"), new Uint8Array([1]));
      await one.close();
      await two.close();
    } finally {
      await dir.remove();
    }
  });

  it("makes a new file with 8 KiB pages and keeps the page size of an existing one", async () => {
    const dir = await makeTempDir();
    const pageSize = (path: string) => {
      const db = new DatabaseSync(path);
      try {
        return Number((db.prepare("PRAGMA page_size").get() as { page_size: number }).page_size);
      } finally {
        db.close();
      }
    };
    try {
      const fresh = join(dir.path, "fresh", "store.db");
      const store = openSqliteDriver(fresh, { namespace: "r" });
      // A record of 1.5 KB fits its page at this size (at 4 KiB it took an overflow page).
      await store.set("a", new Uint8Array(1500).fill(7));
      await store.close();
      assert.equal(pageSize(fresh), 8192);

      const old = join(dir.path, "old.db");
      const made = new DatabaseSync(old);
      made.exec("PRAGMA page_size = 4096");
      made.exec("CREATE TABLE t (x)");
      made.close();
      const reopened = openSqliteDriver(old, { namespace: "r" });
      await reopened.set("a", new Uint8Array([1]));
      assert.deepEqual(await reopened.get("a"), new Uint8Array([1]));
      await reopened.close();
      assert.equal(pageSize(old), 4096);
    } finally {
      await dir.remove();
    }
  });

  it("leaves none of a batch when the process is killed in the middle of it", async () => {
    const dir = await makeTempDir();
    try {
      const path = join(dir.path, ".ays", "store.db");
      const store = openSqliteDriver(path, { namespace: "r" });
      await store.set("atom:0", new Uint8Array([99]));
      const child = startStoreChild({
        store: { kind: "sqlite", path },
        namespace: "r",
        action: "batch-block",
        count: 2_000,
      });
      try {
        const event = await child.waitFor("halfway");
        assert.equal(event.written, 1_000);
      } finally {
        await child.kill();
      }
      // Half of the batch had been written inside the open transaction: none of it counts.
      assert.deepEqual(await store.listKeys("atom:"), ["atom:0"]);
      assert.deepEqual(await store.get("atom:0"), new Uint8Array([99]));
      // The store is usable afterwards (the killed writer's lock is gone).
      assert.equal(
        await store.batch([{ op: "set", key: "atom:1", value: new Uint8Array() }]),
        true,
      );
      await store.close();
    } finally {
      await dir.remove();
    }
  });
});
