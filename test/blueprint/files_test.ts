import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { InputError } from "../../src/errors.ts";
import {
  archiveBlueprints,
  listBlueprints,
  readBlueprintFiles,
} from "../../src/blueprint/files.ts";
import { makeTempDir, makeTempRepo } from "../helpers/mod.ts";

describe("blueprint files", () => {
  it("lists active blueprints in file-name order, skipping archived and hidden ones", async () => {
    const repo = await makeTempRepo({
      files: {
        "blueprints/b.yaml": "x__1:\n",
        "blueprints/a.yml": "x__2:\n",
        "blueprints/C.yaml": "x__3:\n",
        "blueprints/_old.yaml": "x__4:\n",
        "blueprints/.swap.yaml": "x__5:\n",
        "blueprints/notes.txt": "not yaml\n",
        "blueprints/sub/d.yaml": "x__6:\n",
      },
    });
    try {
      const files = await listBlueprints(repo.path);
      assert.deepEqual(files.map((f) => f.slice(repo.path.length + 1)), [
        "blueprints/C.yaml",
        "blueprints/a.yml",
        "blueprints/b.yaml",
      ]);
    } finally {
      await repo.remove();
    }
  });

  it("a repository without blueprints/ has none", async () => {
    const dir = await makeTempDir();
    try {
      assert.deepEqual(await listBlueprints(dir.path), []);
    } finally {
      await dir.remove();
    }
  });

  it("reads files with locations relative to a folder", async () => {
    const repo = await makeTempRepo({
      files: { "blueprints/a.yaml": "x__1:\n", "blueprints/b.yaml": "x__2:\n  v: [\n" },
    });
    try {
      const [doc] = await readBlueprintFiles([join(repo.path, "blueprints", "a.yaml")], {
        relativeTo: repo.path,
      });
      assert.equal(doc.file, join("blueprints", "a.yaml"));
      await assert.rejects(
        readBlueprintFiles(await listBlueprints(repo.path), { relativeTo: repo.path }),
        (error: unknown) =>
          error instanceof InputError && error.location?.file === join("blueprints", "b.yaml"),
      );
      await assert.rejects(
        readBlueprintFiles([join(repo.path, "nope.yaml")]),
        /no such blueprint file/,
      );
    } finally {
      await repo.remove();
    }
  });

  it("archives to _<name>, checking every target first", async () => {
    const repo = await makeTempRepo({
      files: {
        "blueprints/a.yaml": "x__1:\n",
        "blueprints/b.yaml": "x__2:\n",
        "blueprints/c.yaml": "x__3:\n",
        "blueprints/_c.yaml": "x__3:\n",
      },
    });
    try {
      const folder = join(repo.path, "blueprints");
      await assert.rejects(
        archiveBlueprints([join(folder, "a.yaml"), join(folder, "c.yaml")]),
        /_c\.yaml exists/,
      );
      assert.deepEqual((await readdir(folder)).sort(), ["_c.yaml", "a.yaml", "b.yaml", "c.yaml"]);
      const moved = await archiveBlueprints([join(folder, "a.yaml"), join(folder, "b.yaml")]);
      assert.deepEqual(moved, [join(folder, "_a.yaml"), join(folder, "_b.yaml")]);
      assert.deepEqual(await listBlueprints(repo.path), [join(folder, "c.yaml")]);
    } finally {
      await repo.remove();
    }
  });
});
