import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { runCli } from "../../src/cli/mod.ts";
import { captureIo } from "../../src/cli/io.ts";
import { makeTempRepo, type TempDir, writeFiles } from "../helpers/mod.ts";
import { fanRepoFiles } from "../run/repo_fixture.ts";

async function ays(cwd: string, args: string[]) {
  const io = captureIo({ env: {}, cwd });
  const code = await runCli(args, io);
  return { code, out: io.out.join(""), err: io.err.join("") };
}

describe("ays jobs, ays watch and ays run show last over a finished run", () => {
  let dir: TempDir;
  let runId: string;
  before(async () => {
    dir = await makeTempRepo({ name: "jobsrepo" });
    await writeFiles(dir.path, fanRepoFiles({ mids: 2, leaves: 1, sleepMs: 1, breakMid: "m1" }));
    const applied = await ays(dir.path, ["blueprint"]);
    assert.equal(applied.code, 0, applied.err);
    const r = await ays(dir.path, ["install"]);
    assert.equal(r.code, 1, r.err);
    runId = /run (\S+) error/.exec(r.err)![1];
  });
  after(() => dir.remove());

  it("lists the jobs newest first, filtered by state, role, instance and action", async () => {
    const all = await ays(dir.path, ["jobs", "--json"]);
    assert.equal(all.code, 0, all.err);
    const jobs = JSON.parse(all.out);
    assert.equal(jobs.length, 12);
    assert.ok(
      jobs.every((j: { runId: string; recurring: boolean }) => j.runId === runId && !j.recurring),
    );
    const failed = JSON.parse((await ays(dir.path, ["jobs", "--state", "error", "--json"])).out);
    assert.deepEqual(failed.map((j: { service: string }) => j.service), ["mid!m1"]);
    assert.equal(failed[0].error.message, "broken m1");
    const text = await ays(dir.path, ["jobs", "--state", "error"]);
    assert.match(
      text.out,
      /^STATE +SERVICE +ACTION +STARTED +TOOK +RUN\nerror +mid!m1 +install .* \S+\n {4}broken m1\n$/,
    );
    const mids = JSON.parse(
      (await ays(dir.path, ["jobs", "-r", "mid", "--action", "init", "--json"])).out,
    );
    assert.deepEqual(mids.map((j: { service: string }) => j.service).sort(), ["mid!m0", "mid!m1"]);
    const m0 = JSON.parse((await ays(dir.path, ["jobs", "-i", "m0.*", "--json"])).out);
    assert.deepEqual(
      [...new Set(m0.map((j: { service: string }) => j.service))].sort(),
      ["leaf!m0l0", "mid!m0"],
    );
    const limited = JSON.parse((await ays(dir.path, ["jobs", "--limit", "2", "--json"])).out);
    assert.equal(limited.length, 2);
    assert.ok(limited[0].startedAt >= limited[1].startedAt);
    assert.deepEqual(JSON.parse((await ays(dir.path, ["jobs", "--recurring", "--json"])).out), []);
    const bad = await ays(dir.path, ["jobs", "--state", "broken"]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /unknown job state 'broken': one of new, running, ok, error/);
    assert.equal((await ays(dir.path, ["jobs", "-i", "("])).code, 2);
  });

  it("watch of an ended run shows it from its events and exits with its exit code", async () => {
    const last = await ays(dir.path, ["watch", "last"]);
    assert.equal(last.code, 1, last.err);
    assert.match(last.err, /error mid!m1 install: broken m1/);
    assert.match(last.err, /failed \(1\):\n {2}mid!m1 install: broken m1\nskipped \(2\):/);
    assert.match(last.err, new RegExp(`run ${runId} error: 9 ok, 1 error, 2 skipped`));
    const byPrefix = await ays(dir.path, ["watch", runId.slice(0, 17), "--events"]);
    assert.equal(byPrefix.code, 1);
    const lines = byPrefix.out.trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(lines[0].type, "run.started");
    assert.equal(lines.at(-1).type, "run.ended");
    const unknown = await ays(dir.path, ["watch", "no-such-run"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /no run no-such-run/);
  });

  it("run show last shows the newest run", async () => {
    const show = await ays(dir.path, ["run", "show", "last", "--json"]);
    assert.equal(show.code, 0, show.err);
    assert.equal(JSON.parse(show.out).id, runId);
  });
});
