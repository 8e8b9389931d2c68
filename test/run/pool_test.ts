import assert from "node:assert/strict";
import { mkdtemp, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { LOG_CAP } from "../../src/run/job_protocol.ts";
import { hashActionsFile } from "../../src/run/job_request.ts";
import { WorkerPool } from "../../src/run/pool.ts";
import { runWithRetries } from "../../src/run/retry.ts";
import { runtimeName } from "../../src/runtime.ts";
import { ManualTimers, until } from "../helpers/mod.ts";
import { liveGroupMembers, request, serviceData, waitFor, writeActions } from "./fixtures.ts";

describe("WorkerPool with real workers", () => {
  let dir: Awaited<ReturnType<typeof writeActions>>;
  let pool: WorkerPool;

  before(async () => {
    dir = await writeActions();
    pool = new WorkerPool({ size: 3 });
  });
  after(async () => {
    await pool.close();
    await dir.remove();
  });

  it("returns the action's result, using relative imports of the actions file", async () => {
    const outcome = await pool.run(request(dir.actions, "init", dir.path));
    assert.equal(outcome.ok, true, String(outcome.error?.message));
    assert.deepEqual(outcome.result, { greeting: "hello web1", action: "init", runId: "run-1" });
    assert.equal(outcome.error, null);
    assert.equal(outcome.attempt, 1);
  });

  it("reports a thrown error with its stack", async () => {
    const outcome = await pool.run(request(dir.actions, "throws", dir.path));
    assert.equal(outcome.ok, false);
    assert.equal(outcome.error?.message, "boom from throws");
    assert.match(outcome.error?.stack ?? "", /throws/);
    assert.match(outcome.error?.stack ?? "", /actions\.ts/);
  });

  it("returns the data as the action changed it", async () => {
    const outcome = await pool.run(
      request(dir.actions, "changeData", dir.path, { service: serviceData("web1", { port: 80 }) }),
    );
    assert.equal(outcome.ok, true, String(outcome.error?.message));
    assert.deepEqual(outcome.data, { port: 81, added: "yes" });
  });

  it("gives the job its service, read-only views of related services, repo, args, attempt", async () => {
    const service = {
      ...serviceData("web1", { a: 1 }),
      parent: { name: "host1", actor: "os.ubuntu", role: "os", data: { ip: "10.0.0.1" } },
      producers: { sshkey: [{ name: "main", actor: "sshkey", role: "sshkey", data: { k: "v" } }] },
      consumers: [{ name: "app1", actor: "app", role: "app", data: {} }],
    };
    const outcome = await pool.run(
      request(dir.actions, "views", dir.path, { service, args: { x: 1 }, attempt: 2 }),
    );
    assert.equal(outcome.ok, true, String(outcome.error?.message));
    const r = outcome.result as Record<string, unknown>;
    assert.equal(r.name, "web1");
    assert.equal(r.actor, "node.ssh");
    assert.equal(r.role, "node");
    assert.equal(r.key, "k-web1");
    assert.deepEqual(r.parent, service.parent);
    assert.deepEqual(r.producers, service.producers);
    assert.deepEqual(r.consumers, service.consumers);
    assert.equal(r.parentWritable, false);
    assert.deepEqual(r.repo, { name: "testrepo", path: dir.path });
    assert.deepEqual(r.args, { x: 1 });
    assert.equal(r.attempt, 2);
  });

  it("collects job.log lines with their level", async () => {
    const outcome = await pool.run(request(dir.actions, "logs", dir.path));
    assert.equal(outcome.log, "[info] hello log\n[warn] careful\n");
  });

  it("caps the log at 1 MiB, keeping the tail", async () => {
    const outcome = await pool.run(request(dir.actions, "bigLog", dir.path));
    assert.equal(outcome.ok, true);
    assert.ok(new TextEncoder().encode(outcome.log).length <= LOG_CAP);
    assert.ok(outcome.log.length > LOG_CAP / 2);
    assert.match(outcome.log, /truncated/);
    assert.ok(outcome.log.endsWith("[info] the last line\n"));
  });

  it("runs exec in the repository root with the AYS_* environment, output in the log", async () => {
    const outcome = await pool.run(
      request(dir.actions, "envCheck", dir.path, { runId: "run-42" }),
    );
    assert.equal(outcome.ok, true, String(outcome.error?.message));
    const r = outcome.result as { code: number; stdout: string; stderr: string };
    assert.equal(r.code, 0);
    const [cwd, vars] = r.stdout.trim().split("\n");
    assert.equal(await realpath(cwd), await realpath(dir.path));
    assert.equal(vars, `${dir.path}|node!web1|envCheck|run-42|opt`);
    assert.equal(r.stderr, "to-stderr\n");
    assert.match(outcome.log, /node!web1\|envCheck/);
    assert.match(outcome.log, /to-stderr/);
  });

  it("feeds exec input, runs it in a subfolder, keeps quiet output out of the log", async () => {
    const outcome = await pool.run(request(dir.actions, "execOptions", dir.path));
    assert.equal(outcome.ok, true, String(outcome.error?.message));
    const r = outcome.result as { fed: string; sub: string };
    assert.equal(r.fed, "fed through stdin");
    assert.equal(await realpath(r.sub), await realpath(join(dir.path, "tmpl", "lib")));
    assert.equal(outcome.log, "fed through stdin");
  });

  it("makes exec throw on a non-zero exit", async () => {
    const outcome = await pool.run(request(dir.actions, "failExec", dir.path));
    assert.equal(outcome.ok, false);
    assert.match(outcome.error!.message, /exit code 3/);
    assert.match(outcome.error!.message, /failing-now/);
  });

  it("succeeds doing nothing for a default action the file does not define", async () => {
    const outcome = await pool.run(request(dir.actions, "uninstall", dir.path));
    assert.equal(outcome.ok, true);
    assert.equal(outcome.result, null);
    const none = await pool.run(request(null, "install", dir.path));
    assert.equal(none.ok, true);
  });

  it("fails a custom action the file does not define, or an export that is no function", async () => {
    const missing = await pool.run(request(dir.actions, "backup", dir.path));
    assert.equal(missing.ok, false);
    assert.match(missing.error!.message, /does not export action backup/);
    const notFn = await pool.run(request(dir.actions, "notAFunction", dir.path));
    assert.match(notFn.error!.message, /not a function/);
  });

  it("keeps module state between pooled jobs; isolation job gives a fresh module", async () => {
    const single = new WorkerPool({ size: 1 });
    try {
      const a = await single.run(request(dir.actions, "count", dir.path));
      const b = await single.run(request(dir.actions, "count", dir.path));
      assert.deepEqual([a.result, b.result], [1, 2]);
      const c = await single.run(request(dir.actions, "count", dir.path), { isolation: "job" });
      assert.equal(c.result, 1);
      const d = await single.run(request(dir.actions, "count", dir.path));
      assert.equal(d.result, 3);
    } finally {
      await single.close();
    }
  });

  it("fails an async hang with 'timed out after …' and replaces the worker", async () => {
    const outcome = await pool.run(request(dir.actions, "hang", dir.path), { timeoutMs: 300 });
    assert.equal(outcome.ok, false);
    assert.equal(outcome.timedOut, true);
    assert.equal(outcome.error!.message, "timed out after 300 ms");
    const next = await pool.run(request(dir.actions, "init", dir.path));
    assert.equal(next.ok, true);
  });

  it("kills the process group of a waited-for exec when the job times out", async () => {
    // The timeout fires once the exec runs (the job logged so): on real time, 1 s from the
    // job's start had to cover a shell's start, and under load the job timed out before the
    // shell wrote its pid.
    const timeouts = new ManualTimers();
    const timed = new WorkerPool({ size: 1, timeoutTimers: timeouts.timers });
    try {
      const pidFile = join(dir.path, "sleeper.pid");
      let log = "";
      const pending = timed.run(
        request(dir.actions, "sleeper", dir.path, { args: { pidFile } }),
        { timeoutMs: 1000, onLog: (text) => void (log += text) },
      );
      await until(() => log.includes("exec running"), { what: "the exec", timeoutMs: 60_000 });
      const pgid = Number((await readFile(pidFile, "utf8")).trim());
      assert.ok(liveGroupMembers(pgid).length > 0, "the exec group runs during the job");
      assert.deepEqual(timeouts.armed().map((t) => t.ms), [1000]);
      timeouts.fire();
      const outcome = await pending;
      assert.equal(outcome.timedOut, true);
      assert.equal(outcome.error?.message, "timed out after 1 s");
      assert.ok(
        await waitFor(() => liveGroupMembers(pgid).length === 0, 30_000),
        `still alive: ${liveGroupMembers(pgid).join("; ")}`,
      );
    } finally {
      await timed.close();
    }
  });

  it("leaves a detached exec running after the job", async () => {
    const outcome = await pool.run(request(dir.actions, "detached", dir.path), { timeoutMs: 5000 });
    assert.equal(outcome.ok, true, String(outcome.error?.message));
    const pid = outcome.result as number;
    try {
      assert.equal(liveGroupMembers(pid).length, 1);
    } finally {
      process.kill(-pid, "SIGKILL");
    }
  });

  it("fires job.signal on cancel; kill terminates at once", async () => {
    const cancel = new AbortController();
    const pending = pool.run(request(dir.actions, "waitSignal", dir.path), {
      signal: cancel.signal,
    });
    setTimeout(() => cancel.abort(new Error("cancelled by test")), 100);
    const outcome = await pending;
    assert.equal(outcome.ok, true);
    assert.equal(outcome.result, "saw abort");

    const kill = new AbortController();
    const hung = pool.run(request(dir.actions, "hang", dir.path), { kill: kill.signal });
    setTimeout(() => kill.abort(), 100);
    const killed = await hung;
    assert.equal(killed.ok, false);
    assert.equal(killed.cancelled, true);
  });

  it("on cancel, sends SIGTERM to the process group of a running exec", async () => {
    const pidFile = join(dir.path, "cancel.pid");
    const cancel = new AbortController();
    const pending = pool.run(
      request(dir.actions, "execUntilCancelled", dir.path, { args: { pidFile } }),
      { signal: cancel.signal },
    );
    assert.ok(await waitFor(async () => (await readFile(pidFile, "utf8").catch(() => "")) !== ""));
    cancel.abort(new Error("cancelled by test"));
    const outcome = await pending;
    assert.equal(outcome.ok, false);
    assert.equal(outcome.cancelled, true);
    assert.match(outcome.error!.message, /signal SIGTERM/);
    const pgid = Number((await readFile(pidFile, "utf8")).trim());
    assert.ok(await waitFor(() => liveGroupMembers(pgid).length === 0));
  });

  it("fails the job when its worker hits an uncaught error, and replaces the worker", async () => {
    const outcome = await pool.run(request(dir.actions, "throwLater", dir.path));
    assert.equal(outcome.ok, false);
    assert.match(outcome.error!.message, /thrown from a timer/);
    const next = await pool.run(request(dir.actions, "init", dir.path));
    assert.equal(next.ok, true);
  });

  it("runs several jobs at once, at most size", async () => {
    // A rendezvous of `size` jobs: it completes only when they all run at the same time.
    const meeting = await mkdtemp(join(dir.path, "meet-"));
    const met = await Promise.all(
      Array.from(
        { length: pool.size },
        (_, i) =>
          pool.run(
            request(dir.actions, "meet", dir.path, { args: { dir: meeting, i, n: pool.size } }),
          ),
      ),
    );
    assert.ok(met.every((o) => o.ok), met.map((o) => o.error?.message).join("; "));
    assert.deepEqual(met.map((o) => o.result), met.map(() => pool.size));
    // Twice as many jobs as workers: none ever sees more than `size` running.
    const counting = await mkdtemp(join(dir.path, "count-"));
    const counts = await Promise.all(
      Array.from(
        { length: 2 * pool.size },
        (_, i) =>
          pool.run(request(dir.actions, "countRunning", dir.path, { args: { dir: counting, i } })),
      ),
    );
    assert.ok(counts.every((o) => o.ok), counts.map((o) => o.error?.message).join("; "));
    const most = Math.max(...counts.map((o) => o.result as number));
    assert.ok(most >= 1 && most <= pool.size, `at most ${pool.size} at once, saw ${most}`);
    assert.ok(pool.workers <= pool.size);
  });

  it("gives jobs sent while it warms to its workers as each starts, never an extra worker", async () => {
    const warming = new WorkerPool({ size: 3 });
    try {
      const warmed = warming.warm();
      // Sent before any worker answered: they wait for the starting ones instead of each
      // spawning a worker of its own.
      const outcomes = await Promise.all(
        Array.from({ length: 9 }, () => warming.run(request(dir.actions, "init", dir.path))),
      );
      assert.ok(outcomes.every((o) => o.ok), outcomes.map((o) => o.error?.message).join("; "));
      assert.equal(warming.workers, 3);
      await warmed;
      assert.equal(warming.workers, 3);
    } finally {
      await warming.close();
    }
  });

  it("warms at most the workers asked for, and starts more on demand up to its size", async () => {
    const warming = new WorkerPool({ size: 3 });
    try {
      await warming.warm({ workers: 1 });
      assert.equal(warming.workers, 1);
      await warming.warm({ workers: 9 });
      assert.equal(warming.workers, 3, "capped by the size");
      assert.throws(() => new WorkerPool({ size: 1 }).warm({ workers: -1 }), RangeError);
    } finally {
      await warming.close();
    }
    const onDemand = new WorkerPool({ size: 2 });
    try {
      await onDemand.warm({ workers: 0 });
      assert.equal(onDemand.workers, 0);
      const outcomes = await Promise.all(
        Array.from({ length: 2 }, () => onDemand.run(request(dir.actions, "init", dir.path))),
      );
      assert.ok(outcomes.every((o) => o.ok), outcomes.map((o) => o.error?.message).join("; "));
      assert.ok(onDemand.workers >= 1 && onDemand.workers <= 2);
    } finally {
      await onDemand.close();
    }
  });

  it("arms a job's timeout only once the worker it waits for answered, when it had to start one", async () => {
    const timeouts = new ManualTimers();
    const cold = new WorkerPool({ size: 2, timeoutTimers: timeouts.timers });
    try {
      const outcomes = Promise.all(
        Array.from(
          { length: 2 },
          () => cold.run(request(dir.actions, "init", dir.path), { timeoutMs: 60_000 }),
        ),
      );
      // No worker yet: both jobs wait for the two starting, their timeouts not armed.
      assert.equal(timeouts.armed().length, 0);
      assert.equal(cold.workers, 2);
      const done = await outcomes;
      assert.ok(done.every((o) => o.ok), done.map((o) => o.error?.message).join("; "));
      assert.equal(cold.workers, 2, "no worker beside the two started for them");
    } finally {
      await cold.close();
    }
  });

  it("retries with the attempt number until the action succeeds", async () => {
    const delays: number[] = [];
    const outcome = await runWithRetries(
      (attempt) => pool.run(request(dir.actions, "flaky", dir.path, { attempt })),
      { retries: 3, retryDelayMs: 10, onRetry: (_o, d) => void delays.push(d) },
    );
    assert.equal(outcome.ok, true);
    assert.equal(outcome.result, 3);
    assert.deepEqual(delays, [10, 20]);
    const failed = await runWithRetries(
      (attempt) => pool.run(request(dir.actions, "flaky", dir.path, { attempt })),
      { retries: 1, retryDelayMs: 1 },
    );
    assert.equal(failed.ok, false);
    assert.equal(failed.attempt, 2);
    assert.equal(failed.error?.message, "attempt 2 failed");
  });

  it("hashes the actions file (SHA-256) and keeps its source", async () => {
    const file = await hashActionsFile(dir.actions);
    assert.match(file.hash, /^[0-9a-f]{64}$/);
    assert.equal(file.source, await readFile(dir.actions, "utf8"));
    const { createHash } = await import("node:crypto");
    assert.equal(file.hash, createHash("sha256").update(file.source).digest("hex"));
  });
});

// Deno cannot stop a worker stuck in a synchronous loop (SPEC §1): Bun only.
describe("WorkerPool and a runaway synchronous loop", { skip: runtimeName() !== "bun" }, () => {
  it("times the job out, finishes the others, kills its exec process group", async () => {
    const dir = await writeActions();
    // The timeout fires once the exec runs and the job spins (it logged so): on real time, 1 s
    // from the job's start had to cover a shell's start, and under load the job timed out
    // before the shell wrote its pid.
    const timeouts = new ManualTimers();
    const pool = new WorkerPool({ size: 3, timeoutTimers: timeouts.timers });
    try {
      const pidFile = join(dir.path, "runaway.pid");
      let log = "";
      const runaway = pool.run(
        request(dir.actions, "runaway", dir.path, { args: { pidFile } }),
        { timeoutMs: 1000, onLog: (text) => void (log += text) },
      );
      const others = Array.from(
        { length: 5 },
        (_, i) => pool.run(request(dir.actions, "sleepMs", dir.path, { args: { ms: 100 * i } })),
      );
      await until(() => log.includes("spinning"), { what: "the spin", timeoutMs: 60_000 });
      const pgid = Number((await readFile(pidFile, "utf8")).trim());
      assert.deepEqual(timeouts.armed().map((t) => t.ms), [1000]);
      timeouts.fire();
      const [outcome, ...rest] = await Promise.all([runaway, ...others]);
      assert.equal(outcome.ok, false);
      assert.equal(outcome.error?.message, "timed out after 1 s");
      assert.ok(rest.every((o) => o.ok));
      assert.ok(
        await waitFor(() => liveGroupMembers(pgid).length === 0, 30_000),
        `still alive: ${liveGroupMembers(pgid).join("; ")}`,
      );
      const next = await pool.run(request(dir.actions, "init", dir.path));
      assert.equal(next.ok, true);
    } finally {
      await pool.close();
      await dir.remove();
    }
  });
});

async function realpath(path: string): Promise<string> {
  const { realpath } = await import("node:fs/promises");
  return await realpath(path);
}
