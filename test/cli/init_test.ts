import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { execFileSync } from "node:child_process";
import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { captureIo, runCli } from "../../src/cli/mod.ts";
import { makeTempDir } from "../helpers/mod.ts";

describe("ays init and ays repos", () => {
  it("init PATH makes a repository and records it; repos lists it", async () => {
    const dir = await makeTempDir();
    const env = { XDG_CONFIG_HOME: join(dir.path, "cfg") };
    try {
      const io = captureIo({ env, cwd: dir.path });
      assert.equal(await runCli(["init", "shop"], io), 0, io.err.join(""));
      assert.match(io.out.join(""), /created ays repository 'shop' in .*shop\n/);
      assert.ok((await stat(join(dir.path, "shop", ".ays", "config.yaml"))).isFile());
      assert.equal(
        await readFile(join(dir.path, "cfg", "ays", "repos"), "utf8"),
        `shop\t${join(dir.path, "shop")}\n`,
      );

      const list = captureIo({ env, cwd: dir.path });
      assert.equal(await runCli(["repos", "--json"], list), 0);
      assert.deepEqual(JSON.parse(list.out.join("")), [
        { name: "shop", path: join(dir.path, "shop"), exists: true },
      ]);

      await rm(join(dir.path, "shop"), { recursive: true });
      const gone = captureIo({ env, cwd: dir.path });
      assert.equal(await runCli(["repos"], gone), 0);
      assert.equal(gone.out.join(""), `shop  ${join(dir.path, "shop")}  (missing)\n`);
    } finally {
      await dir.remove();
    }
  });

  it("init without PATH uses the current folder; --json prints the result", async () => {
    const dir = await makeTempDir();
    try {
      const here = join(dir.path, "here");
      await mkdir(here);
      const io = captureIo({ env: { XDG_CONFIG_HOME: join(dir.path, "cfg") }, cwd: here });
      assert.equal(await runCli(["init", "--json"], io), 0, io.err.join(""));
      assert.deepEqual(JSON.parse(io.out.join("")), { name: "here", path: here, git: false });
      // Indented like every other --json.
      assert.equal(
        io.out.join(""),
        JSON.stringify({ name: "here", path: here, git: false }, null, 2) + "\n",
      );
    } finally {
      await dir.remove();
    }
  });

  it("init --git URL and create_repo -p PATH -g URL make git repositories with origin", async () => {
    const dir = await makeTempDir();
    const env = { XDG_CONFIG_HOME: join(dir.path, "cfg") };
    try {
      const a = captureIo({ env, cwd: dir.path });
      assert.equal(await runCli(["init", "a", "--git", "git@example.com:a.git"], a), 0);
      const b = captureIo({ env, cwd: dir.path });
      assert.equal(await runCli(["create_repo", "-p", "b", "-g", "git@example.com:b.git"], b), 0);
      for (const name of ["a", "b"]) {
        const url = execFileSync("git", ["remote", "get-url", "origin"], {
          cwd: join(dir.path, name),
        }).toString().trim();
        assert.equal(url, `git@example.com:${name}.git`);
      }
      const c = captureIo({ env, cwd: dir.path });
      assert.equal(await runCli(["init", "c", "--git"], c), 0);
      assert.ok((await stat(join(dir.path, "c", ".git"))).isDirectory());
    } finally {
      await dir.remove();
    }
  });

  it("init in a non-empty folder exits 2; an unwritable registry only warns", async () => {
    const dir = await makeTempDir();
    try {
      const io = captureIo({ env: { XDG_CONFIG_HOME: join(dir.path, "cfg") }, cwd: dir.path });
      await mkdir(join(dir.path, "x", "stuff"), { recursive: true });
      assert.equal(await runCli(["init", "x"], io), 2);
      assert.match(io.err.join(""), /not empty/);

      // XDG_CONFIG_HOME below a file cannot be created.
      await mkdir(join(dir.path, "y"));
      await writeFile(join(dir.path, "a-file"), "");
      const blocked = captureIo({
        env: { XDG_CONFIG_HOME: join(dir.path, "a-file", "cfg") },
        cwd: dir.path,
      });
      assert.equal(await runCli(["init", "y"], blocked), 0);
      assert.match(blocked.err.join(""), /warning: could not record the repository/);

      // --quiet silences the warning.
      await mkdir(join(dir.path, "z"));
      const quiet = captureIo({
        env: { XDG_CONFIG_HOME: join(dir.path, "a-file", "cfg") },
        cwd: dir.path,
      });
      assert.equal(await runCli(["init", "z", "--quiet"], quiet), 0);
      assert.equal(quiet.err.join(""), "");
    } finally {
      await dir.remove();
    }
  });
});
