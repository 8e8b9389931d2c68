import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadedActorPaths, storedActorPaths } from "../../src/store/actor_paths.ts";
import { openRepoStore } from "../../src/store/repo_store.ts";
import { openSqliteDriver } from "../../src/store/sqlite.ts";
import { makeTempDir } from "../helpers/mod.ts";
import { makeActor } from "./fixtures.ts";

function actorAt(root: string) {
  return {
    ...makeActor("node.ssh"),
    templatePath: join(root, "actorTemplates", "node", "node.ssh"),
    actionsPath: join(root, "actorTemplates", "node", "node.ssh", "actions.ts"),
  };
}

describe("actor paths in the store", () => {
  it("stores paths inside the repository relative to it", () => {
    const stored = storedActorPaths(actorAt("/a/repo"), "/a/repo");
    assert.equal(stored.templatePath, "actorTemplates/node/node.ssh");
    assert.equal(stored.actionsPath, "actorTemplates/node/node.ssh/actions.ts");
  });

  it("keeps a path outside the repository (and a missing actions file) as it is", () => {
    const actor = { ...actorAt("/elsewhere"), templatePath: "/templates/x" };
    const stored = storedActorPaths({ ...actor, actionsPath: null }, "/a/repo");
    assert.equal(stored.templatePath, "/templates/x");
    assert.equal(stored.actionsPath, null);
  });

  it("reads relative paths back against the repository they are now in", () => {
    const stored = storedActorPaths(actorAt("/a/repo"), "/a/repo");
    const loaded = loadedActorPaths(stored, "/b/moved");
    assert.deepEqual(loaded, actorAt("/b/moved"));
  });

  it("reads an old absolute path of another folder's templates inside this repository", () => {
    const loaded = loadedActorPaths(actorAt("/a/repo"), "/b/moved");
    assert.deepEqual(loaded, actorAt("/b/moved"));
    assert.equal(
      loadedActorPaths(actorAt("/b/moved"), "/b/moved").templatePath,
      actorAt("/b/moved").templatePath,
    );
    assert.equal(loadedActorPaths(makeActor("x"), "/b").templatePath, "/templates/x");
  });

  it("a store opened from another folder gives that folder's paths", async () => {
    const dir = await makeTempDir();
    try {
      const file = join(dir.path, "store.db");
      const first = openSqliteDriver(file, { namespace: "r" });
      const original = await openRepoStore(first, { repoName: "r", repoPath: "/a/repo" });
      await original.save({ actors: [actorAt("/a/repo")] });
      assert.deepEqual(await original.loadActor("node.ssh"), actorAt("/a/repo"));
      await first.close();
      const second = openSqliteDriver(file, { namespace: "r" });
      const copy = await openRepoStore(second, { repoName: "r", repoPath: "/b/copy" });
      assert.deepEqual((await copy.loadActors())[0], actorAt("/b/copy"));
      await second.close();
      const raw = openSqliteDriver(file, { namespace: "r" });
      const plain = await openRepoStore(raw, { repoName: "r" });
      assert.equal(
        (await plain.loadActor("node.ssh"))?.actionsPath,
        "actorTemplates/node/node.ssh/actions.ts",
      );
      await raw.close();
    } finally {
      await dir.remove();
    }
  });
});
