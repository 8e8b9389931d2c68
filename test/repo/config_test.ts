import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { InputError } from "../../src/errors.ts";
import {
  parseRepoConfig,
  readRepoConfig,
  repoNameOf,
  writeRepoSetting,
} from "../../src/repo/config.ts";
import { makeTempDir, makeTempRepo } from "../helpers/mod.ts";

function failsAt(text: string, line: number, column: number, fragment: RegExp): void {
  assert.throws(() => parseRepoConfig(text, { file: "config.yaml" }), (error: unknown) => {
    assert.ok(error instanceof InputError, String(error));
    assert.deepEqual(error.location, { file: "config.yaml", line, column });
    assert.match(error.message, fragment);
    return true;
  });
}

describe("repository config", () => {
  it("reads name, store and parallel", () => {
    assert.deepEqual(
      parseRepoConfig("name: web\nstore: redis://localhost:6379/0\nparallel: 4\n", { file: "c" }),
      { name: "web", store: "redis://localhost:6379/0", parallel: 4 },
    );
  });

  it("reads isolation and memory (in bytes), the defaults of the action settings", () => {
    assert.deepEqual(parseRepoConfig("isolation: process\nmemory: 512M\n", { file: "c" }), {
      isolation: "process",
      memory: 512 * 1024 * 1024,
    });
    assert.deepEqual(parseRepoConfig("memory: 134217728\n", { file: "c" }), {
      memory: 128 * 1024 * 1024,
    });
    failsAt("isolation: thread\n", 1, 12, /'isolation': must be pool, job or process/);
    failsAt(
      "name: x\nmemory: 12M\n",
      2,
      9,
      /'memory': bad memory size "12M": must be at least 128M/,
    );
    failsAt("memory: 1GB\n", 1, 9, /'memory': bad memory size "1GB"/);
    failsAt("memory: [1]\n", 1, 9, /'memory': must be a memory size/);
  });

  it("an empty or comment-only config is empty", () => {
    assert.deepEqual(parseRepoConfig("", { file: "c" }), {});
    assert.deepEqual(parseRepoConfig("# name: x\n", { file: "c" }), {});
  });

  it("rejects unknown settings at their key", () => {
    failsAt("name: ok\nparalel: 3\n", 2, 1, /unknown setting 'paralel'/);
  });

  it("rejects wrong values at the value", () => {
    failsAt("parallel: 0\n", 1, 11, /'parallel': must be at least 1/);
    failsAt("name: x\nparallel: 2.5\n", 2, 11, /whole number/);
    failsAt("name: 'my repo'\n", 1, 7, /'name'/);
    failsAt("store: 5\n", 1, 8, /'store'/);
  });

  it("rejects YAML errors and a non-mapping with positions", () => {
    failsAt("name: x\nname: y\n", 2, 1, /YAML syntax error/);
    failsAt("- a\n", 1, 1, /must be a mapping/);
  });

  it("readRepoConfig: missing file or a v8.1 .ays file give an empty config", async () => {
    const repo = await makeTempRepo();
    const v81 = await makeTempDir();
    try {
      assert.deepEqual(await readRepoConfig(repo.path), {});
      await writeFile(join(v81.path, ".ays"), "");
      assert.deepEqual(await readRepoConfig(v81.path), {});
    } finally {
      await repo.remove();
      await v81.remove();
    }
  });

  it("the name is the config's name, else the folder's", async () => {
    const named = await makeTempRepo({ name: "shop" });
    try {
      const config = await readRepoConfig(named.path);
      assert.equal(repoNameOf(named.path, config), "shop");
      assert.equal(repoNameOf("/x/y/folder", {}), "folder");
    } finally {
      await named.remove();
    }
  });

  it("readRepoConfig reports the config file in the location", async () => {
    const repo = await makeTempRepo({ files: { ".ays/config.yaml": "parallel: -1\n" } });
    try {
      await assert.rejects(readRepoConfig(repo.path), (error: unknown) => {
        assert.ok(error instanceof InputError);
        assert.equal(error.location?.file, join(repo.path, ".ays", "config.yaml"));
        assert.equal(error.location?.line, 1);
        return true;
      });
    } finally {
      await repo.remove();
    }
  });
});

describe("writeRepoSetting", () => {
  it("sets and removes one setting, keeping the rest and its comments; validates first", async () => {
    const repo = await makeTempRepo();
    const file = join(repo.path, ".ays", "config.yaml");
    try {
      await writeFile(file, "# mine\nname: shop # the name\n");
      assert.deepEqual(await writeRepoSetting(repo.path, { key: "noexec", value: true }), {
        name: "shop",
        noexec: true,
      });
      assert.equal(await readFile(file, "utf8"), "# mine\nname: shop # the name\nnoexec: true\n");
      await writeRepoSetting(repo.path, { key: "noexec", value: undefined });
      assert.equal(await readFile(file, "utf8"), "# mine\nname: shop # the name\n");
      await assert.rejects(writeRepoSetting(repo.path, { key: "parallel", value: 0 }), InputError);
      assert.equal(await readFile(file, "utf8"), "# mine\nname: shop # the name\n");
      assert.deepEqual(parseRepoConfig("compat: v81\n", { file: "c" }), { compat: "v81" });
      assert.throws(() => parseRepoConfig("compat: v9\n", { file: "c" }), /'compat': must be v81/);
    } finally {
      await repo.remove();
    }
  });

  it("turns a v8.1 .ays marker file into a folder", async () => {
    const dir = await makeTempDir();
    try {
      await writeFile(join(dir.path, ".ays"), "");
      await writeRepoSetting(dir.path, { key: "noexec", value: true });
      assert.ok((await stat(join(dir.path, ".ays"))).isDirectory());
      assert.deepEqual(await readRepoConfig(dir.path), { noexec: true });
    } finally {
      await dir.remove();
    }
  });
});
