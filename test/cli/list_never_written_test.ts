/**
 * `ays list` in a repository whose own store file was never written (docs/store.md, "A store
 * never written"): answered without opening a store, with the output, filters' checks and
 * exit codes of a store that holds nothing — and a lost store still refused. In-process
 * (runCli + captureIo), beside the same commands once the store file exists.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { captureIo, runCli } from "../../src/cli/mod.ts";
import { makeTempDir, type TempDir, writeFiles } from "../helpers/mod.ts";

interface Result {
  code: number;
  out: string;
  err: string;
}

describe("ays list of a store never written", () => {
  let dir: TempDir;
  let repo: string;
  let ays: (...args: string[]) => Promise<Result>;
  const store = () => join(repo, ".ays", "store.db");

  before(async () => {
    dir = await makeTempDir("ays-list-never-");
    repo = join(dir.path, "fresh");
    const env = { XDG_CONFIG_HOME: join(dir.path, "cfg"), NO_COLOR: "1" };
    ays = async (...args) => {
      const io = captureIo({ env, cwd: repo });
      const code = await runCli(args, io);
      return { code, out: io.out.join(""), err: io.err.join("") };
    };
    await writeFiles(repo, { ".ays/config.yaml": "name: fresh\n" });
  });
  after(async () => {
    await dir?.remove();
  });

  it("lists nothing, as text and as JSON, and writes no store file", async () => {
    assert.deepEqual(await ays("list"), { code: 0, out: "no services\n", err: "" });
    assert.deepEqual(await ays("list", "--json"), { code: 0, out: "[]\n", err: "" });
    assert.equal(existsSync(store()), false);
  });

  it("is answered with no turn of the event loop: its start reads no file asynchronously", async () => {
    // Once first, so that its modules are loaded and the repository is in the registry.
    assert.equal((await ays("list")).code, 0);
    // Each asynchronous read of the start (the repository, its config, the registry, the
    // store file, the mirror) waited for the runtime's I/O threads, at a cost of its own on a
    // loaded machine (docs/benchmarks.md, "Start-up, fifth pass"): the immediate ran first
    // under Bun (Deno's loop runs the completed reads before it, so only Bun tells).
    let turned = false;
    const immediate = setImmediate(() => turned = true);
    const listed = await ays("list");
    clearImmediate(immediate);
    assert.deepEqual(listed, { code: 0, out: "no services\n", err: "" });
    assert.equal(turned, false);
  });

  it("checks the filters as over an empty store: a role nothing has is exit 2", async () => {
    const never = await ays("list", "-r", "node");
    assert.equal(never.code, 2, never.err);
    assert.equal(never.out, "");
    assert.match(never.err, /node/);
    // The same answer once the store exists and still holds no service of that role.
    const made = await ays("blueprint");
    assert.equal(made.code, 0, made.err);
    assert.ok(existsSync(store()));
    assert.deepEqual(await ays("list", "-r", "node"), never);
    assert.deepEqual(await ays("list"), { code: 0, out: "no services\n", err: "" });
  });

  it("refuses a store lost while the mirror shows services (exit 4)", async () => {
    await writeFiles(repo, {
      "blueprints/a.yaml": "job__j0: {}\n",
      "actorTemplates/job/schema.hrd": "after = consume:job:0:1000\n",
    });
    const made = await ays("blueprint");
    assert.equal(made.code, 0, made.err);
    const listed = await ays("list");
    assert.equal(listed.code, 0, listed.err);
    assert.match(listed.out, /job!j0/);
    for (const suffix of ["", "-wal", "-shm"]) await rm(store() + suffix, { force: true });
    const lost = await ays("list");
    assert.equal(lost.code, 4, lost.err);
    assert.equal(lost.out, "");
    assert.match(lost.err, /lost its data .*mirror shows 1 actors and 1 services/);
    assert.equal(existsSync(store()), false);
  });
});
