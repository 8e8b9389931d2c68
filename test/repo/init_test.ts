import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { execFileSync } from "node:child_process";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { InputError } from "../../src/errors.ts";
import { parseRepoConfig } from "../../src/repo/config_yaml.ts";
import { findRepo } from "../../src/repo/find.ts";
import { GITIGNORE, initRepo } from "../../src/repo/init.ts";
import { makeTempDir } from "../helpers/mod.ts";

describe("initRepo", () => {
  it("leaves the name commented out when the folder's name is no valid repository name", async () => {
    const dir = await makeTempDir();
    try {
      const target = join(dir.path, "my repo");
      await initRepo(target);
      const config = await readFile(join(target, ".ays", "config.yaml"), "utf8");
      assert.deepEqual(parseRepoConfig(config, { file: "c" }), {});
      assert.match(config, /^# name: /m);
    } finally {
      await dir.remove();
    }
  });

  it("makes .ays/config.yaml, actorTemplates/, blueprints/ and .gitignore in a new folder", async () => {
    const dir = await makeTempDir();
    try {
      const target = join(dir.path, "new", "repo");
      const result = await initRepo(target);
      assert.deepEqual(result, { path: target, git: false });
      assert.deepEqual((await readdir(target)).sort(), [
        ".ays",
        ".gitignore",
        "actorTemplates",
        "blueprints",
      ]);
      const config = await readFile(join(target, ".ays", "config.yaml"), "utf8");
      // Only the name is set (so it survives a rename of the folder); the rest are comments.
      assert.deepEqual(parseRepoConfig(config, { file: "c" }), { name: "repo" });
      assert.equal(await readFile(join(target, ".gitignore"), "utf8"), GITIGNORE);
      assert.match(GITIGNORE, /^\.ays\/store\.db\*$/m);
      assert.equal((await findRepo(join(target, "blueprints"))).path, target);
    } finally {
      await dir.remove();
    }
  });

  it("accepts an existing empty folder", async () => {
    const dir = await makeTempDir();
    try {
      await initRepo(dir.path);
      assert.ok((await stat(join(dir.path, ".ays"))).isDirectory());
    } finally {
      await dir.remove();
    }
  });

  it("refuses a non-empty folder, an existing repository and a file", async () => {
    const dir = await makeTempDir();
    try {
      await writeFile(join(dir.path, "notes.txt"), "x");
      await assert.rejects(
        initRepo(dir.path),
        (e: unknown) => e instanceof InputError && /not empty \(notes\.txt\)/.test(e.message),
      );
      const repo = join(dir.path, "r");
      await initRepo(repo);
      await assert.rejects(initRepo(repo), /already an ays repository/);
      await assert.rejects(initRepo(join(dir.path, "notes.txt")), /not a folder/);
      await assert.rejects(
        initRepo(join(dir.path, "notes.txt", "sub")),
        (e: unknown) => e instanceof InputError && /cannot make a repository/.test(e.message),
      );
    } finally {
      await dir.remove();
    }
  });

  it("--git runs git init and adds origin", async () => {
    const dir = await makeTempDir();
    try {
      const target = join(dir.path, "g");
      const result = await initRepo(target, { git: true, origin: "https://example.com/r.git" });
      assert.equal(result.git, true);
      assert.ok((await stat(join(target, ".git"))).isDirectory());
      const url = execFileSync("git", ["remote", "get-url", "origin"], { cwd: target }).toString();
      assert.equal(url.trim(), "https://example.com/r.git");
      // The store never goes into git.
      await mkdir(join(target, ".ays"), { recursive: true });
      await writeFile(join(target, ".ays", "store.db"), "x");
      await writeFile(join(target, ".ays", "store.db-wal"), "x");
      const ignored = execFileSync("git", ["status", "--porcelain", "--ignored"], { cwd: target })
        .toString();
      assert.match(ignored, /!! \.ays\/store\.db\n/);
      assert.match(ignored, /!! \.ays\/store\.db-wal\n/);
    } finally {
      await dir.remove();
    }
  });

  it("--git without a URL only initialises git; a folder with only .git is fine", async () => {
    const dir = await makeTempDir();
    try {
      execFileSync("git", ["init", "--quiet"], { cwd: dir.path });
      await initRepo(dir.path, { git: true });
      const remotes = execFileSync("git", ["remote"], { cwd: dir.path }).toString();
      assert.equal(remotes, "");
      assert.ok((await stat(join(dir.path, ".ays", "config.yaml"))).isFile());
    } finally {
      await dir.remove();
    }
  });
});
