/**
 * What runs inside a job worker and must not escape it: an action's console output and
 * process writes go to its job log (masked), `process.exit` fails its job at once, the log
 * is bounded in bytes and line length, and any thrown value reads as one line.
 */
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { LOG_CAP } from "../../src/run/job_protocol.ts";
import { LINE_CUT_MARK, MAX_LOG_LINE } from "../../src/run/log_limits.ts";
import { WorkerPool } from "../../src/run/pool.ts";
import { request, writeActions } from "./fixtures.ts";

const ACTIONS = `
export function printing() {
  console.log("via console.log", { pw: "hunter2-secret" });
  console.info("via console.info");
  console.warn("via console.warn");
  console.error("via console.error hunter2-secret");
  console.debug("via console.debug");
  process.stdout.write("raw stdout\\n");
  process.stderr.write("raw stderr\\n");
  return "printed";
}
export async function piping() {
  const { Readable } = await import("node:stream");
  await new Promise((resolve, reject) => {
    const source = Readable.from(["piped one\\n", "piped two hunter2-secret\\n"]);
    source.on("end", resolve).on("error", reject);
    source.pipe(process.stdout);
  });
  await new Promise((resolve) => process.stderr.write(Buffer.from("bytes with a callback\\n"), resolve));
  return { stdoutTTY: process.stdout.isTTY, stderrTTY: process.stderr.isTTY };
}
export function exits() {
  process.exit(3);
  return "after exit";
}
export function ok() {
  return "fine";
}
export function hugeLog(job) {
  job.log("L".repeat(20_000_000));
  for (let i = 0; i < 3000; i++) job.log("x".repeat(1000) + " line " + i);
  job.log("the last line");
}
export async function hugeExecLine(job) {
  await job.exec("head -c 8000000 /dev/zero | tr '\\\\0' E; echo; echo after-the-long-line");
}
export function nullProto() {
  throw Object.create(null);
}
export function badToString() {
  throw { toString() { throw new Error("no string for you"); } };
}
export function throwsString() {
  throw "plain words";
}
export async function innocent() {
  // On a worker the evil module ran on, its late timer fires now (not on a fresh worker).
  if (globalThis.fireLate) {
    globalThis.fireLate();
    await new Promise((resolve) => setTimeout(resolve, 60_000));
  }
  return "innocent ok";
}
export function ownLate() {
  setTimeout(() => { throw new Error("OWN-LATE"); }, 0);
  return new Promise((resolve) => setTimeout(resolve, 60_000));
}
`;

/** Another service's actions: its action returns, leaving a timer that throws later. */
const EVIL = `
export function install() {
  globalThis.fireLate = () => setTimeout(() => { throw new Error("LATE-e1"); }, 0);
  return "returned";
}
`;

