import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { join } from "node:path";
import { mkdir, writeFile } from "node:fs/promises";
import { captureIo, runCli } from "../../src/cli/mod.ts";
import { makeTempDir } from "../helpers/mod.ts";

describe("ays daemon status with several --repo", () => {
  it("serves a repository given twice once, and refuses two repositories of one name", async () => {
    const dir = await makeTempDir();
    const env = { XDG_CONFIG_HOME: join(dir.path, "cfg") };
    try {
      for (const folder of ["a", "b"]) {
        assert.equal(await runCli(["init", folder], captureIo({ env, cwd: dir.path })), 0);
      }
      const a = join(dir.path, "a");
      const b = join(dir.path, "b");

      const twice = captureIo({ env, cwd: dir.path });
      assert.equal(
        await runCli(["daemon", "status", "--json", "--repo", a, "--repo", a], twice),
        0,
        twice.err.join(""),
      );
      assert.equal(JSON.parse(twice.out.join("")).repo, "a");

      await mkdir(join(b, ".ays"), { recursive: true });
      await writeFile(join(b, ".ays", "config.yaml"), "name: a\n");
      const clash = captureIo({ env, cwd: dir.path });
      assert.equal(await runCli(["daemon", "status", "--repo", a, "--repo", b], clash), 2);
      assert.match(clash.err.join(""), /two repositories are named 'a'/);
    } finally {
      await dir.remove();
    }
  });
});
