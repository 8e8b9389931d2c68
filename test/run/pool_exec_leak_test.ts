/**
 * A job timed out or killed before the pool handled its worker's "exec started" message must not
 * leave the command running (docs/runs.md, "Timeouts and process groups"). The race is made
 * certain, not hoped for: the action logs a line just before it calls `job.exec`, and the test's
 * `onLog` holds the pool's thread on that line until the command wrote its pid — so the worker's
 * report of the command is still unread — and ends the job right there.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  type HostMessage,
  type JobOutcome,
  type JobRunOptions,
  parseWorkerMessage,
  type WorkerMessage,
} from "../../src/run/job_protocol.ts";
import { WorkerPool } from "../../src/run/pool.ts";
import { closeExecSlots, execEntries, newExecSlots } from "../../src/run/exec_slots.ts";
import { workerSpecifier } from "../../src/runtime.ts";
import { ManualTimers, until } from "../helpers/mod.ts";
import { ACTIONS_TS, liveGroupMembers, request, waitFor, writeActions } from "./fixtures.ts";

/** The fixture actions plus one that logs, then starts a command that runs 30 s. */
const SOURCE = `${ACTIONS_TS}
export async function execAfterLine(job) {
  job.log("starting the command");
  await job.exec("echo $$ > " + JSON.stringify(job.args.pidFile) + "; exec sleep 30");
}

export async function strayExec(job) {
  job.exec("echo $$ > " + JSON.stringify(job.args.pidFile) + "; exec sleep 30").catch(() => {});
  await logWhenRunning(job, "stray running");
  return null;
}
`;

/** The pid in `file`, or 0 while the shell has not written it. */
function pidIn(file: string): number {
  try {
    return Number(readFileSync(file, "utf8").trim()) || 0;
  } catch {
    return 0;
  }
}

/**
 * Holds this thread (the pool's) until the shell wrote its pid, at most 60 s (a safety net on a
 * loaded machine, not a measure): meanwhile no message of the worker is handled.
 */
function holdUntilPid(file: string): number {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 12_000; i++) {
    const pid = pidIn(file);
    if (pid > 0) return pid;
    Atomics.wait(cell, 0, 0, 5);
  }
  throw new Error(`the command did not write ${file}`);
}

describe("WorkerPool: a job ended before the pool heard of its command", () => {
  let dir: Awaited<ReturnType<typeof writeActions>>;
  let n = 0;

  before(async () => {
    dir = await writeActions(SOURCE);
  });
  after(async () => {
    await dir.remove();
  });

  /**
   * Runs `execAfterLine` with `options`; `end` ends the job from within `onLog` at the line
   * before the exec, once the command runs. Resolves with the outcome and the command's pid.
   */
  async function endAsTheCommandStarts(
    pool: WorkerPool,
    options: JobRunOptions,
    end: () => void,
  ): Promise<{ outcome: JobOutcome; pid: number }> {
    const pidFile = join(dir.path, `command-${++n}.pid`);
    let pid = 0;
    const outcome = await pool.run(
      request(dir.actions, "execAfterLine", dir.path, { args: { pidFile } }),
      {
        ...options,
        onLog: (text) => {
          if (!text.includes("starting the command") || pid !== 0) return;
          pid = holdUntilPid(pidFile);
          end();
        },
      },
    );
    return { outcome, pid };
  }

  /** Waits (bounded) until the command's group is gone; kills it if it is not, then fails. */
  async function assertGone(pid: number): Promise<void> {
    assert.ok(pid > 0, "the command wrote its pid");
    // Under the 5 s a test gets by default when its file runs alone, so that a failure reports
    // the command left running (and kills it below) instead of timing out.
    const gone = await waitFor(() => liveGroupMembers(pid).length === 0, 4_000);
    const left = liveGroupMembers(pid);
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // Gone, as it should be.
    }
    assert.ok(gone, `the command was left running: ${left.join("; ")}`);
  }

  it("kills the command of a job timed out as it starts (worker thread)", async () => {
    const timeouts = new ManualTimers();
    const pool = new WorkerPool({ size: 1, timeoutTimers: timeouts.timers });
    try {
      const { outcome, pid } = await endAsTheCommandStarts(
        pool,
        { timeoutMs: 60_000 },
        () => assert.equal(timeouts.fire(), 1),
      );
      assert.equal(outcome.timedOut, true);
      assert.equal(outcome.error?.message, "timed out after 1 min");
      await assertGone(pid);
    } finally {
      await pool.close();
    }
  });

  it("kills the command of a job killed as it starts (worker thread)", async () => {
    const pool = new WorkerPool({ size: 1 });
    try {
      const kill = new AbortController();
      const { outcome, pid } = await endAsTheCommandStarts(
        pool,
        { kill: kill.signal },
        () => kill.abort(),
      );
      assert.equal(outcome.cancelled, true);
      await assertGone(pid);
      // The pool goes on with a new worker.
      const next = await pool.run(request(dir.actions, "init", dir.path));
      assert.equal(next.ok, true, String(next.error?.message));
    } finally {
      await pool.close();
    }
  });

  it("kills the command of a job timed out as it starts (isolation: process)", async () => {
    const timeouts = new ManualTimers();
    const pool = new WorkerPool({ size: 1, timeoutTimers: timeouts.timers });
    try {
      const { outcome, pid } = await endAsTheCommandStarts(
        pool,
        { timeoutMs: 60_000, isolation: "process" },
        () => assert.equal(timeouts.fire(), 1),
      );
      assert.equal(outcome.timedOut, true);
      await assertGone(pid);
    } finally {
      await pool.close();
    }
  });

  it("kills the command of a job killed as it starts (isolation: process)", async () => {
    const pool = new WorkerPool({ size: 1 });
    try {
      const kill = new AbortController();
      const { outcome, pid } = await endAsTheCommandStarts(
        pool,
        { kill: kill.signal, isolation: "process" },
        () => kill.abort(),
      );
      assert.equal(outcome.cancelled, true);
      await assertGone(pid);
    } finally {
      await pool.close();
    }
  });
});

