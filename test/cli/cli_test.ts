import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { captureIo, runCli } from "../../src/cli/mod.ts";
import { makeTempDir } from "../helpers/mod.ts";
import { VERSION } from "../../src/version.ts";

describe("runCli", () => {
  it("prints the version from package.json and exits 0", async () => {
    const io = captureIo();
    const code = await runCli(["--version"], io);
    assert.equal(code, 0);
    assert.equal(io.out.join(""), `${VERSION}\n`);
    assert.match(VERSION, /^\d+\.\d+\.\d+/);
  });

  it("prints help with the global options on stdout", async () => {
    const io = captureIo();
    const code = await runCli(["--help"], io);
    assert.equal(code, 0);
    const help = io.out.join("");
    for (const option of ["--repo", "--store", "--json", "--quiet", "--no-color"]) {
      assert.ok(help.includes(option), `help lists ${option}`);
    }
  });

  it("exits 2 on an unknown command, with the error on stderr", async () => {
    const io = captureIo();
    const code = await runCli(["no-such-command"], io);
    assert.equal(code, 2);
    assert.equal(io.out.join(""), "");
    assert.match(io.err.join(""), /unknown command 'no-such-command'/);
  });

  it("exits 2 on an unknown option", async () => {
    const io = captureIo();
    assert.equal(await runCli(["--frobnicate"], io), 2);
    assert.match(io.err.join(""), /unknown option '--frobnicate'/);
  });

  it("exits 2 when an option lacks its value", async () => {
    const io = captureIo();
    assert.equal(await runCli(["doctor", "--store"], io), 2);
  });

  it("has the v8.1 names: start = daemon, plan = simulate, create_repo -p -g = init", async () => {
    const usage = async (args: string[]) => {
      const io = captureIo();
      assert.equal(await runCli(args, io), 0, io.err.join(""));
      return io.out.join("").split("\n")[0];
    };
    assert.equal(await usage(["start", "--help"]), "Usage: ays daemon|start [options] [command]");
    assert.equal(await usage(["plan", "--help"]), "Usage: ays simulate|plan [options]");
    assert.equal(await usage(["create_repo", "--help"]), "Usage: ays create_repo [options]");
  });

  it("--quiet silences warnings, not results", async () => {
    const dir = await makeTempDir();
    try {
      const file = join(dir.path, "twice.hrd");
      await writeFile(file, "a = type:str\na = type:int\n");
      const loud = captureIo();
      assert.equal(await runCli(["schema", file], loud), 0);
      assert.match(loud.err.join(""), /warning: .*twice\.hrd:2:1: field "a" is defined again/);
      const quiet = captureIo();
      assert.equal(await runCli(["schema", file, "--quiet"], quiet), 0);
      assert.equal(quiet.err.join(""), "");
      assert.equal(quiet.out.join(""), loud.out.join(""));
    } finally {
      await dir.remove();
    }
  });

  it("runs doctor: a real job worker answers", async () => {
    const io = captureIo();
    const code = await runCli(["doctor", "--json"], io);
    assert.equal(code, 0, io.err.join(""));
    const report = JSON.parse(io.out.join(""));
    assert.equal(report.worker.ok, true);
    assert.equal(report.packaging, "source");
    assert.ok(["bun", "deno"].includes(report.worker.runtime));
  });
});
