/**
 * `ays run`, `run show`, `runs`, `runs prune`, `simulate`, `do` and `install` in-process
 * (real store, real workers): options, exit codes, JSON shapes, `job.args`.
 */
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { captureIo, runCli } from "../../src/cli/mod.ts";
import { holdRunLock } from "../../src/run/repo_run.ts";
import { openRepositoryStore } from "../../src/store/open.ts";
import { makeTempRepo, type TempDir } from "../helpers/mod.ts";
import { fanRepoFiles, readTraces } from "../run/repo_fixture.ts";

const ARGS_ACTIONS = `
import { appendFileSync } from "node:fs";
function note(job) {
  appendFileSync(job.repo.path + "/args.log",
    job.service.name + " " + job.action + " " + JSON.stringify(job.args) + "\\n");
}
export function init(job) { note(job); }
export function install(job) { note(job); }
export function backup(job) { note(job); return { saved: job.args.target ?? null }; }
export function processChange(job) { note(job); }
`;

async function repoWith(
  files: Record<string, string>,
): Promise<{ dir: TempDir; env: Record<string, string> }> {
  const dir = await makeTempRepo({ name: "clirun", files });
  return { dir, env: { XDG_CONFIG_HOME: join(dir.path, ".cfg") } };
}

async function ays(
  repo: { dir: TempDir; env: Record<string, string> },
  args: string[],
  isTTY = false,
) {
  const io = captureIo({ env: repo.env, cwd: repo.dir.path, isTTY });
  const code = await runCli(args, io);
  return { code, out: io.out.join(""), err: io.err.join("") };
}

async function argsLog(repo: { dir: TempDir }): Promise<string[]> {
  try {
    return (await readFile(join(repo.dir.path, "args.log"), "utf8")).trim().split("\n");
  } catch {
    return [];
  }
}

const APP_FILES = {
  "actorTemplates/app/schema.hrd": "port = type:int default:80\n",
  "actorTemplates/app/actions.js": ARGS_ACTIONS,
  "blueprints/1_apps.yaml": "app__a1:\napp__a2:\n  port: 81\n",
};

