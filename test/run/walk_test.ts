import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setImmediate } from "node:timers";
import { remainingPaths } from "../../src/run/critical_path.ts";
import { Graph } from "../../src/run/graph.ts";
import { walk, type WalkEvent } from "../../src/run/walk.ts";

/** Nodes valued by how many milliseconds they take; edges [from, to]: from waits for to. */
function graphOf(nodes: Record<string, number>, edges: [string, string][]): Graph<number> {
  const g = new Graph<number>();
  for (const [id, ms] of Object.entries(nodes)) g.addNode(id, ms);
  for (const [a, b] of edges) g.addEdge(a, b);
  return g;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(t);
      reject(signal.reason);
    });
  });

interface Span {
  start: number;
  end: number;
}

describe("walk", () => {
  it("starts a node as soon as its own dependencies ended, not at step barriers", async () => {
    // Step 1: slow (300 ms) and fast (20 ms); step 2: afterFast waits only for fast.
    const g = graphOf({ slow: 300, fast: 20, afterFast: 20, afterSlow: 20 }, [
      ["afterFast", "fast"],
      ["afterSlow", "slow"],
    ]);
    const spans = new Map<string, Span>();
    const result = await walk(g, async (ms, { id }) => {
      const start = performance.now();
      await sleep(ms);
      spans.set(id, { start, end: performance.now() });
      return id;
    });
    assert.equal(result.state, "ok");
    const s = (id: string) => spans.get(id)!;
    assert.ok(s("afterFast").start >= s("fast").end, "a dependent starts after its dependency");
    assert.ok(s("afterSlow").start >= s("slow").end);
    // Eager: afterFast did not wait for slow, which is in the same step as fast.
    assert.ok(s("afterFast").start < s("slow").end, "afterFast started before slow ended");
    assert.equal(result.nodes.get("afterFast")?.result, "afterFast");
  });

  it("never runs more than the concurrency limit", async () => {
    const nodes: Record<string, number> = {};
    for (let i = 0; i < 12; i++) nodes[`n${i}`] = 10;
    let running = 0, peak = 0;
    const result = await walk(graphOf(nodes, []), async (ms) => {
      peak = Math.max(peak, ++running);
      await sleep(ms);
      running--;
    }, { concurrency: 3 });
    assert.equal(result.state, "ok");
    assert.equal(peak, 3);
  });

  it("starts the next node while an end is recorded, still within the limit", async () => {
    // Concurrency 1: b starts (its start recorded) while a's end is still being recorded,
    // but c, which depends on a, waits for that end.
    const g = graphOf({ a: 0, b: 0, c: 0 }, [["c", "a"]]);
    const log: string[] = [];
    let running = 0, peak = 0;
    const result = await walk(g, async (_ms, { id }) => {
      peak = Math.max(peak, ++running);
      log.push(`run ${id}`);
      await Promise.resolve();
      running--;
    }, {
      concurrency: 1,
      onEvent: async (e: WalkEvent<number, void>) => {
        log.push(`${e.type} ${e.id}`);
        if (e.type === "end" && e.id === "a") {
          // A write to a store: done after the other work of this moment (b's start).
          await new Promise((resolve) => setImmediate(resolve));
          log.push("end a recorded");
        }
      },
    });
    assert.equal(result.state, "ok");
    assert.equal(peak, 1);
    assert.deepEqual(log.slice(0, 4), ["start a", "run a", "end a", "start b"]);
    assert.ok(log.indexOf("start b") < log.indexOf("end a recorded"), "b did not wait for it");
    assert.ok(log.indexOf("start c") > log.indexOf("end a recorded"), "c waits for a's end");
  });

  it("with failFast, starts nothing after a failed run even while its end is recorded", async () => {
    const g = graphOf({ bad: 0, next: 0 }, []);
    const started: string[] = [];
    const result = await walk(g, (_ms, { id }) => {
      started.push(id);
      return id === "bad" ? Promise.reject(new Error("bad")) : Promise.resolve();
    }, { concurrency: 1, failFast: true });
    assert.deepEqual(started, ["bad"]);
    assert.equal(result.nodes.get("next")!.state, "skipped");
  });

  it("skips a failed node's dependents transitively while other branches go on", async () => {
    const g = graphOf({ a: 5, b: 5, c: 5, d: 5, x: 5, y: 30 }, [
      ["b", "a"],
      ["c", "b"],
      ["d", "c"],
      ["y", "x"],
    ]);
    const events: string[] = [];
    const result = await walk(g, async (ms, { id }) => {
      await sleep(ms);
      if (id === "b") throw new Error("b broke");
    }, {
      onEvent: (e) => void events.push(`${e.type} ${e.id}${"state" in e ? " " + e.state : ""}`),
    });
    assert.equal(result.state, "error");
    const state = (id: string) => result.nodes.get(id)!.state;
    assert.deepEqual(["a", "b", "c", "d", "x", "y"].map(state), [
      "ok",
      "error",
      "skipped",
      "skipped",
      "ok",
      "ok",
    ]);
    assert.equal((result.nodes.get("b")!.error as Error).message, "b broke");
    assert.equal(result.nodes.get("c")!.reason, "dependency b failed");
    assert.ok(events.includes("skip c skipped"));
    assert.ok(events.includes("end y ok"));
    assert.ok(!events.includes("start c"));
  });

  it("stops starting nodes after the first failure with failFast", async () => {
    const g = graphOf({ bad: 5, long: 100, later1: 5, later2: 5 }, [
      ["later1", "long"],
      ["later2", "long"],
    ]);
    const started: string[] = [];
    const result = await walk(g, async (ms, { id }) => {
      started.push(id);
      await sleep(ms);
      if (id === "bad") throw new Error("bad");
    }, { failFast: true });
    assert.equal(result.state, "error");
    assert.deepEqual(started.sort(), ["bad", "long"]);
    assert.equal(result.nodes.get("long")!.state, "ok", "a running node finishes");
    assert.equal(result.nodes.get("later1")!.state, "skipped");
    assert.match(result.nodes.get("later1")!.reason!, /fail-fast/);
  });

  it("awaits onEvent before starting dependents", async () => {
    const g = graphOf({ a: 1, b: 1 }, [["b", "a"]]);
    const log: string[] = [];
    await walk(g, (_ms, { id }) => Promise.resolve(void log.push(`run ${id}`)), {
      onEvent: async (e: WalkEvent<number, void>) => {
        await sleep(20);
        log.push(`${e.type} ${e.id} persisted`);
      },
    });
    assert.deepEqual(log, [
      "start a persisted",
      "run a",
      "end a persisted",
      "start b persisted",
      "run b",
      "end b persisted",
    ]);
  });

  it("on cancel starts nothing new, signals running nodes, kills them after the grace", async () => {
    const g = graphOf({ polite: 0, stubborn: 0, after: 0, zother: 0 }, [["after", "polite"]]);
    const cancel = new AbortController();
    const seen: string[] = [];
    const pending = walk(g, async (_ms, { id, signal, kill }) => {
      seen.push(`start ${id}`);
      if (id === "zother") return;
      if (id === "polite") {
        await new Promise((r) => signal.addEventListener("abort", r));
        seen.push("polite saw signal");
        throw new Error("stopped");
      }
      // stubborn ignores the signal and only stops when killed.
      await new Promise((r) => kill.addEventListener("abort", r));
      seen.push("stubborn killed");
      throw new Error("killed");
    }, { signal: cancel.signal, graceMs: 100, concurrency: 2 });
    await sleep(50);
    cancel.abort();
    const result = await pending;
    assert.equal(result.state, "cancelled");
    assert.equal(result.nodes.get("polite")!.state, "cancelled");
    assert.equal(result.nodes.get("stubborn")!.state, "cancelled");
    assert.equal(result.nodes.get("after")!.state, "cancelled");
    assert.equal(result.nodes.get("zother")!.state, "cancelled");
    assert.ok(!seen.includes("start after"));
    assert.ok(!seen.includes("start zother"), "no new starts after the cancel");
    assert.ok(seen.includes("polite saw signal"));
    assert.ok(seen.includes("stubborn killed"));
  });

  it("kills at once on the kill signal, and does nothing when cancelled before it starts", async () => {
    const g = graphOf({ a: 0 }, []);
    const cancel = new AbortController();
    const kill = new AbortController();
    const pending = walk(g, async (_ms, { kill: k }) => {
      await new Promise((r) => k.addEventListener("abort", r));
      throw new Error("killed");
    }, { signal: cancel.signal, killSignal: kill.signal, graceMs: 60_000 });
    await sleep(20);
    cancel.abort();
    kill.abort();
    assert.equal((await pending).state, "cancelled");

    const aborted = AbortSignal.abort();
    let ran = false;
    const result = await walk(
      graphOf({ a: 0, b: 0 }, []),
      () => Promise.resolve(void (ran = true)),
      {
        signal: aborted,
      },
    );
    assert.equal(ran, false);
    assert.equal(result.state, "cancelled");
    assert.equal(result.nodes.get("a")!.state, "cancelled");
  });

  it("applies the cancel and the grace to a node whose start was being recorded", async () => {
    const cancel = new AbortController();
    let sawSignal = false;
    const result = await walk(graphOf({ a: 0 }, []), async (_ms, { signal, kill }) => {
      sawSignal = signal.aborted;
      await new Promise((r) => kill.addEventListener("abort", r));
      throw new Error("killed");
    }, {
      signal: cancel.signal,
      graceMs: 50,
      onEvent: async (e) => {
        if (e.type === "start") {
          cancel.abort();
          await sleep(10);
        }
      },
    });
    assert.equal(sawSignal, true);
    assert.equal(result.state, "cancelled");
    assert.equal(result.nodes.get("a")!.state, "cancelled");
  });

  it("rejects when onEvent fails, after the running nodes ended", async () => {
    const g = graphOf({ a: 0, b: 0 }, [["b", "a"]]);
    await assert.rejects(
      walk(g, async () => {}, {
        onEvent: (e) => {
          if (e.type === "end") throw new Error("store down");
        },
      }),
      /store down/,
    );
  });

  it("finishes an empty graph at once", async () => {
    const result = await walk(new Graph<number>(), async () => {});
    assert.equal(result.state, "ok");
    assert.equal(result.nodes.size, 0);
  });

  it("starts the ready nodes with the highest priority first: the chain of a skewed graph", async () => {
    // A chain of 4 beside 6 independent nodes whose names sort first (arrival order would
    // start them first); the priority is the remaining path, counted in nodes.
    const nodes: Record<string, number> = {};
    for (let i = 0; i < 6; i++) nodes[`a${i}`] = 0;
    for (let i = 0; i < 4; i++) nodes[`c${i}`] = 0;
    const g = graphOf(nodes, [["c1", "c0"], ["c2", "c1"], ["c3", "c2"]]);
    const paths = remainingPaths(g, () => 1);
    const order = async (priority?: (id: string) => number) => {
      const events: string[] = [];
      const result = await walk(g, async () => {}, {
        concurrency: 2,
        priority,
        onEvent: async (e) => {
          events.push(`${e.type} ${e.id}`);
          // Recording takes a moment, as a store's write does.
          await Promise.resolve();
          if (e.type === "end") events.push(`recorded ${e.id}`);
        },
      });
      assert.equal(result.state, "ok");
      return events;
    };
    const byArrival = await order();
    assert.deepEqual(byArrival.slice(0, 2), ["start a0", "start a1"], "without: arrival order");
    const events = await order((id) => paths.get(id)!);
    const starts = events.filter((e) => e.startsWith("start")).map((e) => e.slice(6));
    assert.equal(starts[0], "c0", "the chain's head starts first");
    // c1 and c2 (paths 3 and 2) go before the waiting a nodes (path 1): from the end of their
    // predecessor to their start, its slot is kept for them — the a nodes that start meanwhile
    // only take the slots of a nodes that ended (which go on at once, while their ends are
    // recorded). c3 ties with the a nodes, and ties go in step order.
    for (let i = 0; i < 2; i++) {
      const between = events.slice(
        events.indexOf(`end c${i}`),
        events.indexOf(`start c${i + 1}`),
      );
      assert.ok(between.includes(`recorded c${i}`), `c${i + 1} waits for c${i}'s end`);
      const count = (prefix: string) => between.filter((e) => e.startsWith(prefix)).length;
      assert.ok(
        count("start a") <= count("end a"),
        `no a node took c${i}'s slot: ${between.join(", ")}`,
      );
    }
    assert.deepEqual(starts.filter((id) => id.startsWith("a")), [
      "a0",
      "a1",
      "a2",
      "a3",
      "a4",
      "a5",
    ]);
  });

  it("refuses a priority that is not a number", () => {
    const g = graphOf({ a: 0 }, []);
    assert.throws(
      () => walk(g, async () => {}, { priority: () => Number.NaN }),
      /priority of a must be a number/,
    );
  });
});
