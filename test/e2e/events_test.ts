/**
 * The event stream end to end through `dist/ays` (docs/events.md): the terminal view in a
 * pseudo-terminal, `ays run --events` held to the documented shapes, `ays watch` of runs of
 * another process and of the daemon ending with their exit codes, and `GET /events` resumed
 * with `Last-Event-ID` losing nothing.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { after, describe, it } from "node:test";
import {
  aysBinary,
  freePort,
  makeTempRepo,
  openSse,
  runAys,
  type SseMessage,
  type TempDir,
  until,
} from "../helpers/mod.ts";
import { fanRepoFiles } from "../run/repo_fixture.ts";
import { parseEventLines, type SchemaEvent } from "../events/event_schema.ts";

const env = (extra: Record<string, string> = {}) => {
  const base = { ...process.env as Record<string, string>, ...extra };
  delete base.AYS_STORE;
  delete base.NO_COLOR;
  return { ...base, ...extra };
};

/** A pseudo-terminal around a command, as a user's terminal is (`script` of util-linux). */
function inTerminal(command: string[], cwd: string, extra: Record<string, string> = {}) {
  const quoted = command.map((part) => `'${part.replaceAll("'", `'\\''`)}'`).join(" ");
  return new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn("script", ["-qfec", quoted, "/dev/null"], {
      cwd,
      env: env({ COLUMNS: "160", TERM: "xterm", ...extra }),
      stdio: ["pipe", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += String(chunk)));
    child.stderr.on("data", (chunk) => (output += String(chunk)));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, output }));
    child.stdin.end();
  });
}

describe("events through dist/ays", () => {
  const dirs: TempDir[] = [];
  const children: ChildProcess[] = [];
  after(async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    for (const dir of dirs) await dir.remove();
  });

  const fanRepo = async (name: string, sleepMs: number) => {
    const dir = await makeTempRepo({
      name,
      files: fanRepoFiles({ mids: 2, leaves: 1, sleepMs, breakMid: "m1" }),
    });
    dirs.push(dir);
    const applied = await runAys(["blueprint"], { cwd: dir.path, env: env() });
    assert.equal(applied.code, 0, applied.stderr);
    return dir;
  };

  it("on a terminal names the running jobs and every failure, in colour", async () => {
    const dir = await fanRepo("evterm", 1200);
    const r = await inTerminal([aysBinary, "install"], dir.path);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /Still running… base!main init \[\d+s\]/);
    // deno-lint-ignore no-control-regex
    assert.match(r.output, /\x1b\[31merror\x1b\[0m mid!m1 install: broken m1/);
    // deno-lint-ignore no-control-regex
    assert.match(r.output, /failed \(1\):(\x1b\[0m)?\r?\n {2}mid!m1 install: broken m1/);
    // deno-lint-ignore no-control-regex
    assert.match(r.output, /skipped \(2\):(\x1b\[0m)?\r?\n {2}(leaf!m1l0|sink!all) install: dep/);
    assert.match(r.output, /see ays run show \S+ for the jobs' logs/);
    const plain = await inTerminal([aysBinary, "install", "--force"], dir.path, { NO_COLOR: "1" });
    assert.equal(plain.code, 1, plain.output);
    assert.match(plain.output, /error mid!m1 install: broken m1/);
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(plain.output, /\x1b\[3\dm/);
  });

  it("ays run --events prints documented events, one per line, the run's end last", async () => {
    const dir = await fanRepo("evlines", 1);
    await runAys(["do", "install", "--schedule-only"], { cwd: dir.path, env: env() });
    const r = await runAys(["run", "--events"], { cwd: dir.path, env: env() });
    assert.equal(r.code, 1, r.stderr);
    const events = parseEventLines(r.stdout);
    assert.equal(events[0].type, "run.started");
    const end = events.at(-1)!;
    assert.equal(end.type, "run.ended");
    assert.deepEqual(end.type === "run.ended" && end.counts, { ok: 9, error: 1, skipped: 2 });
    const types = new Set(events.map((e) => e.type));
    for (const type of ["job.started", "job.log", "job.ended", "service.state"]) {
      assert.ok(types.has(type as SchemaEvent["type"]), type);
    }
  });

  it("ays watch follows a run of another process and exits with its exit code", async () => {
    const dir = await fanRepo("evwatch", 700);
    const running = runAys(["install"], { cwd: dir.path, env: env() });
    const runId = await until(async () => {
      const runs = await runAys(["runs", "--json"], { cwd: dir.path, env: env() });
      const list = runs.code === 0 ? JSON.parse(runs.stdout) : [];
      return list.find((run: { state: string }) => run.state === "running")?.id as string;
    }, { what: "the run to start", timeoutMs: 60_000, intervalMs: 100 });
    const watched = await runAys(["watch", runId], { cwd: dir.path, env: env() });
    const ran = await running;
    assert.equal(ran.code, 1, ran.stderr);
    assert.equal(watched.code, 1, watched.stderr);
    assert.match(watched.stderr, /error mid!m1 install: broken m1/);
    assert.match(watched.stderr, new RegExp(`run ${runId} error: 9 ok, 1 error, 2 skipped`));
  });

  it("GET /events resumes with Last-Event-ID losing nothing; ays watch follows a queued run", async () => {
    const dir = await fanRepo("evsse", 150);
    const port = await freePort();
    const daemon = spawn(aysBinary, ["daemon", "--listen", `127.0.0.1:${port}`], {
      cwd: dir.path,
      env: env(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(daemon);
    const url = `http://127.0.0.1:${port}`;
    await until(async () => (await fetch(`${url}/health`).catch(() => null))?.ok, {
      what: "the daemon",
      timeoutMs: 60_000,
    });
    const first = await openSse(`${url}/events?repo=evsse&since=0`);
    // Queued through the API, as the dashboard's button does: schedule install, then run.
    const post = await fetch(`${url}/repos/evsse/runs`, {
      method: "POST",
      body: JSON.stringify({ action: "install" }),
    });
    assert.equal(post.status, 202);
    const { id } = await post.json();
    const watching = runAys(["watch", id], { cwd: dir.path, env: env() });
    // Read a few events, drop the connection in the middle of the run, come back.
    const before = await first.take((m) => m.length === 8);
    first.close();
    const again = await openSse(`${url}/events?repo=evsse`, {
      "last-event-id": before.at(-1)!.id!,
    });
    const rest = await again.take((m) =>
      m.some((x) => {
        const e = JSON.parse(x.data);
        return e.type === "run.ended" && e.runId === id;
      })
    );
    again.close();
    const all: SseMessage[] = [...before, ...rest];
    const ids = all.map((m) => Number(m.id));
    assert.deepEqual(ids, ids.map((_, i) => ids[0] + i), "consecutive ids: none lost, none twice");
    const events = all.map((m) => JSON.parse(m.data));
    assert.equal(events[0].type, "daemon.started");
    const ofRun = events.filter((e) => e.runId === id);
    assert.equal(ofRun[0].type, "run.started");
    assert.equal(ofRun.filter((e) => e.type === "job.ended").length, 12);
    const watched = await watching;
    assert.equal(watched.code, 1, watched.stderr);
    assert.match(watched.stderr, new RegExp(`run ${id} error: 9 ok, 1 error, 2 skipped`));
    // Jobs over the API, as ays jobs --json.
    const jobs = await (await fetch(`${url}/repos/evsse/jobs?state=error`)).json();
    assert.deepEqual(jobs.map((j: { service: string }) => j.service), ["mid!m1"]);
    daemon.kill("SIGTERM");
    await new Promise((resolve) => daemon.once("exit", resolve));
  });
});
