import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, it } from "node:test";
import {
  beginSpawn,
  closeExecSlots,
  endSpawn,
  EXEC_SLOTS,
  execEntries,
  freeSlot,
  isClosed,
  isExecSlots,
  killExecSlots,
  newExecSlots,
} from "../../src/run/exec_slots.ts";
import { makeTempDir, type TempDir, until } from "../helpers/mod.ts";
import { liveGroupMembers } from "./fixtures.ts";

describe("exec slots", () => {
  it("are recognised by their shape over shared memory", () => {
    assert.equal(isExecSlots(newExecSlots()), true);
    assert.equal(isExecSlots(new Int32Array(2 + 2 * EXEC_SLOTS)), false);
    assert.equal(isExecSlots(new Int32Array(new SharedArrayBuffer(8))), false);
    assert.equal(isExecSlots({}), false);
  });

  it("hold a command from its spawn to its end, with its job", () => {
    const slots = newExecSlots();
    assert.equal(beginSpawn(slots), true);
    const a = endSpawn(slots, { job: 7, pid: 1001 });
    assert.equal(beginSpawn(slots), true);
    const b = endSpawn(slots, { job: 8, pid: 1002 });
    assert.deepEqual(execEntries(slots), [{ job: 7, pid: 1001 }, { job: 8, pid: 1002 }]);
    freeSlot(slots, a);
    assert.deepEqual(execEntries(slots), [{ job: 8, pid: 1002 }]);
    // A freed slot is taken again first.
    assert.equal(beginSpawn(slots), true);
    assert.equal(endSpawn(slots, { job: 9, pid: 1003 }), a);
    freeSlot(slots, b);
    freeSlot(slots, -1);
    assert.deepEqual(execEntries(slots), [{ job: 9, pid: 1003 }]);
  });

  it("store nothing for a spawn that failed, or when every slot is taken", () => {
    const slots = newExecSlots();
    assert.equal(beginSpawn(slots), true);
    assert.equal(endSpawn(slots, { job: 1 }), -1);
    for (let i = 0; i < EXEC_SLOTS; i++) {
      beginSpawn(slots);
      assert.equal(endSpawn(slots, { job: 1, pid: 10_000 + i }), i);
    }
    assert.equal(beginSpawn(slots), true);
    assert.equal(endSpawn(slots, { job: 1, pid: 99_999 }), -1);
    assert.equal(execEntries(slots).length, EXEC_SLOTS);
    // No spawn is left in progress: the close does not wait.
    assert.equal(closeExecSlots(slots, { waitMs: 0 }).settled, true);
  });

  it("keep a job id past 2^31 modulo 2^31, and refuse a bad one", () => {
    const slots = newExecSlots();
    beginSpawn(slots);
    endSpawn(slots, { job: 2 ** 31 + 5, pid: 42 });
    assert.deepEqual(execEntries(slots), [{ job: 5, pid: 42 }]);
    beginSpawn(slots);
    assert.throws(() => endSpawn(slots, { job: -1, pid: 43 }), RangeError);
    // The refused spawn still ended: nothing in progress.
    assert.equal(closeExecSlots(slots, { waitMs: 0 }).settled, true);
    assert.throws(() => freeSlot(slots, EXEC_SLOTS), RangeError);
    assert.throws(() => closeExecSlots(slots, { waitMs: -1 }), RangeError);
  });

  it("once closed, let no spawn begin", () => {
    const slots = newExecSlots();
    assert.equal(isClosed(slots), false);
    assert.deepEqual(closeExecSlots(slots), { entries: [], settled: true });
    assert.equal(isClosed(slots), true);
    assert.equal(beginSpawn(slots), false);
    assert.equal(closeExecSlots(slots, { waitMs: 0 }).settled, true);
  });

  it("say when a spawn was still in progress after the wait", () => {
    const slots = newExecSlots();
    assert.equal(beginSpawn(slots), true);
    assert.equal(closeExecSlots(slots, { waitMs: 0 }).settled, false);
    // The spawn that had begun stores its command; the host's next look finds it.
    endSpawn(slots, { job: 3, pid: 77 });
    assert.deepEqual(closeExecSlots(slots, { waitMs: 0 }), {
      entries: [{ job: 3, pid: 77 }],
      settled: true,
    });
  });

  it("kill the process groups of their commands, one already gone being fine", async () => {
    const slots = newExecSlots();
    const child = spawn("sh", ["-c", "sleep 30 & exec sleep 30"], {
      detached: true,
      stdio: "ignore",
    });
    const pid = child.pid!;
    try {
      beginSpawn(slots);
      endSpawn(slots, { job: 1, pid });
      // A pid that is no process (above the kernel's pid limit).
      beginSpawn(slots);
      endSpawn(slots, { job: 2, pid: 2 ** 22 + 12345 });
      await until(() => liveGroupMembers(pid).length === 2, { what: "both sleeps" });
      assert.deepEqual(killExecSlots(slots), [pid, 2 ** 22 + 12345]);
      await until(() => liveGroupMembers(pid).length === 0, { what: "the group's end" });
    } finally {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // Gone.
      }
    }
  });
});

describe("exec slots shared with another thread", () => {
  let dir: TempDir;
  let source: string;

  before(async () => {
    dir = await makeTempDir("ays-slots-");
    source = join(dir.path, "spawner.ts");
    const slotsUrl = pathToFileURL(join(import.meta.dirname!, "../../src/run/exec_slots.ts")).href;
    // Begins a spawn, says so in `ready`, and ends it (pid 4242) only once it sees the slots
    // closed: the host is then inside the close, which must wait for this spawn to return it.
    await writeFile(
      source,
      `import { beginSpawn, endSpawn, isClosed } from ${JSON.stringify(slotsUrl)};
self.onmessage = (event) => {
  const { slots, ready } = event.data;
  const began = beginSpawn(slots);
  Atomics.store(ready, 0, began ? 1 : 2);
  Atomics.notify(ready, 0);
  if (!began) return;
  // Bounded: 60,000 waits of 1 ms at most.
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 60000 && !isClosed(slots); i++) Atomics.wait(nap, 0, 0, 1);
  endSpawn(slots, { job: 5, pid: 4242 });
};
`,
    );
  });
  after(async () => {
    await dir.remove();
  });

  it("have the host's close wait for the other thread's spawn in progress", async () => {
    const worker = new Worker(pathToFileURL(source).href, { type: "module" });
    try {
      const slots = newExecSlots();
      const ready = new Int32Array(new SharedArrayBuffer(4));
      worker.postMessage({ slots, ready });
      await until(() => Atomics.load(ready, 0) !== 0, { what: "the spawn", timeoutMs: 60_000 });
      assert.equal(Atomics.load(ready, 0), 1);
      // The thread ends its spawn only after this close has begun: without the close's wait
      // for spawns in progress, the command would be missing.
      const closed = closeExecSlots(slots, { waitMs: 60_000 });
      assert.deepEqual(closed, { entries: [{ job: 5, pid: 4242 }], settled: true });
    } finally {
      worker.terminate();
    }
  });
});