describe("what an action does inside its worker", () => {
  let dir: Awaited<ReturnType<typeof writeActions>>;
  let pool: WorkerPool;

  before(async () => {
    dir = await writeActions(ACTIONS);
    pool = new WorkerPool({ size: 1 });
  });
  after(async () => {
    await pool.close();
    await dir.remove();
  });

  it("puts console and process output in the job log, masked, at its level", async () => {
    const live: string[] = [];
    const outcome = await pool.run(
      request(dir.actions, "printing", dir.path, { secrets: ["hunter2-secret"] }),
      { onLog: (text) => live.push(text) },
    );
    assert.equal(outcome.ok, true, String(outcome.error?.message));
    assert.equal(outcome.result, "printed");
    const log = outcome.log;
    assert.match(log, /^\[info\] via console\.log \{ pw: '\*\*\*' \}$/m);
    assert.match(log, /^\[info\] via console\.info$/m);
    assert.match(log, /^\[warn\] via console\.warn$/m);
    assert.match(log, /^\[error\] via console\.error \*\*\*$/m);
    assert.match(log, /^\[debug\] via console\.debug$/m);
    assert.match(log, /^raw stdout$/m);
    assert.match(log, /^raw stderr$/m);
    assert.doesNotMatch(log, /hunter2/);
    assert.equal(live.join(""), log);
  });

  it("puts streams piped into process.stdout in the job log; the streams are no terminal", async () => {
    const outcome = await pool.run(
      request(dir.actions, "piping", dir.path, { secrets: ["hunter2-secret"] }),
    );
    assert.equal(outcome.ok, true, String(outcome.error?.message));
    assert.deepEqual(outcome.result, { stdoutTTY: false, stderrTTY: false });
    assert.equal(outcome.log, "piped one\npiped two ***\nbytes with a callback\n");
  });

  it("fails a job whose action calls process.exit at once, and replaces the worker", async () => {
    // An hour, as by default: the job must not wait for it.
    const outcome = await pool.run(request(dir.actions, "exits", dir.path), {
      timeoutMs: 3_600_000,
    });
    assert.equal(outcome.ok, false);
    assert.equal(outcome.timedOut, undefined);
    assert.equal(outcome.error?.message, "the action ended its worker (process.exit)");
    const next = await pool.run(request(dir.actions, "ok", dir.path));
    assert.equal(next.ok, true, String(next.error?.message));
    assert.equal(next.result, "fine");
    assert.equal(pool.workers, 1);
  });

  it("does not blame a job for another module's late error: retried on a fresh worker", async () => {
    const evil = join(dir.path, "evil", "actions.ts");
    await mkdir(join(dir.path, "evil"), { recursive: true });
    await writeFile(evil, EVIL);
    const first = await pool.run(request(evil, "install", dir.path));
    assert.equal(first.ok, true, String(first.error?.message));
    const live: string[] = [];
    const outcome = await pool.run(request(dir.actions, "innocent", dir.path), {
      onLog: (text) => live.push(text),
    });
    assert.equal(outcome.ok, true, String(outcome.error?.message));
    assert.equal(outcome.result, "innocent ok");
    assert.match(live.join(""), /another job's actions: running it again on a new worker/);
    // A job's own late error on a worker that ran only its module is its own.
    const own = await pool.run(request(dir.actions, "ownLate", dir.path));
    assert.equal(own.ok, false);
    assert.match(own.error?.message ?? "", /OWN-LATE/);
  });

  it("caps the log in bytes and cuts long lines, live and in the outcome", async () => {
    let streamed = 0;
    const live: string[] = [];
    const outcome = await pool.run(request(dir.actions, "hugeLog", dir.path), {
      onLog: (text) => {
        streamed += new TextEncoder().encode(text).length;
        live.push(text);
      },
    });
    assert.equal(outcome.ok, true, String(outcome.error?.message));
    assert.ok(streamed <= LOG_CAP + 200, `${streamed} bytes passed on live`);
    assert.match(live.join(""), /\(log truncated/);
    const first = live.join("").split("\n")[0];
    assert.equal(first, `[info] ${"L".repeat(MAX_LOG_LINE - 7)}${LINE_CUT_MARK}`);
    assert.ok(new TextEncoder().encode(outcome.log).length <= LOG_CAP);
    assert.match(outcome.log, /log truncated/);
    assert.ok(outcome.log.endsWith("[info] the last line\n"));
    assert.equal(outcome.logTruncated, true);
  });

  it("cuts a command's output line that never ends", async () => {
    let streamed = 0;
    const live: string[] = [];
    const outcome = await pool.run(request(dir.actions, "hugeExecLine", dir.path), {
      onLog: (text) => {
        streamed += text.length;
        live.push(text);
      },
    });
    assert.equal(outcome.ok, true, String(outcome.error?.message));
    assert.ok(streamed <= MAX_LOG_LINE + 100, `${streamed} characters passed on live`);
    const lines = live.join("").split("\n");
    assert.equal(lines[0], "E".repeat(MAX_LOG_LINE) + LINE_CUT_MARK);
    assert.equal(lines[1], "after-the-long-line");
    assert.equal(outcome.logTruncated, undefined);
  });

  for (
    const [action, shown] of [
      ["nullProto", "[Object: null prototype] {}"],
      ["badToString", "{ toString: [Function: toString] }"],
      ["throwsString", '"plain words"'],
    ]
  ) {
    it(`reports a thrown non-Error value in one line (${action})`, async () => {
      const outcome = await pool.run(request(dir.actions, action, dir.path));
      assert.equal(outcome.ok, false);
      assert.equal(outcome.error?.message, `a non-Error value was thrown: ${shown}`);
      assert.equal(outcome.error?.stack, undefined);
    });
  }
});