describe("WorkerPool: the commands of a worker it ends", () => {
  it("are killed, even one a finished job left running", async () => {
    const dir = await writeActions(SOURCE);
    const pool = new WorkerPool({ size: 1 });
    const pidFile = join(dir.path, "stray.pid");
    try {
      const outcome = await pool.run(
        request(dir.actions, "strayExec", dir.path, { args: { pidFile } }),
      );
      assert.equal(outcome.ok, true, String(outcome.error?.message));
      const pid = pidIn(pidFile);
      assert.ok(liveGroupMembers(pid).length > 0, "the stray command runs after its job");
      await pool.close();
      assert.ok(
        await waitFor(() => liveGroupMembers(pid).length === 0, 10_000),
        `still running: ${liveGroupMembers(pid).join("; ")}`,
      );
    } finally {
      await pool.close();
      const pid = pidIn(pidFile);
      if (pid > 0) {
        try {
          process.kill(-pid, "SIGKILL");
        } catch {
          // Gone.
        }
      }
      await dir.remove();
    }
  });
});

describe("the job worker and its exec slots", () => {
  let dir: Awaited<ReturnType<typeof writeActions>>;
  let worker: Worker;
  const messages: WorkerMessage[] = [];

  before(async () => {
    dir = await writeActions(SOURCE);
  });
  after(async () => {
    await dir.remove();
  });

  /** A job worker given `slots`, its messages collected in `messages`. */
  function startWorker(slots: Int32Array): void {
    messages.length = 0;
    worker = new Worker(workerSpecifier("job_worker"), { type: "module" });
    worker.onmessage = (event: MessageEvent<unknown>) => {
      messages.push(parseWorkerMessage(event.data));
    };
    worker.postMessage({ type: "init", id: 0, slots } satisfies HostMessage);
  }

  /** The end (`result` or `error`) of job `id`, once the worker sent it. */
  function endOf(id: number): Promise<WorkerMessage> {
    return until(
      () => messages.find((m) => m.id === id && (m.type === "result" || m.type === "error")),
      { what: `the end of job ${id}`, timeoutMs: 60_000 },
    );
  }

  it("holds a running command with its job, and frees its slot when it ends", async () => {
    const slots = newExecSlots();
    startWorker(slots);
    const pidFile = join(dir.path, "held.pid");
    try {
      const run = request(dir.actions, "execAfterLine", dir.path, { args: { pidFile } });
      worker.postMessage({ type: "run", id: 7, request: run } satisfies HostMessage);
      await until(() => pidIn(pidFile) > 0, { what: "the command", timeoutMs: 60_000 });
      const pid = pidIn(pidFile);
      // The shell may write its pid before the worker's spawn() returned and stored it.
      const entries = await until(() => execEntries(slots).length > 0 && execEntries(slots), {
        what: "the command in a slot",
        timeoutMs: 60_000,
      });
      assert.deepEqual(entries, [{ job: 7, pid }]);
      process.kill(-pid, "SIGKILL");
      const end = await endOf(7);
      assert.equal(end.type, "error");
      assert.deepEqual(execEntries(slots), []);
    } finally {
      worker.terminate();
    }
  });

  it("starts no command once its slots are closed", async () => {
    const slots = newExecSlots();
    closeExecSlots(slots);
    startWorker(slots);
    try {
      const run = request(dir.actions, "envCheck", dir.path);
      worker.postMessage({ type: "run", id: 1, request: run } satisfies HostMessage);
      const end = await endOf(1);
      assert.equal(end.type, "error");
      assert.match(
        (end as { error: { message: string } }).error.message,
        /^command not started, its worker is being ended: pwd/,
      );
      assert.equal(messages.some((m) => m.type === "exec"), false);
      assert.deepEqual(execEntries(slots), []);
    } finally {
      worker.terminate();
    }
  });

  it("keeps no detached command: it is meant to outlive the job", async () => {
    const slots = newExecSlots();
    startWorker(slots);
    try {
      const run = request(dir.actions, "detached", dir.path);
      worker.postMessage({ type: "run", id: 2, request: run } satisfies HostMessage);
      const end = await endOf(2);
      assert.equal(end.type, "result", JSON.stringify(end));
      const pid = (end as { result: number }).result;
      try {
        assert.deepEqual(execEntries(slots), []);
        assert.equal(liveGroupMembers(pid).length, 1);
      } finally {
        process.kill(-pid, "SIGKILL");
      }
    } finally {
      worker.terminate();
    }
  });
});
