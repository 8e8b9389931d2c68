import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatElapsed, RunView } from "../../src/cli/progress.ts";
import { captureIo } from "../../src/cli/io.ts";
import type { AysEvent, EventBody } from "../../src/events/mod.ts";

const T0 = Date.parse("2026-12-01T15:00:00.000Z");

/** Events at given seconds after T0, numbered in order. */
function at(seconds: number, body: EventBody, id = 0): AysEvent {
  return { id, time: new Date(T0 + seconds * 1000).toISOString(), repo: "r", ...body } as AysEvent;
}

function view(
  options: { isTTY: boolean; color?: boolean; columns?: number; clock: { now: number } },
) {
  const io = captureIo({ isTTY: options.isTTY });
  const redraws: (() => void)[] = [];
  const run = new RunView(io, {
    color: options.color ?? false,
    now: () => options.clock.now,
    columns: options.columns ?? 200,
    every: (redraw) => {
      redraws.push(redraw);
      return () => redraws.splice(0);
    },
  });
  return { io, run, redraws, err: () => io.err.join("") };
}

const job = (jobId: string, service: string, action = "install") => ({ jobId, service, action });

describe("the terminal view of a run", () => {
  it("names the running jobs, the longest-running first, with their elapsed time", () => {
    const clock = { now: T0 };
    const { run, redraws, err } = view({ isTTY: true, clock });
    run.onEvent(at(0, { type: "run.started", runId: "R1", jobs: 3 }));
    run.onEvent(at(0, { type: "job.started", runId: "R1", attempt: 1, ...job("j1", "db!main") }));
    run.onEvent(at(25, { type: "job.started", runId: "R1", attempt: 1, ...job("j2", "web!a") }));
    assert.equal(redraws.length, 1, "one timer redraws the line");
    clock.now = T0 + 40_000;
    redraws[0]();
    const last = err().split("\r\x1b[K").at(-1)!;
    assert.equal(
      last,
      "0/3 done · 2 running · 0 failed · 40.0 s · Still running… db!main install [40s], web!a install [15s]",
    );
  });

  it("names as many running jobs as fit the line, then how many more", () => {
    const clock = { now: T0 + 10_000 };
    const { run, redraws, err } = view({ isTTY: true, clock, columns: 120 });
    run.onEvent(at(0, { type: "run.started", runId: "R1", jobs: 9 }));
    for (let i = 0; i < 9; i++) {
      run.onEvent(
        at(i, { type: "job.started", runId: "R1", attempt: 1, ...job(`j${i}`, `web!w${i}`) }),
      );
    }
    redraws[0]();
    const last = err().split("\r\x1b[K").at(-1)!;
    assert.ok(last.length < 120, last);
    assert.match(
      last,
      /Still running… web!w0 install \[10s\], web!w1 install \[9s\] \+7 more$/,
    );
  });

  it("prints each failure when it happens with its first error line and its log tail", () => {
    const clock = { now: T0 };
    const { run, err } = view({ isTTY: true, clock });
    run.onEvent(at(0, { type: "run.started", runId: "R2", jobs: 3 }));
    run.onEvent(at(1, { type: "job.started", runId: "R2", attempt: 1, ...job("j1", "db!main") }));
    const lines = Array.from({ length: 8 }, (_, i) => `line ${i}`);
    run.onEvent(at(2, { type: "job.log", runId: "R2", jobId: "j1", lines }));
    clock.now = T0 + 3000;
    run.onEvent(at(3, {
      type: "job.ended",
      runId: "R2",
      ...job("j1", "db!main"),
      state: "error",
      error: "disk full\n    at install (actions.js:3)",
      durationMs: 2000,
    }));
    const text = err();
    assert.match(text, /15:00:03 error db!main install: disk full\n/);
    assert.doesNotMatch(text, /actions\.js:3/, "only the first line of the error");
    assert.match(text, /\| line 3\n {4}\| line 4\n {4}\| line 5\n {4}\| line 6\n {4}\| line 7\n/);
    assert.doesNotMatch(text, /line 2/, "the tail: five lines");
    run.onEvent(at(3, {
      type: "job.ended",
      runId: "R2",
      ...job("j2", "web!a"),
      state: "skipped",
      error: "dependency db!main:install failed",
      durationMs: 0,
    }));
    run.onEvent(at(3, {
      type: "job.ended",
      runId: "R2",
      ...job("j3", "web!b"),
      state: "skipped",
      error: "dependency db!main:install failed",
      durationMs: 0,
    }));
    run.onEvent(at(4, {
      type: "run.ended",
      runId: "R2",
      state: "error",
      exitCode: 1,
      counts: { error: 1, skipped: 2 },
    }));
    const end = err().slice(err().lastIndexOf("\r\x1b[K") + 4);
    assert.equal(
      end,
      "15:00:03 failed (1):\n" +
        "  db!main install: disk full\n" +
        "skipped (2):\n" +
        "  web!a install: dependency db!main:install failed\n" +
        "  web!b install: dependency db!main:install failed\n" +
        "see ays run show R2 for the jobs' logs\n" +
        "run R2 error: 1 error, 2 skipped in 4.00 s\n",
    );
    assert.equal(run.ended, true);
  });

  it("colours on a terminal unless told not to", () => {
    const clock = { now: T0 };
    const coloured = view({ isTTY: true, color: true, clock });
    const plain = view({ isTTY: true, color: false, clock });
    const notTerminal = view({ isTTY: false, color: true, clock });
    for (const { run } of [coloured, plain, notTerminal]) {
      run.onEvent(at(0, { type: "run.started", runId: "R3", jobs: 0 }));
      run.onEvent(at(0, { type: "run.ended", runId: "R3", state: "ok", exitCode: 0, counts: {} }));
    }
    // deno-lint-ignore no-control-regex
    assert.match(coloured.err(), /\x1b\[32mok\x1b\[0m/);
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(plain.err(), /\x1b\[\d+m/);
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(notTerminal.err(), /\x1b\[/);
  });

  it("prints one line per job event off a terminal, and retries", () => {
    const clock = { now: T0 };
    const { run, err } = view({ isTTY: false, clock });
    run.onEvent(at(0, { type: "run.started", runId: "R4", jobs: 1 }));
    run.onEvent(at(0, { type: "job.started", runId: "R4", attempt: 1, ...job("j1", "db!main") }));
    run.onEvent(at(1, { type: "job.retry", runId: "R4", jobId: "j1", attempt: 2, error: "flaky" }));
    run.onEvent(at(2, {
      type: "job.ended",
      runId: "R4",
      ...job("j1", "db!main"),
      state: "ok",
      durationMs: 2000,
    }));
    run.onEvent(
      at(2, { type: "run.ended", runId: "R4", state: "ok", exitCode: 0, counts: { ok: 1 } }),
    );
    assert.deepEqual(err().split("\n").map((l) => l.slice(9)), [
      "run R4: 1 job",
      "start db!main install",
      "retry db!main install (attempt 2): flaky",
      "ok db!main install (2.00 s)",
      "run R4 ok: 1 ok in 2.00 s",
      "",
    ]);
  });

  it("formats elapsed times as a terminal user reads them", () => {
    assert.equal(formatElapsed(400), "0s");
    assert.equal(formatElapsed(40_000), "40s");
    assert.equal(formatElapsed(125_000), "2m05s");
    assert.equal(formatElapsed(3_720_000), "1h02m");
  });
});
