import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { UnavailableError } from "../../src/errors.ts";
import { readRegistry, registerRepo, registryPath } from "../../src/repo/registry.ts";
import { makeTempDir } from "../helpers/mod.ts";

describe("repository registry", () => {
  it("lives in $XDG_CONFIG_HOME/ays/repos, else ~/.config/ays/repos", () => {
    assert.equal(registryPath({ env: { XDG_CONFIG_HOME: "/cfg", HOME: "/h" } }), "/cfg/ays/repos");
    assert.equal(
      registryPath({ env: { XDG_CONFIG_HOME: "", HOME: "/h" } }),
      "/h/.config/ays/repos",
    );
    assert.equal(registryPath({ env: { HOME: "/h" } }), "/h/.config/ays/repos");
    // Neither set: the user's home directory as the system knows it.
    assert.equal(registryPath({ env: {} }), join(homedir(), ".config", "ays", "repos"));
    assert.equal(registryPath({ env: { XDG_CONFIG_HOME: "/cfg" } }), "/cfg/ays/repos");
  });

  it("records, updates and lists repositories, one line each", async () => {
    const dir = await makeTempDir();
    const env = { XDG_CONFIG_HOME: dir.path };
    try {
      assert.deepEqual(await readRegistry({ env }), []);
      assert.deepEqual(await registerRepo({ name: "b", path: "/r/b" }, { env }), {
        written: true,
        warnings: [],
      });
      await registerRepo({ name: "a", path: "/r/a" }, { env });
      // The same entry again does not rewrite the file.
      assert.equal((await registerRepo({ name: "a", path: "/r/a" }, { env })).written, false);
      // A new name for a known path replaces the entry.
      await registerRepo({ name: "a2", path: "/r/a" }, { env });
      assert.deepEqual(await readRegistry({ env }), [
        { name: "a2", path: "/r/a" },
        { name: "b", path: "/r/b" },
      ]);
      assert.equal(
        await readFile(join(dir.path, "ays", "repos"), "utf8"),
        "a2\t/r/a\nb\t/r/b\n",
      );
      // No temporary files are left behind.
      assert.deepEqual(await readdir(join(dir.path, "ays")), ["repos"]);
    } finally {
      await dir.remove();
    }
  });

  it("skips malformed lines", async () => {
    const dir = await makeTempDir();
    const env = { XDG_CONFIG_HOME: dir.path };
    try {
      await mkdir(join(dir.path, "ays"));
      await writeFile(join(dir.path, "ays", "repos"), "junk\nok\t/p\n\t/q\n");
      assert.deepEqual(await readRegistry({ env }), [{ name: "ok", path: "/p" }]);
    } finally {
      await dir.remove();
    }
  });

  it("a registry that cannot be written is a warning, not an error", async () => {
    const dir = await makeTempDir();
    try {
      // XDG_CONFIG_HOME is a file: nothing can be created below it.
      const blocker = join(dir.path, "file");
      await writeFile(blocker, "");
      const result = await registerRepo({ name: "x", path: "/r/x" }, {
        env: { XDG_CONFIG_HOME: blocker },
      });
      assert.equal(result.written, false);
      assert.equal(result.warnings.length, 1);
      assert.match(result.warnings[0], /could not record the repository/);
    } finally {
      await dir.remove();
    }
  });

  it("an unreadable registry is an unavailable resource (exit 4), not an internal error", async () => {
    const dir = await makeTempDir();
    try {
      const notAFolder = join(dir.path, "plain-file");
      await writeFile(notAFolder, "x");
      await assert.rejects(
        readRegistry({ env: { XDG_CONFIG_HOME: notAFolder } }),
        (e: unknown) =>
          e instanceof UnavailableError && /cannot read the repository registry/.test(e.message),
      );
      // Recording a repository there stays a warning.
      const result = await registerRepo({ name: "r", path: dir.path }, {
        env: { XDG_CONFIG_HOME: notAFolder },
      });
      assert.equal(result.written, false);
      assert.ok(result.warnings.length > 0);
    } finally {
      await dir.remove();
    }
  });
});
