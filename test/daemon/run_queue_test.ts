import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ExecuteOptions, QueueItem } from "../../src/daemon/backend.ts";
import { startRunQueue } from "../../src/daemon/run_queue.ts";
import { InputError } from "../../src/errors.ts";
import { delay, MemoryQueue } from "./fake_backend.ts";

/** Waits until `check()` holds, polling; fails after `ms`. */
async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not reached");
    await delay(10);
  }
}

interface Span {
  repo: string;
  id: string;
  start: number;
  end: number;
}

describe("run queue loop", () => {
  it("runs items one at a time per repository, repositories side by side, acks each", async () => {
    const queues = [new MemoryQueue("alpha"), new MemoryQueue("beta")];
    const ids = queues.flatMap((queue) => [1, 2, 3].map(() => queue.push({})));
    const spans: Span[] = [];
    const execute = async (item: QueueItem) => {
      const start = Date.now();
      await delay(100);
      spans.push({ repo: item.request.repo, id: item.id, start, end: Date.now() });
    };
    const loops = queues.map((queue) =>
      startRunQueue(queue, { consumerId: "d1", execute, repo: queue.repo, popTimeoutMs: 50 })
    );
    await until(() => spans.length === 6);
    await Promise.all(loops.map((loop) => loop.stop()));
    assert.deepEqual(spans.map((s) => s.id).sort(), ids.sort());
    for (const repo of ["alpha", "beta"]) {
      const mine = spans.filter((s) => s.repo === repo).sort((a, b) => a.start - b.start);
      for (let i = 1; i < mine.length; i++) {
        assert.ok(mine[i].start >= mine[i - 1].end, `${repo}: run ${i} started after ${i - 1}`);
      }
    }
    const alpha = spans.filter((s) => s.repo === "alpha");
    const beta = spans.filter((s) => s.repo === "beta");
    assert.ok(
      alpha.some((a) => beta.some((b) => a.start < b.end && b.start < a.end)),
      "two repositories run at the same time",
    );
    assert.equal(queues[0].pending + queues[1].pending, 0);
    assert.equal(queues[0].acked.length + queues[1].acked.length, 6);
  });

  it("acks only after execute resolved: an item of a killed consumer is delivered again", async () => {
    const queue = new MemoryQueue("alpha", 200);
    const id = queue.push({ action: "install" });
    // A daemon that popped the item and died before finishing: no ack, the lease runs out.
    const lost = await queue.pop("dead-daemon", { timeoutMs: 0 });
    assert.equal(lost?.id, id);
    const executed: string[] = [];
    const loop = startRunQueue(queue, {
      consumerId: "new-daemon",
      execute: (item) => {
        executed.push(item.id);
        return Promise.resolve();
      },
      popTimeoutMs: 50,
    });
    await until(() => queue.pending === 0);
    await loop.stop();
    assert.deepEqual(executed, [id]);
    assert.deepEqual(queue.pops.map((p) => p.consumer), ["dead-daemon", "new-daemon"]);
  });

  it("a failing execute is not acked and runs again; an InputError is acked and dropped", async () => {
    const queue = new MemoryQueue("alpha");
    const flaky = queue.push({ role: "flaky" });
    const bad = queue.push({ role: "bad" });
    const attempts: string[] = [];
    const loop = startRunQueue(queue, {
      consumerId: "d1",
      execute: (item) => {
        attempts.push(item.request.role!);
        if (item.request.role === "bad") return Promise.reject(new InputError("no role 'bad'"));
        if (attempts.filter((a) => a === "flaky").length === 1) {
          return Promise.reject(new Error("store unavailable"));
        }
        return Promise.resolve();
      },
      popTimeoutMs: 50,
      retryDelayMs: 20,
    });
    await until(() => queue.pending === 0);
    await loop.stop();
    assert.equal(attempts.filter((a) => a === "flaky").length, 2);
    assert.equal(attempts.filter((a) => a === "bad").length, 1);
    assert.deepEqual(queue.acked.sort(), [bad, flaky].sort());
  });

  it("renews the lease of a long run so it is not delivered twice", async () => {
    // The lease runs out on the test's own clock, moved on by less than the lease after each
    // renewal: the run outlasts its 150 ms lease twice over, and d2 (polling all along) would
    // get the item were it not renewed. On real time, a renewal 100 ms late on a loaded machine
    // let the lease run out and d2 run it too.
    let clock = 0;
    const queue = new MemoryQueue("alpha", 150, () => clock);
    queue.push({});
    let running = 0;
    let most = 0;
    const execute = async () => {
      running += 1;
      most = Math.max(most, running);
      for (let step = 0; step < 3; step++) {
        const renewals = queue.renewals;
        await until(() => queue.renewals > renewals);
        clock += 100;
      }
      running -= 1;
    };
    const loops = ["d1", "d2"].map((consumerId) =>
      startRunQueue(queue, { consumerId, execute, popTimeoutMs: 50, leaseRenewMs: 50 })
    );
    await until(() => queue.pending === 0);
    await Promise.all(loops.map((loop) => loop.stop()));
    assert.equal(clock, 300, "the run outlasted its lease");
    assert.equal(most, 1);
    assert.equal(queue.pops.length, 1);
  });

  it("stop() aborts the running run's signal, waits for it, and takes nothing more", async () => {
    const queue = new MemoryQueue("alpha");
    const first = queue.push({});
    const second = queue.push({});
    let sawAbort = false;
    const loop = startRunQueue(queue, {
      consumerId: "d1",
      execute: async (_item: QueueItem, options: ExecuteOptions) => {
        await new Promise<void>((resolve) =>
          options.signal.addEventListener("abort", () => resolve())
        );
        sawAbort = true;
        await delay(100);
      },
      popTimeoutMs: 50,
    });
    await until(() => loop.current() !== null);
    assert.equal(loop.current()!.item.id, first);
    await loop.stop();
    assert.ok(sawAbort);
    assert.deepEqual(queue.acked, [first], "the run that ended is acked");
    assert.equal(queue.pending, 1);
    const left = await queue.pop("next-daemon", { timeoutMs: 0 });
    assert.equal(left?.id, second, "the other one waits for the next daemon");
  });
});

describe("run queue loop over a queue that answers at once", () => {
  it("polls instead of spinning, and still runs what is pushed", async () => {
    const inner = new MemoryQueue("alpha");
    let pops = 0;
    const queue = {
      pop: (consumerId: string) => {
        pops += 1;
        return inner.pop(consumerId, { timeoutMs: 0 });
      },
    };
    const ran: string[] = [];
    const loop = startRunQueue(queue, {
      consumerId: "d1",
      execute: (item) => {
        ran.push(item.id);
        return Promise.resolve();
      },
      pollMs: 100,
    });
    await delay(500);
    const idlePops = pops;
    const id = inner.push({});
    await until(() => ran.length === 1);
    await loop.stop();
    assert.deepEqual(ran, [id]);
    // About five polls in 500 ms; a spinning loop would have made thousands.
    assert.ok(idlePops <= 20, `${idlePops} pops while idle`);
  });
});
