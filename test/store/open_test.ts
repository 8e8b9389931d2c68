/** Choosing the store by URL, and the repository's identity on a store. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { InputError } from "../../src/errors.ts";
import {
  defaultStoreUrl,
  openRepositoryStore,
  openStore,
  resolveStoreUrl,
  sqlitePathOf,
  storeNeverWritten,
} from "../../src/store/open.ts";
import { StoreLostError } from "../../src/store/store_lost.ts";
import { makeActor, makeService } from "./fixtures.ts";
import { storeKindOf } from "../../src/store/url.ts";
import { makeTempDir } from "../helpers/mod.ts";

describe("store selection", () => {
  it("prefers --store, then AYS_STORE, then config, then the embedded default", () => {
    const repoPath = "/srv/repo";
    const env = { AYS_STORE: "redis://env:6379/0" };
    const config = { store: "redis://config:6379/0" };
    assert.deepEqual(resolveStoreUrl({ repoPath, flag: "redis://flag/1", env, config }), {
      url: "redis://flag/1",
      source: "flag",
    });
    assert.equal(resolveStoreUrl({ repoPath, env, config }).source, "env");
    assert.equal(resolveStoreUrl({ repoPath, env: { AYS_STORE: " " }, config }).source, "config");
    assert.deepEqual(resolveStoreUrl({ repoPath, env: {} }), {
      url: "sqlite:/srv/repo/.ays/store.db",
      source: "default",
    });
    assert.equal(defaultStoreUrl("/a/b"), "sqlite:/a/b/.ays/store.db");
  });

  it("tells the backend from the scheme and finds sqlite files", () => {
    assert.equal(storeKindOf("redis://h"), "redis");
    assert.equal(storeKindOf("rediss://h"), "redis");
    assert.equal(storeKindOf("sqlite:x.db"), "sqlite");
    assert.equal(storeKindOf("mongodb://h"), null);
    assert.equal(sqlitePathOf("sqlite:/abs/s.db", "/repo"), "/abs/s.db");
    assert.equal(sqlitePathOf("sqlite:///abs/s.db", "/repo"), "/abs/s.db");
    assert.equal(sqlitePathOf("sqlite:data/s.db", "/repo"), "/repo/data/s.db");
  });

  it("refuses unknown schemes and names that would collide in keys", async () => {
    await assert.rejects(
      openStore("mongodb://u:pw@h/x", { repoName: "r", repoPath: "/tmp" }),
      (error: Error) => error instanceof InputError && !error.message.includes("pw@"),
    );
    await assert.rejects(
      openStore("sqlite:/tmp/x.db", { repoName: "a:b", repoPath: "/tmp" }),
      InputError,
    );
  });

  it("opens the default store without writing anything", async () => {
    const repo = await makeTempDir();
    try {
      const store = await openStore(defaultStoreUrl(repo.path), {
        repoName: "r",
        repoPath: repo.path,
      });
      assert.equal(store.kind, "sqlite");
      assert.deepEqual(await store.listKeys(""), []);
      assert.equal(existsSync(join(repo.path, ".ays", "store.db")), false);
      await store.close();
    } finally {
      await repo.remove();
    }
  });

  it("refuses a second folder with the same name on a shared sqlite file", async () => {
    const a = await makeTempDir();
    const b = await makeTempDir();
    const shared = await makeTempDir();
    try {
      for (const dir of [a, b]) await mkdir(join(dir.path, ".ays"));
      const url = `sqlite:${join(shared.path, "shared.db")}`;
      await (await openStore(url, { repoName: "web", repoPath: a.path })).close();
      await (await openStore(url, { repoName: "web", repoPath: a.path })).close();
      await assert.rejects(openStore(url, { repoName: "web", repoPath: b.path }), InputError);
      await (await openStore(url, { repoName: "db", repoPath: b.path })).close();
    } finally {
      for (const dir of [a, b, shared]) await dir.remove();
    }
  });

  it("hands the name to the folder a repository was moved to, not to a copy", async () => {
    const dir = await makeTempDir();
    try {
      const url = `sqlite:${join(dir.path, "shared.db")}`;
      const [first, moved, copy] = ["first", "moved", "copy"].map((name) => join(dir.path, name));
      await mkdir(join(first, ".ays"), { recursive: true });
      await (await openStore(url, { repoName: "web", repoPath: first })).close();
      await rename(first, moved);
      await (await openStore(url, { repoName: "web", repoPath: moved })).close();
      await mkdir(join(copy, ".ays"), { recursive: true });
      const refused = await openStore(url, { repoName: "web", repoPath: copy }).then(
        () => null,
        (error) => error,
      );
      assert.ok(refused instanceof InputError);
      assert.match(refused.message, new RegExp(`named "web" at ${moved}`));
    } finally {
      await dir.remove();
    }
  });

  it("finds an embedded store made under the folder's old name when no name is set", async () => {
    const dir = await makeTempDir();
    try {
      const old = join(dir.path, "old");
      await mkdir(join(old, ".ays"), { recursive: true });
      const made = await openRepositoryStore({ repoPath: old, repoName: "old", env: {} });
      await made.store.save({ actors: [makeActor("node")] });
      await made.driver.close();
      const renamed = join(dir.path, "renamed");
      await rename(old, renamed);
      const options = { repoPath: renamed, repoName: "renamed", env: {} };
      const found = await openRepositoryStore({ ...options, defaultName: true });
      assert.equal(found.repoName, "old");
      assert.deepEqual((await found.store.loadActors()).map((actor) => actor.name), ["node"]);
      await found.driver.close();
      // A name set in the config is used as it is.
      const named = await openRepositoryStore(options);
      assert.equal(named.repoName, "renamed");
      assert.deepEqual(await named.store.loadActors(), []);
      await named.driver.close();
    } finally {
      await dir.remove();
    }
  });
});

describe("a repository whose store lost its records", () => {
  const storeFiles = (repo: string) =>
    ["", "-wal", "-shm"].map((suffix) => join(repo, ".ays", `store.db${suffix}`));

  it("is refused when the mirror shows records, unless the command rebuilds the store", async () => {
    const repo = await makeTempDir();
    try {
      const actor = makeActor("node.ssh");
      const first = await openRepositoryStore({
        repoPath: repo.path,
        repoName: "r",
        env: {},
        mirror: true,
      });
      await first.store.save({ actors: [actor], services: [makeService("r", actor, "n1")] });
      await first.driver.close();
      for (const file of storeFiles(repo.path)) await rm(file, { force: true });

      await assert.rejects(
        openRepositoryStore({ repoPath: repo.path, repoName: "r", env: {} }),
        (error: Error) => {
          assert.ok(error instanceof StoreLostError);
          assert.equal(error.exitCode, 4);
          assert.match(error.message, /lost its data .*mirror shows 1 actors and 1 services/);
          return true;
        },
      );
      // Refused before anything was written: still no store file.
      assert.equal(existsSync(storeFiles(repo.path)[0]), false);
      const rebuilding = await openRepositoryStore({
        repoPath: repo.path,
        repoName: "r",
        env: {},
        rebuild: true,
      });
      await rebuilding.store.restoreFromMirror(repo.path);
      await rebuilding.driver.close();
      const again = await openRepositoryStore({ repoPath: repo.path, repoName: "r", env: {} });
      assert.equal((await again.store.loadServices()).length, 1);
      await again.driver.close();
    } finally {
      await repo.remove();
    }
  });

  it("is a new repository when there is no mirror either", async () => {
    const repo = await makeTempDir();
    try {
      const opened = await openRepositoryStore({ repoPath: repo.path, repoName: "r", env: {} });
      assert.deepEqual(await opened.store.loadServices(), []);
      await opened.driver.close();
    } finally {
      await repo.remove();
    }
  });

  it("is never written while its own file does not exist, and says so without writing", async () => {
    const repo = await makeTempDir();
    try {
      const options = { repoPath: repo.path, repoName: "r", env: {} };
      assert.equal(await storeNeverWritten(options), true);
      assert.equal(existsSync(storeFiles(repo.path)[0]), false);
      // Another file in the repository's own .ays is its own too.
      const other = { ...options, storeFlag: `sqlite:${join(repo.path, ".ays", "other.db")}` };
      assert.equal(await storeNeverWritten(other), true);
      // A file elsewhere may be shared (opening it claims the name), Redis is never a file.
      const elsewhere = await makeTempDir();
      try {
        const shared = { ...options, storeFlag: `sqlite:${join(elsewhere.path, "s.db")}` };
        assert.equal(await storeNeverWritten(shared), false);
      } finally {
        await elsewhere.remove();
      }
      assert.equal(await storeNeverWritten({ ...options, env: { AYS_STORE: "redis://h" } }), false);
      await assert.rejects(storeNeverWritten({ ...options, repoName: "a b" }), InputError);

      const opened = await openRepositoryStore({ ...options, mirror: true });
      const actor = makeActor("node.ssh");
      await opened.store.save({ actors: [actor], services: [makeService("r", actor, "n1")] });
      await opened.driver.close();
      assert.equal(await storeNeverWritten(options), false);
      // The file gone while the mirror shows records: a lost store, as the open says.
      for (const file of storeFiles(repo.path)) await rm(file, { force: true });
      await assert.rejects(storeNeverWritten(options), (error: Error) => {
        assert.ok(error instanceof StoreLostError);
        assert.match(error.message, /mirror shows 1 actors and 1 services/);
        return true;
      });
    } finally {
      await repo.remove();
    }
  });
});