describe("ays do, install, run, runs, simulate (in-process)", () => {
  it("do schedules, runs scoped to its filters, and passes --args as job.args", async () => {
    const repo = await repoWith(APP_FILES);
    try {
      assert.equal((await ays(repo, ["blueprint"])).code, 0);
      const only = await ays(repo, ["do", "backup", "-i", "a1", "--schedule-only"]);
      assert.equal(only.code, 0, only.err);
      assert.match(only.err, /scheduled backup on 1 of 1 services that have it/);
      assert.deepEqual(await argsLog(repo), [], "--schedule-only runs nothing");
      const plan = JSON.parse((await ays(repo, ["simulate", "--json"])).out);
      assert.deepEqual(plan.steps, [[{
        service: "app!a1",
        action: "backup",
        reason: "scheduled",
        waitsFor: [],
      }]]);

      const run = await ays(repo, ["do", "backup", "--args", "target=s3", "keep=3", "--json"]);
      assert.equal(run.code, 0, run.err);
      const record = JSON.parse(run.out);
      assert.deepEqual(record.scope, { action: "backup" });
      assert.deepEqual(
        record.jobs.map((j: { service: string; result: unknown }) => [j.service, j.result]),
        [["app!a1", { saved: "s3" }], ["app!a2", { saved: "s3" }]],
      );
      // The two jobs run in parallel: any order.
      assert.deepEqual((await argsLog(repo)).sort(), [
        'a1 backup {"target":"s3","keep":"3"}',
        'a2 backup {"target":"s3","keep":"3"}',
      ]);

      // --args FILE (YAML), install = do install, prerequisites get no args.
      await writeFile(join(repo.dir.path, "args.yaml"), "mode: fast\n");
      const install = await ays(repo, ["install", "-i", "a2", "--args", "args.yaml"]);
      assert.equal(install.code, 0, install.err);
      assert.deepEqual((await argsLog(repo)).slice(2), [
        "a2 init {}",
        'a2 install {"mode":"fast"}',
      ]);
      const again = await ays(repo, ["install", "-i", "a2"]);
      assert.match(again.err, /1 already ok: --force runs them again/);
      assert.match(again.err, /nothing to do/);

      assert.equal((await ays(repo, ["do", "backup", "-r", "nope"])).code, 2);
      assert.equal((await ays(repo, ["do", "nosuchaction"])).code, 2);
      assert.equal((await ays(repo, ["do", "backup", "--args", "bad"])).code, 2);
      assert.equal((await ays(repo, ["run", "--parallel", "0"])).code, 2);
    } finally {
      await repo.dir.remove();
    }
  });

  it("processChange gets the blueprint's changes as job.args.changes", async () => {
    const repo = await repoWith(APP_FILES);
    try {
      assert.equal((await ays(repo, ["blueprint"])).code, 0);
      assert.equal((await ays(repo, ["install"])).code, 0);
      await writeFile(
        join(repo.dir.path, "blueprints/1_apps.yaml"),
        "app__a1:\napp__a2:\n  port: 8080\n",
      );
      assert.equal((await ays(repo, ["blueprint"])).code, 0);
      const run = await ays(repo, ["run"]);
      assert.equal(run.code, 0, run.err);
      const lines = await argsLog(repo);
      assert.deepEqual(JSON.parse(lines.at(-1)!.replace(/^a2 processChange /, "")), {
        changes: { port: { old: 81, new: 8080 } },
      });
    } finally {
      await repo.dir.remove();
    }
  });

  it("runs, run show and runs prune; unknown ids exit 2", async () => {
    const repo = await repoWith(fanRepoFiles({ mids: 1, leaves: 1, sleepMs: 1 }));
    try {
      assert.equal((await ays(repo, ["blueprint"])).code, 0);
      for (let i = 0; i < 3; i++) {
        const r = await ays(repo, ["install", "--force"]);
        assert.equal(r.code, 0, r.err);
      }
      const runs = JSON.parse((await ays(repo, ["runs", "--json"])).out);
      assert.equal(runs.length, 3);
      assert.ok(runs[0].createdAt >= runs[1].createdAt);
      assert.deepEqual(Object.keys(runs[0]).sort(), [
        "createdAt",
        "duration",
        "endedAt",
        "holder",
        "id",
        "jobs",
        "repo",
        "scope",
        "startedAt",
        "state",
      ]);
      const text = await ays(repo, ["runs"]);
      assert.match(text.out, new RegExp(`^${runs[0].id}  ok`));
      const show = await ays(repo, ["run", "show", runs[2].id]);
      assert.equal(show.code, 0, show.err);
      assert.match(show.out, /ok +base!main install/);
      assert.match(show.out, /\| \[info\] working on main/);

      const pruned = await ays(repo, ["runs", "prune", "--keep", "1", "--json"]);
      assert.equal(pruned.code, 0, pruned.err);
      assert.deepEqual(JSON.parse(pruned.out).deleted.sort(), [runs[1].id, runs[2].id].sort());
      assert.equal(JSON.parse((await ays(repo, ["runs", "--json"])).out).length, 1);
      const gone = await ays(repo, ["run", "show", runs[2].id]);
      assert.equal(gone.code, 2);
      assert.match(gone.err, /no run/);
    } finally {
      await repo.dir.remove();
    }
  });

  it("run exits 3 naming the holder while the lock is held, and waits with --wait", async () => {
    const repo = await repoWith(fanRepoFiles({ mids: 1, leaves: 1, sleepMs: 1 }));
    try {
      assert.equal((await ays(repo, ["blueprint"])).code, 0);
      assert.equal((await ays(repo, ["install", "--schedule-only"])).code, 0);
      const opened = await openRepositoryStore({
        repoPath: repo.dir.path,
        repoName: "clirun",
        env: {},
      });
      const lock = await holdRunLock(opened.driver, "20261125-101010-abcdef");
      try {
        const locked = await ays(repo, ["run"]);
        assert.equal(locked.code, 3);
        assert.match(locked.err, /locked by pid \d+ on .*\(20261125-101010-abcdef\)/);
        const waiting = ays(repo, ["run", "--wait"]);
        await new Promise((r) => setTimeout(r, 300));
        await lock.release();
        const waited = await waiting;
        assert.equal(waited.code, 0, waited.err);
        assert.match(waited.err, /ok: 8 ok/);
      } finally {
        await lock.release();
        await opened.driver.close();
      }
    } finally {
      await repo.dir.remove();
    }
  });

  it("shows one live line on a terminal naming the running jobs, in colour", async () => {
    const repo = await repoWith(fanRepoFiles({ mids: 1, leaves: 1, sleepMs: 1 }));
    try {
      assert.equal((await ays(repo, ["blueprint"])).code, 0);
      const r = await ays(repo, ["install"], true);
      assert.equal(r.code, 0, r.err);
      // deno-lint-ignore no-control-regex
      assert.match(r.err, /\r\x1b\[K\d\/8 done · \d running · 0 failed · \d+\.\d+ s/);
      assert.match(r.err, /Still running… base!main init \[\d+s\]/);
      assert.doesNotMatch(r.err, /start base!main init/, "no per-event lines on a terminal");
      // deno-lint-ignore no-control-regex
      assert.match(r.err, /\x1b\[32mok\x1b\[0m: 8 ok/);
      const plain = await ays({ ...repo, env: { ...repo.env, NO_COLOR: "1" } }, [
        "install",
        "--force",
      ], true);
      assert.equal(plain.code, 0, plain.err);
      assert.match(plain.err, /ok: 4 ok/);
      // deno-lint-ignore no-control-regex
      assert.doesNotMatch(plain.err, /\x1b\[3\dm/);
    } finally {
      await repo.dir.remove();
    }
  });

  it("takes parallel from .ays/config.yaml: with 1, no two jobs overlap", async () => {
    const repo = await repoWith(fanRepoFiles({ mids: 3, leaves: 1, sleepMs: 20 }));
    try {
      await writeFile(join(repo.dir.path, ".ays/config.yaml"), "name: clirun\nparallel: 1\n");
      assert.equal((await ays(repo, ["blueprint"])).code, 0);
      const r = await ays(repo, ["install"]);
      assert.equal(r.code, 0, r.err);
      const spans = [...(await readTraces(repo.dir.path)).values()].map((lines) => [
        lines.find((l) => l.what === "start")!.at,
        lines.find((l) => l.what === "end")!.at,
      ]).sort((a, b) => a[0] - b[0]);
      assert.equal(spans.length, 16);
      for (let i = 1; i < spans.length; i++) {
        assert.ok(spans[i][0] >= spans[i - 1][1], "a job started before the previous one ended");
      }
    } finally {
      await repo.dir.remove();
    }
  });
});
