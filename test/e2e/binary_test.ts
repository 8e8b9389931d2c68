import assert from "node:assert/strict";
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { aysBinary, makeTempDir, projectRoot, runAys, type TempDir } from "../helpers/mod.ts";
import pkg from "../../package.json" with { type: "json" };

describe("dist/ays", () => {
  let lonely: TempDir;
  let copy: string;
  before(async () => {
    lonely = await makeTempDir("ays-lonely-");
    copy = join(lonely.path, "ays");
    await copyFile(aysBinary, copy);
    const { chmod } = await import("node:fs/promises");
    await chmod(copy, 0o755);
  });
  after(async () => {
    await lonely?.remove();
  });

  it("prints its version", async () => {
    const result = await runAys(["--version"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${pkg.version}\n`);
  });

  it("exits 2 on a usage error", async () => {
    const result = await runAys(["definitely-not-a-command"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown command/);
  });

  it("reads no .env or bunfig.toml from the current folder (docs/development.md)", async () => {
    // Bun's executables load both by default; a `.env` naming another store would make this
    // `ays list` fail (exit 4, no such host), a bunfig.toml preloading a missing file too.
    const repo = join(lonely.path, "dotenv");
    await mkdir(join(repo, ".ays"), { recursive: true });
    await writeFile(join(repo, ".ays", "config.yaml"), "name: dotenv\n");
    await writeFile(join(repo, ".env"), "AYS_STORE=redis://no-such-host.invalid:1\n");
    await writeFile(join(repo, "bunfig.toml"), 'preload = ["./no-such-preload.ts"]\n');
    const env = { XDG_CONFIG_HOME: join(lonely.path, "cfg") };
    const list = await runAys(["list"], { binary: copy, env, cwd: repo });
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.stdout, "no services\n");
  });

  it("runs alone: no node_modules, empty environment and PATH, outside the checkout", async () => {
    const env = {};
    assert.ok(!copy.startsWith(projectRoot));
    const version = await runAys(["--version"], { binary: copy, env, cwd: lonely.path });
    assert.equal(version.code, 0, version.stderr);
    assert.equal(version.stdout.trim(), pkg.version);

    const help = await runAys(["--help"], { binary: copy, env, cwd: lonely.path });
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /Usage: ays/);

    const doctor = await runAys(["doctor", "--json"], { binary: copy, env, cwd: lonely.path });
    assert.equal(doctor.code, 0, doctor.stderr);
    const report = JSON.parse(doctor.stdout);
    assert.equal(report.packaging, "binary");
    assert.equal(report.worker.ok, true);
    assert.equal(report.worker.runtime, "bun");
  });
});
