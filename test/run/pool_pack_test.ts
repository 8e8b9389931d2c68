/**
 * Short jobs share a worker (docs/runs.md): once an action's jobs are known to run in well under
 * a millisecond, jobs of it given at once wait on a worker already awake instead of waking one
 * each — and whatever ends that worker's running job, the ones waiting behind it still run once
 * (elsewhere), or not at all when they were killed first.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { PACK_DEPTH, WorkerPool } from "../../src/run/pool.ts";
import { request, writeActions } from "./fixtures.ts";

// `who` names the worker (one id per imported module, so per worker); `hold` waits for a file
// to appear (or forever); `mark` adds a line to a file; `exit` calls process.exit. All are the same action `act`, told apart by
// their arguments, so they share what the pool learned of `act`.
const ACTIONS = `
import { appendFileSync, existsSync } from "node:fs";
const worker = Math.random().toString(36).slice(2);
export async function act(job) {
  if (job.args.log) job.log("started");
  if (job.args.exit) process.exit(1);
  if (job.args.mark) appendFileSync(job.args.mark, "ran\\n");
  if (job.args.hold) {
    while (!existsSync(job.args.hold)) await new Promise((r) => setTimeout(r, 5));
  }
  if (job.args.forever) await new Promise(() => {});
  return { worker };
}
`;

// Deno's workers grow the resident memory by more than the default guard when 12 start: the
// guard (which moves jobs to processes, tested in memory_guard_test.ts) is not what is tested here.
const NO_GUARD = 2 ** 40;

describe("WorkerPool: short jobs share a worker", () => {
  let dir: Awaited<ReturnType<typeof writeActions>>;

  before(async () => {
    dir = await writeActions(ACTIONS);
  });
  after(() => dir.remove());

  const job = (args: Record<string, unknown> = {}) =>
    request(dir.actions, "act", dir.path, { args });
  const workerOf = (outcome: { result: unknown }) => (outcome.result as { worker: string }).worker;

  /** Runs `n` jobs at once until `act` is known to be short (its first jobs load the module). */
  async function learn(pool: WorkerPool, n: number): Promise<Set<string>> {
    const seen = new Set<string>();
    for (let round = 0; round < 20; round++) {
      const outcomes = await Promise.all(Array.from({ length: n }, () => pool.run(job())));
      for (const o of outcomes) {
        assert.equal(o.ok, true, String(o.error?.message));
        seen.add(workerOf(o));
      }
    }
    return seen;
  }

  it("runs jobs given at once on one awake worker, at most PACK_DEPTH each", async () => {
    const pool = new WorkerPool({ size: 12, guardMemory: NO_GUARD });
    try {
      await pool.warm();
      // Unknown at first: the first 12 go to 12 workers.
      const first = await Promise.all(Array.from({ length: 12 }, () => pool.run(job())));
      assert.equal(new Set(first.map(workerOf)).size, 12);
      await learn(pool, 12);
      const outcomes = await Promise.all(Array.from({ length: 12 }, () => pool.run(job())));
      const byWorker = new Map<string, number>();
      for (const o of outcomes) byWorker.set(workerOf(o), (byWorker.get(workerOf(o)) ?? 0) + 1);
      assert.ok(byWorker.size < 12, `12 short jobs on ${byWorker.size} workers`);
      assert.ok(
        Math.max(...byWorker.values()) <= PACK_DEPTH,
        `at most ${PACK_DEPTH} per worker: ${[...byWorker.values()]}`,
      );
      assert.equal(pool.workers, 12, "no worker was added or lost");
    } finally {
      await pool.close();
    }
  });

  it("runs the jobs waiting behind a job that timed out on another worker", async () => {
    const pool = new WorkerPool({ size: 4, guardMemory: NO_GUARD });
    try {
      await learn(pool, 4);
      const stuck = pool.run(job({ forever: true }), { timeoutMs: 300 });
      const behind = [pool.run(job()), pool.run(job())];
      assert.equal(pool.waiting, 2, "both wait behind the stuck job");
      const timedOut = await stuck;
      assert.equal(timedOut.timedOut, true);
      for (const o of await Promise.all(behind)) {
        assert.equal(o.ok, true, String(o.error?.message));
      }
    } finally {
      await pool.close();
    }
  });

  it("never runs a waiting job killed before its turn, and leaves the one before it alone", async () => {
    const pool = new WorkerPool({ size: 2, guardMemory: NO_GUARD });
    try {
      await learn(pool, 2);
      const release = join(dir.path, "release");
      const marker = join(dir.path, "killed-ran");
      let started!: () => void;
      const holdingStarted = new Promise<void>((resolve) => started = resolve);
      const holding = pool.run(job({ hold: release, log: true }), { onLog: () => started() });
      const kill = new AbortController();
      const killed = pool.run(job({ mark: marker }), { kill: kill.signal });
      assert.equal(pool.waiting, 1, "it waits behind the holding job");
      // Killed while the job before it runs: the worker gets to it only after that one.
      await holdingStarted;
      kill.abort(new Error("killed"));
      const { writeFile } = await import("node:fs/promises");
      await writeFile(release, "");
      assert.equal((await holding).ok, true);
      const outcome = await killed;
      assert.equal(outcome.cancelled, true);
      assert.equal(pool.waiting, 0);
      // The pool goes on: a job after it runs.
      assert.equal((await pool.run(job())).ok, true);
      assert.equal(existsSync(marker), false, "the killed job never ran");
    } finally {
      await pool.close();
    }
  });
  it("runs each job waiting behind one that calls process.exit once, on another worker", async () => {
    const pool = new WorkerPool({ size: 4, guardMemory: NO_GUARD });
    try {
      await learn(pool, 4);
      // The job ahead ends from the host's side (its worker is gone) while the others wait:
      // none of them may have started in that worker, or it would run again elsewhere.
      for (let round = 0; round < 8; round++) {
        const marks = [0, 1, 2].map((i) => join(dir.path, `exit-${round}-${i}`));
        const exiting = pool.run(job({ exit: true }));
        const behind = marks.map((mark) => pool.run(job({ mark })));
        assert.equal(pool.waiting, 3, "all three wait behind the exiting job");
        assert.equal((await exiting).ok, false);
        for (const o of await Promise.all(behind)) {
          assert.equal(o.ok, true, String(o.error?.message));
        }
        const { readFileSync } = await import("node:fs");
        assert.deepEqual(marks.map((m) => readFileSync(m, "utf8")), ["ran\n", "ran\n", "ran\n"]);
        await learn(pool, 4);
      }
    } finally {
      await pool.close();
    }
  });
});
