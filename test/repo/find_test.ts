import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { InputError } from "../../src/errors.ts";
import { ensureAysDir, findRepo } from "../../src/repo/find.ts";
import { makeTempDir, makeTempRepo } from "../helpers/mod.ts";

describe("findRepo", () => {
  it("walks up to the first .ays", async () => {
    const repo = await makeTempRepo();
    try {
      const deep = join(repo.path, "blueprints", "a", "b");
      await mkdir(deep, { recursive: true });
      assert.deepEqual(await findRepo(deep), { path: repo.path, marker: "dir" });
      assert.deepEqual(await findRepo(repo.path), { path: repo.path, marker: "dir" });
    } finally {
      await repo.remove();
    }
  });

  it("stops at the nearest repository when repositories nest", async () => {
    const outer = await makeTempRepo();
    try {
      const inner = join(outer.path, "sub");
      await mkdir(join(inner, ".ays"), { recursive: true });
      await mkdir(join(inner, "x"));
      assert.equal((await findRepo(join(inner, "x"))).path, inner);
    } finally {
      await outer.remove();
    }
  });

  it("accepts a v8.1 repository whose .ays is an empty file", async () => {
    const dir = await makeTempDir();
    try {
      await writeFile(join(dir.path, ".ays"), "");
      await mkdir(join(dir.path, "services"));
      assert.deepEqual(await findRepo(join(dir.path, "services")), {
        path: dir.path,
        marker: "file",
      });
    } finally {
      await dir.remove();
    }
  });

  it("takes --repo relative to cwd, and requires .ays there", async () => {
    const repo = await makeTempRepo();
    const other = await makeTempDir();
    try {
      assert.equal((await findRepo(other.path, { repoFlag: repo.path })).path, repo.path);
      await assert.rejects(findRepo(repo.path, { repoFlag: other.path }), /not an ays repository/);
      await assert.rejects(findRepo(other.path, { repoFlag: "nope" }), /no such folder/);
      // --repo does not walk up.
      await assert.rejects(
        findRepo(other.path, { repoFlag: join(repo.path, "blueprints") }),
        InputError,
      );
    } finally {
      await repo.remove();
      await other.remove();
    }
  });

  it("outside any repository is an InputError", async () => {
    const dir = await makeTempDir();
    try {
      await assert.rejects(findRepo(dir.path), (error: unknown) => {
        assert.ok(error instanceof InputError);
        assert.equal(error.exitCode, 2);
        assert.match(error.message, /not inside an ays repository/);
        return true;
      });
    } finally {
      await dir.remove();
    }
  });
});

describe("ensureAysDir", () => {
  it("turns an empty v8.1 .ays file into a folder", async () => {
    const dir = await makeTempDir();
    try {
      await writeFile(join(dir.path, ".ays"), "");
      await ensureAysDir(dir.path);
      assert.ok((await stat(join(dir.path, ".ays"))).isDirectory());
      assert.equal((await findRepo(dir.path)).marker, "dir");
    } finally {
      await dir.remove();
    }
  });

  it("keeps the content of a non-empty marker file", async () => {
    const dir = await makeTempDir();
    try {
      await writeFile(join(dir.path, ".ays"), "old\n");
      await ensureAysDir(dir.path);
      assert.equal(await readFile(join(dir.path, ".ays", "v81-marker"), "utf8"), "old\n");
    } finally {
      await dir.remove();
    }
  });

  it("leaves an existing folder alone", async () => {
    const repo = await makeTempRepo({ files: { ".ays/keep": "x" } });
    try {
      await ensureAysDir(repo.path);
      assert.equal(await readFile(join(repo.path, ".ays", "keep"), "utf8"), "x");
    } finally {
      await repo.remove();
    }
  });
});
