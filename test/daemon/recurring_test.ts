import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RecurringStartInfo, RecurringTarget } from "../../src/daemon/backend.ts";
import { createLogger } from "../../src/daemon/logger.ts";
import { startRecurring } from "../../src/daemon/recurring.ts";
import type { ServiceRecord } from "../../src/model/types.ts";
import { delay, makeService } from "./fake_backend.ts";
import { FakeClock } from "./fake_clock.ts";

/** One recorded execution of a recurring action. */
interface Execution {
  service: string;
  action: string;
  dueAt: number;
  start: number;
  end: number | null;
}

/**
 * A store of services in memory that, like the real executor, saves `lastRun` when a recurring
 * job starts; `durations` says how long each `service/action` takes (ms).
 */
function harness(
  services: ServiceRecord[],
  durations: Record<string, number> = {},
  clock?: FakeClock,
) {
  const now = clock?.now ?? Date.now;
  const wait = clock ? (ms: number) => clock.sleep(ms) : delay;
  const executions: Execution[] = [];
  const load = () =>
    Promise.resolve(
      services.map((service): RecurringTarget => ({
        repo: "alpha",
        service: structuredClone(service),
      })),
    );
  const run = async (target: RecurringTarget, action: string, info: RecurringStartInfo) => {
    const stored = services.find((s) => s.name === target.service.name)!;
    stored.actions[action].lastRun = info.startedAt;
    const execution: Execution = {
      service: target.service.name,
      action,
      dueAt: info.dueAt,
      start: now(),
      end: null,
    };
    executions.push(execution);
    await wait(durations[`${target.service.name}/${action}`] ?? 20);
    execution.end = now();
  };
  return { executions, load, run };
}

/** Lateness figures of the executions, printed so the report can quote them. */
function lateness(executions: Execution[]): number[] {
  return executions.map((e) => e.start - e.dueAt).sort((a, b) => a - b);
}

