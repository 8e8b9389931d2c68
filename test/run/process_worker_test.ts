import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { LOG_CAP } from "../../src/run/job_protocol.ts";
import { WorkerPool } from "../../src/run/pool.ts";
import { MIN_MEMORY_LIMIT } from "../../src/hrd/mod.ts";
import {
  formatMemoryLimit,
  ProcessWorker,
  residentMemory,
  TERMINATE_GRACE_MS,
} from "../../src/run/process_worker.ts";
import { ManualTimers, until } from "../helpers/mod.ts";
import {
  ACTIONS_TS,
  liveGroupMembers,
  request,
  serviceData,
  waitFor,
  writeActions,
} from "./fixtures.ts";

const MiB = 1024 * 1024;

/** The fixture actions plus ones that use memory; the hog stops by itself at 3 GiB. */
const SOURCE = `${ACTIONS_TS}
export function hog(job) {
  const kept = [];
  for (let i = 0; i < 400; i++) kept.push(new Array(1e6).fill(i));
  return kept.length;
}

export function small() {
  const kept = [];
  for (let i = 0; i < 5; i++) kept.push(new Array(1e6).fill(i));
  return kept.length;
}

export function exits() {
  process.exit(3);
}

export function pid() {
  return process.pid;
}

export async function waitSignalLogged(job) {
  job.log("waiting");
  // An abort that came before this line (the action still loading) fires no event.
  await new Promise((resolve) => job.signal.aborted ? resolve() : job.signal.addEventListener("abort", resolve));
  return "saw abort";
}

export async function sleeperLogged(job) {
  const sleeping = job.exec("echo $$ > " + JSON.stringify(job.args.pidFile) + "; echo sleeping; sleep 600");
  await sleeping;
}
`;

describe("isolation: process (a job in a child ays with a memory limit)", () => {
  let dir: Awaited<ReturnType<typeof writeActions>>;
  let pool: WorkerPool;

  before(async () => {
    dir = await writeActions(SOURCE);
    pool = new WorkerPool({ size: 4 });
  });
  after(async () => {
    await pool.close();
    await dir.remove();
  });

  it("runs the job in another process, with its log, result and data", async () => {
    const service = serviceData("web1", { port: 80 });
    const changed = await pool.run(request(dir.actions, "changeData", dir.path, { service }), {
      isolation: "process",
    });
    assert.equal(changed.ok, true, String(changed.error?.message));
    assert.deepEqual(changed.data, { port: 81, added: "yes" });
    const logs: string[] = [];
    const logged = await pool.run(request(dir.actions, "logs", dir.path), {
      isolation: "process",
      onLog: (text) => logs.push(text),
    });
    assert.equal(logged.log, "[info] hello log\n[warn] careful\n");
    assert.equal(logs.join(""), logged.log);
    const where = await pool.run(request(dir.actions, "pid", dir.path), { isolation: "process" });
    assert.equal(where.ok, true, String(where.error?.message));
    assert.notEqual(where.result, process.pid);
    assert.equal(typeof where.result, "number");
  });

  it("fails a job past its memory limit 'out of memory', and the others finish", async () => {
    const memory = 256 * MiB;
    const jobs = [
      pool.run(request(dir.actions, "hog", dir.path), { isolation: "process", memory }),
      pool.run(request(dir.actions, "small", dir.path), { isolation: "process", memory }),
      pool.run(request(dir.actions, "sleepMs", dir.path, { args: { ms: 200 } })),
      pool.run(request(dir.actions, "init", dir.path), { isolation: "process" }),
    ];
    const [hog, small, pooled, init] = await Promise.all(jobs);
    assert.equal(hog.ok, false);
    assert.equal(hog.error?.message, "out of memory (limit 256 MiB)");
    assert.equal(small.ok, true, String(small.error?.message));
    assert.equal(small.result, 5);
    assert.equal(pooled.ok, true, String(pooled.error?.message));
    assert.equal(init.ok, true, String(init.error?.message));
  });

  it("fails the job of an action that calls process.exit, at once", async () => {
    const outcome = await pool.run(request(dir.actions, "exits", dir.path), {
      isolation: "process",
      timeoutMs: 600_000,
    });
    assert.equal(outcome.ok, false);
    assert.equal(outcome.error?.message, "the action ended its worker (process.exit)");
  });

  it("reports a thrown error with its stack, and an uncaught one as a worker error", async () => {
    const thrown = await pool.run(request(dir.actions, "throws", dir.path), {
      isolation: "process",
    });
    assert.equal(thrown.error?.message, "boom from throws");
    assert.match(thrown.error?.stack ?? "", /actions\.ts/);
    const late = await pool.run(request(dir.actions, "throwLater", dir.path), {
      isolation: "process",
      timeoutMs: 600_000,
    });
    assert.equal(late.ok, false);
    assert.match(late.error?.message ?? "", /^worker error: .*thrown from a timer/);
  });

  it("fails the job past its timeout", async () => {
    const outcome = await pool.run(request(dir.actions, "hang", dir.path), {
      isolation: "process",
      timeoutMs: 1500,
    });
    assert.equal(outcome.timedOut, true);
    assert.equal(outcome.error?.message, "timed out after 1.5 s");
  });

  it("kills the child and its exec process group when the job is killed", async () => {
    const pidFile = `${dir.path}/sleeper.pid`;
    const kill = new AbortController();
    const outcome = await pool.run(
      request(dir.actions, "sleeperLogged", dir.path, { args: { pidFile } }),
      {
        isolation: "process",
        kill: kill.signal,
        // The command is running once it printed: then kill the job.
        onLog: (text) => text.includes("sleeping") && kill.abort(),
      },
    );
    assert.equal(outcome.cancelled, true);
    const { readFile } = await import("node:fs/promises");
    const pgid = Number((await readFile(pidFile, "utf8")).trim());
    assert.ok(pgid > 0);
    assert.ok(await waitFor(() => liveGroupMembers(pgid).length === 0, 10_000));
  });

  it("fires job.signal on cancel, and caps the log at 1 MiB keeping its tail", async () => {
    const cancel = new AbortController();
    const pending = pool.run(request(dir.actions, "waitSignalLogged", dir.path), {
      isolation: "process",
      signal: cancel.signal,
      // Cancelled once the action waits for the signal.
      onLog: () => cancel.abort(new Error("cancelled by test")),
    });
    const outcome = await pending;
    assert.equal(outcome.ok, true, String(outcome.error?.message));
    assert.equal(outcome.result, "saw abort");
    const big = await pool.run(request(dir.actions, "bigLog", dir.path), { isolation: "process" });
    assert.equal(big.ok, true, String(big.error?.message));
    assert.ok(new TextEncoder().encode(big.log).length <= LOG_CAP);
    assert.match(big.log, /the last line\n$/);
  });

  it("masks the job's secrets in what leaves the process", async () => {
    const outcome = await pool.run(
      request(dir.actions, "logs", dir.path, { secrets: ["careful"] }),
      { isolation: "process" },
    );
    assert.equal(outcome.log, "[info] hello log\n[warn] ***\n");
  });

  it("stops the job when it is killed", async () => {
    const kill = new AbortController();
    const running = pool.run(request(dir.actions, "hang", dir.path), {
      isolation: "process",
      kill: kill.signal,
    });
    kill.abort();
    const outcome = await running;
    assert.equal(outcome.cancelled, true);
  });
});

