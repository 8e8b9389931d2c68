/** `ays restore`: rebuilds the store from the mirror; refuses while the repository is locked. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { captureIo, runCli } from "../../src/cli/mod.ts";
import { listEntry, sortServices } from "../../src/model/views.ts";
import { currentHolder } from "../../src/store/holder.ts";
import { openRepositoryStore } from "../../src/store/open.ts";
import { makeTempRepo } from "../helpers/mod.ts";
import { makeActor, makeService } from "../store/fixtures.ts";

describe("ays restore", () => {
  it("gives back the same services after the store is deleted", async () => {
    const repo = await makeTempRepo({ name: "shop" });
    const env = { XDG_CONFIG_HOME: join(repo.path, ".cfg") };
    try {
      const node = makeActor("node");
      const app = makeActor("app");
      const services = [
        makeService("shop", node, "n1", { data: { password: "secret-1" } }),
        makeService("shop", app, "a1", { parent: "node!n1" }),
      ];
      const first = await openRepositoryStore({
        repoPath: repo.path,
        repoName: "shop",
        env,
        mirror: true,
      });
      await first.store.save({ actors: [node, app], services });
      const before = sortServices(await first.store.loadServices()).map(listEntry);
      await first.driver.close();
      for (const suffix of ["", "-wal", "-shm"]) {
        await rm(join(repo.path, ".ays", `store.db${suffix}`), { force: true });
      }

      const io = captureIo({ env, cwd: repo.path });
      assert.equal(await runCli(["restore", "--json"], io), 0, io.err.join(""));
      const report = JSON.parse(io.out.join(""));
      assert.equal(report.services, 2);
      assert.deepEqual(report.emptiedSecrets.map((s: { service: string }) => s.service), [
        "app!a1",
        "node!n1",
      ]);
      assert.match(io.err.join(""), /secret fields .* empty now/);

      const again = await openRepositoryStore({ repoPath: repo.path, repoName: "shop", env });
      assert.deepEqual(sortServices(await again.store.loadServices()).map(listEntry), before);
      await again.driver.close();
    } finally {
      await repo.remove();
    }
  });

  it("exits 3 naming the holder while another writer holds the repository lock", async () => {
    const repo = await makeTempRepo({ name: "shop" });
    const env = { XDG_CONFIG_HOME: join(repo.path, ".cfg") };
    try {
      const opened = await openRepositoryStore({ repoPath: repo.path, repoName: "shop", env });
      await opened.driver.acquireLock("repo", currentHolder("run-42"), 60_000);
      const io = captureIo({ env, cwd: repo.path });
      assert.equal(await runCli(["restore"], io), 3);
      assert.match(io.err.join(""), /locked by pid \d+ on .*\(run-42\)/);
      await opened.driver.close();
    } finally {
      await repo.remove();
    }
  });
});