describe("recurring scheduler", () => {
  it("period 1 s runs repeatedly; a 3 s job with period 1 s never overlaps itself", async () => {
    const clock = new FakeClock();
    const services = [
      makeService("node", "quick", { monitor: { period: 1 } }),
      makeService("node", "slow", { monitor: { period: 1 } }),
    ];
    const h = harness(services, { "slow/monitor": 3000 }, clock);
    const scheduler = await startRecurring({
      load: h.load,
      run: h.run,
      reloadMs: 500,
      now: clock.now,
      timers: clock.timers,
    });
    const started = clock.now();
    await clock.advance(5500);
    const stopping = scheduler.stop();
    // stop() waits for the running copy of the slow job (it ends at 6 s).
    await clock.advance(1000);
    await stopping;

    const starts = (service: string) =>
      h.executions.filter((e) => e.service === service).map((e) => e.start - started);
    // Due one period after each start (a 20 ms job), never twice at once.
    assert.deepEqual(starts("quick"), [0, 1000, 2000, 3000, 4000, 5000]);
    // The slow job overran its period: the next copy starts when it ends, not before.
    assert.deepEqual(starts("slow"), [0, 3000]);
    const slow = h.executions.filter((e) => e.service === "slow");
    assert.deepEqual(slow.map((e) => e.end! - started), [3000, 6000]);
    assert.ok(h.executions.every((e) => e.end !== null), "every started job ended before stop()");
    assert.deepEqual(lateness(h.executions.filter((e) => e.service === "quick")), [
      0,
      0,
      0,
      0,
      0,
      0,
    ]);
  });

  it("an action that never ran starts at once; one that just ran waits its period", async () => {
    const services = [
      makeService("node", "fresh", { monitor: { period: 3600 } }),
      makeService("node", "recent", { monitor: { period: 3600, lastRun: Date.now() } }),
      makeService("node", "old", { backup: { period: 3600, lastRun: Date.now() - 7200_000 } }),
      makeService("node", "off", { monitor: { period: 0 } }),
    ];
    const h = harness(services);
    const loadedAt = Date.now();
    const scheduler = await startRecurring({ load: h.load, run: h.run });
    await delay(300);
    const due = scheduler.schedule();
    await scheduler.stop();
    assert.deepEqual(h.executions.map((e) => `${e.service}/${e.action}`).sort(), [
      "fresh/monitor",
      "old/backup",
    ]);
    // "At once": due when first seen, not a period later.
    for (const execution of h.executions) assert.ok(execution.dueAt >= loadedAt);
    assert.ok(h.executions.every((e) => e.dueAt < loadedAt + 3600_000));
    const recent = due.find((d) => d.service === "node!recent")!;
    assert.ok(recent.dueAt! >= loadedAt + 3599_000, "next due one period after its lastRun");
    assert.equal(due.find((d) => d.service === "node!off"), undefined, "period 0 is ignored");
  });

  it("picks up new services, changed periods and disabled actions on refresh()", async () => {
    const services = [makeService("node", "a", { monitor: { period: 3600, lastRun: Date.now() } })];
    const h = harness(services);
    const scheduler = await startRecurring({ load: h.load, run: h.run, reloadMs: 60_000 });
    await delay(100);
    assert.equal(h.executions.length, 0);
    services[0].actions.monitor.period = 0.2; // due again 200 ms after its lastRun
    services.push(makeService("node", "b", { check: { period: 3600 } }));
    await scheduler.refresh();
    await delay(400);
    assert.ok(h.executions.some((e) => e.service === "a"), "changed period applied");
    assert.ok(h.executions.some((e) => e.service === "b"), "new service seen");
    services[0].actions.monitor.state = "disabled";
    await scheduler.refresh();
    const count = h.executions.filter((e) => e.service === "a").length;
    await delay(500);
    await scheduler.stop();
    assert.equal(h.executions.filter((e) => e.service === "a").length, count, "disabled: no start");
  });

  it("reloads by itself every reloadMs", async () => {
    const services: ServiceRecord[] = [];
    const h = harness(services);
    const scheduler = await startRecurring({ load: h.load, run: h.run, reloadMs: 100 });
    services.push(makeService("node", "late", { monitor: { period: 3600 } }));
    await delay(500);
    await scheduler.stop();
    assert.equal(h.executions.length, 1);
  });

  it("a failing job is logged and scheduled again; a failing load is retried", async () => {
    // On a fake clock: on real time, 'ran twice in 600 ms' needed the reload timer to fire less
    // than about 400 ms late, which a loaded machine does not promise.
    const clock = new FakeClock();
    let loads = 0;
    const service = makeService("node", "bad", { monitor: { period: 0.1 } });
    let runs = 0;
    const lines: string[] = [];
    const scheduler = await startRecurring({
      load: () => {
        loads += 1;
        if (loads === 1) return Promise.reject(new Error("store down"));
        return Promise.resolve([{ repo: "alpha", service }]);
      },
      run: () => {
        runs += 1;
        return Promise.reject(new Error("boom"));
      },
      reloadMs: 100,
      logger: createLogger({ write: (line) => lines.push(line), format: "json" }),
      now: clock.now,
      timers: clock.timers,
    });
    await clock.advance(600);
    await scheduler.stop();
    assert.ok(runs >= 2, `ran ${runs} times`);
    const logged = lines.map((line) => JSON.parse(line));
    assert.ok(logged.some((l) => l.level === "warn" && /could not load/.test(l.msg)));
    assert.ok(logged.some((l) => l.level === "error" && l.error?.message === "boom"));
  });

  it("stop() starts nothing more, aborts the signal and waits for running jobs", async () => {
    const service = makeService("node", "long", { monitor: { period: 0.05 } });
    let aborted = false;
    let ended = false;
    let starts = 0;
    const scheduler = await startRecurring({
      load: () => Promise.resolve([{ repo: "alpha", service }]),
      run: async (_target, _action, info) => {
        starts += 1;
        await new Promise<void>((resolve) =>
          info.signal.addEventListener("abort", () => resolve())
        );
        aborted = info.signal.aborted;
        await delay(200);
        ended = true;
      },
    });
    await delay(50);
    assert.equal(scheduler.running().length, 1);
    await scheduler.stop();
    assert.ok(aborted && ended, "stop() resolved after the job ended");
    assert.equal(starts, 1);
    await delay(200);
    assert.equal(starts, 1, "nothing started after stop()");
  });
});