describe("ProcessWorker", () => {
  it("refuses a limit below 128 MiB", () => {
    assert.throws(() => new ProcessWorker({ memory: MIN_MEMORY_LIMIT - 1 }), /at least 128 MiB/);
    assert.throws(() => new ProcessWorker({ memory: MIN_MEMORY_LIMIT + 0.5 }), /at least 128 MiB/);
  });

  it("ends with the reason when its child cannot start", async () => {
    const worker = new ProcessWorker({
      command: { command: "/nonexistent/ays-no-such-binary", args: [] },
    });
    const reason = await new Promise<string>((resolve) =>
      worker.addEventListener("close", (e) => resolve((e as unknown as { reason: string }).reason))
    );
    assert.match(reason, /could not start the job process|exit code/);
  });

  it("fails a child that is not a job worker with its exit", async () => {
    const worker = new ProcessWorker({ command: { command: "sh", args: ["-c", "exit 9"] } });
    const reason = await new Promise<string>((resolve) =>
      worker.addEventListener("close", (e) => resolve((e as unknown as { reason: string }).reason))
    );
    assert.equal(reason, "the job's worker process ended (exit code 9)");
  });

  it("ends the child with SIGTERM, then SIGKILL after the grace if it is still there", async () => {
    const timers = new ManualTimers();
    // A child that ignores SIGTERM (the ignore survives the exec), and says when it does.
    const worker = new ProcessWorker({
      command: { command: "sh", args: ["-c", "trap '' TERM; echo ready; exec sleep 30"] },
      timers: timers.timers,
    });
    await new Promise<void>((resolve) => {
      worker.onmessage = (e) => e.data === "ready" && resolve();
    });
    const pid = worker.pid!;
    worker.terminate();
    assert.deepEqual(timers.armed().map((t) => t.ms), [TERMINATE_GRACE_MS]);
    assert.ok(alive(pid), "it ignored TERM");
    assert.equal(timers.fire(), 1);
    assert.ok(await waitFor(() => !alive(pid), 10_000), "SIGKILL ended it");
  });

  it("arms no SIGKILL past a child that ended on SIGTERM", async () => {
    const timers = new ManualTimers();
    const worker = new ProcessWorker({
      command: { command: "sh", args: ["-c", "echo ready; exec sleep 30"] },
      timers: timers.timers,
    });
    await new Promise<void>((resolve) => {
      worker.onmessage = (e) => e.data === "ready" && resolve();
    });
    worker.terminate();
    assert.equal(timers.armed().length, 1);
    await until(() => timers.armed().length === 0, { what: "the SIGKILL cleared at the end" });
  });

  it("passes a line that is not JSON on as it is (the pool refuses it)", async () => {
    const worker = new ProcessWorker({ command: { command: "sh", args: ["-c", "echo nope"] } });
    const data = await new Promise<unknown>((resolve) => {
      worker.onmessage = (e) => resolve(e.data);
    });
    assert.equal(data, "nope");
    worker.terminate();
  });
});

/** Whether process `pid` runs (is not gone, nor a zombie), from `/proc`. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) Z/s.test(stat);
  } catch {
    return false;
  }
}

describe("memory helpers", () => {
  it("reads a process's resident memory", () => {
    const rss = residentMemory(process.pid);
    assert.ok(rss !== null && rss > 1 * MiB, `rss ${rss}`);
    assert.equal(residentMemory(2 ** 22 + 12345), null);
  });

  it("formats limits", () => {
    assert.equal(formatMemoryLimit(1024 * MiB), "1 GiB");
    assert.equal(formatMemoryLimit(512 * MiB), "512 MiB");
    assert.equal(formatMemoryLimit(1536 * MiB), "1536 MiB");
    assert.equal(formatMemoryLimit(2048 * MiB), "2 GiB");
  });
});
