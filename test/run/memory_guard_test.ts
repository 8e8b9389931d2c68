import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MemoryGuard } from "../../src/run/memory_guard.ts";
import { MOVED_TO_PROCESS_LINE, WorkerPool } from "../../src/run/pool.ts";
import { ACTIONS_TS, request, writeActions } from "./fixtures.ts";

const MiB = 1024 * 1024;

/** The fixture actions plus a hog that stops by itself at about 1.2 GiB. */
const SOURCE = `${ACTIONS_TS}
export function hog() {
  const kept = [];
  for (let i = 0; i < 160; i++) kept.push(new Array(1e6).fill(i));
  return kept.length;
}
export function pid() {
  return process.pid;
}
`;

describe("MemoryGuard", () => {
  it("calls onExceeded once each time the memory passes the limit", () => {
    let rss = 100;
    const seen: number[] = [];
    const guard = new MemoryGuard({ limit: 200, read: () => rss, onExceeded: (r) => seen.push(r) });
    guard.check();
    rss = 250;
    guard.check();
    rss = 300;
    guard.check();
    rss = 150;
    guard.check();
    rss = 201;
    guard.check();
    assert.deepEqual(seen, [250, 201]);
    assert.equal(guard.limit, 200);
  });

  it("refuses a limit that is not a positive number", () => {
    for (const limit of [0, -1, Number.NaN, Infinity]) {
      assert.throws(() => new MemoryGuard({ limit, onExceeded: () => {} }), RangeError);
    }
  });
});

describe("the pool's memory guard", () => {
  let dir: Awaited<ReturnType<typeof writeActions>>;

  before(async () => {
    dir = await writeActions(SOURCE);
  });
  after(async () => {
    await dir.remove();
  });

  it("runs the jobs of its threads again in processes when ays' memory passes the limit", async () => {
    let rss = 100 * MiB;
    const pool = new WorkerPool({ size: 3, guardMemory: 50 * MiB, readMemory: () => rss });
    const { mkdir } = await import("node:fs/promises");
    const meeting = `${dir.path}/meeting`;
    await mkdir(meeting);
    try {
      const logs: string[] = [];
      let moved!: () => void;
      const wasMoved = new Promise<void>((resolve) => (moved = resolve));
      // Waits until a second job arrives: it is still running when the memory passes the limit.
      const first = pool.run(
        request(dir.actions, "meet", dir.path, { args: { dir: meeting, i: 1, n: 2 } }),
        {
          onLog: (text) => {
            logs.push(text);
            moved();
          },
        },
      );
      const pid = await pool.run(request(dir.actions, "pid", dir.path));
      assert.equal(pid.result, process.pid, "below the limit, jobs run in threads");
      rss = 200 * MiB;
      await wasMoved;
      rss = 100 * MiB;
      const second = await pool.run(
        request(dir.actions, "meet", dir.path, { args: { dir: meeting, i: 2, n: 2 } }),
      );
      assert.equal(second.ok, true, String(second.error?.message));
      const outcome = await first;
      assert.equal(outcome.ok, true, String(outcome.error?.message));
      assert.deepEqual(logs, [MOVED_TO_PROCESS_LINE(200 * MiB)]);
    } finally {
      await pool.close();
    }
  });

  it("a real hog in a thread fails 'out of memory' in its process; the other job finishes", async () => {
    const pool = new WorkerPool({ size: 2, guardMemory: 400 * MiB });
    try {
      const logs: string[] = [];
      const [hog, sleeper] = await Promise.all([
        pool.run(request(dir.actions, "hog", dir.path), { memory: 256 * MiB }),
        pool.run(request(dir.actions, "sleepMs", dir.path, { args: { ms: 3000 } }), {
          onLog: (text) => logs.push(text),
        }),
      ]);
      assert.equal(hog.ok, false);
      assert.equal(hog.error?.message, "out of memory (limit 256 MiB)");
      assert.equal(sleeper.ok, true, String(sleeper.error?.message));
    } finally {
      await pool.close();
    }
  });
});
