import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runCli } from "../../src/cli/mod.ts";
import { captureIo } from "../../src/cli/io.ts";
import { openRepositoryStore } from "../../src/store/open.ts";
import { EventLog } from "../../src/events/mod.ts";
import { makeTempRepo, writeFiles } from "../helpers/mod.ts";
import { fanRepoFiles } from "../run/repo_fixture.ts";
import { parseEventLines, type SchemaEvent } from "../events/event_schema.ts";

async function ays(cwd: string, args: string[]) {
  const io = captureIo({ env: {}, cwd });
  const code = await runCli(args, io);
  return { code, out: io.out.join(""), err: io.err.join("") };
}

function ofType<T extends SchemaEvent["type"]>(events: SchemaEvent[], type: T) {
  return events.filter((e): e is Extract<SchemaEvent, { type: T }> => e.type === type);
}

describe("ays run --events", () => {
  it("prints every event of the run as a documented JSON line, the run's end last", async () => {
    const dir = await makeTempRepo({ name: "evrun" });
    try {
      await writeFiles(dir.path, fanRepoFiles({ mids: 2, leaves: 1, sleepMs: 1, breakMid: "m1" }));
      const applied = await ays(dir.path, ["blueprint"]);
      assert.equal(applied.code, 0, applied.err);
      const scheduled = await ays(dir.path, ["do", "install", "--schedule-only"]);
      assert.equal(scheduled.code, 0, scheduled.err);
      const r = await ays(dir.path, ["run", "--events"]);
      assert.equal(r.code, 1, r.err);
      const events = parseEventLines(r.out);
      // Ids increase by one, every event is of this repository.
      events.forEach((e, i) => i > 0 && assert.equal(e.id, events[i - 1].id + 1));
      assert.ok(events.every((e) => e.repo === "evrun"));
      const [start] = ofType(events, "run.started");
      assert.equal(events[0], start);
      const end = events.at(-1)!;
      assert.equal(end.type, "run.ended");
      if (end.type !== "run.ended") return;
      assert.equal(end.runId, start.runId);
      assert.equal(end.state, "error");
      assert.equal(end.exitCode, 1);
      // base, 2 mids, 2 leaves, sink: init + install each; m1 install fails, 2 depend on it.
      assert.deepEqual(end.counts, { ok: 9, error: 1, skipped: 2 });
      assert.equal(start.jobs, 12);
      const ended = ofType(events, "job.ended");
      assert.equal(ended.length, 12);
      const failed = ended.find((e) => e.state === "error")!;
      assert.equal(failed.service, "mid!m1");
      assert.equal(failed.error, "broken m1");
      const skipped = ended.filter((e) => e.state === "skipped").map((e) => e.service).sort();
      assert.deepEqual(skipped, ["leaf!m1l0", "sink!all"]);
      assert.ok(
        skipped.length === 2 &&
          ended.filter((e) => e.state === "skipped").every((e) => e.durationMs === 0),
      );
      // Each job that ran started first, with its log lines between start and end.
      for (const job of ended.filter((e) => e.state !== "skipped")) {
        const startedAt = events.findIndex((e) =>
          e.type === "job.started" && e.jobId === job.jobId
        );
        const log = events.findIndex((e) => e.type === "job.log" && e.jobId === job.jobId);
        const endedAt = events.indexOf(job);
        assert.ok(startedAt >= 0 && startedAt < log && log < endedAt, job.jobId);
        const lines = ofType(events, "job.log").filter((e) => e.jobId === job.jobId).flatMap((e) =>
          e.lines
        );
        assert.deepEqual(lines, [`[info] working on ${job.service.split("!")[1]}`]);
      }
      const states = ofType(events, "service.state").filter((e) => e.service === "mid!m1");
      assert.deepEqual(states.map((e) => `${e.action} ${e.state}`), [
        "init running",
        "init ok",
        "install running",
        "install error",
      ]);
      // The terminal view still went to standard error.
      assert.match(r.err, /error mid!m1 install: broken m1/);
      assert.match(r.err, /see ays run show \S+ for the jobs' logs/);

      // The same events are stored: what ays watch and GET /events read.
      const opened = await openRepositoryStore({ repoPath: dir.path, repoName: "evrun", env: {} });
      try {
        const stored = await new EventLog(opened.driver, { repo: "evrun" }).since(0);
        assert.deepEqual(stored, events);
      } finally {
        await opened.driver.close();
      }
      // A second run, then pruning the first: its events go, the second's stay, ids go on.
      await ays(dir.path, ["do", "install", "-r", "mid", "--schedule-only"]);
      const second = await ays(dir.path, ["run", "--events"]);
      const secondEvents = parseEventLines(second.out);
      assert.equal(secondEvents[0].id, events.at(-1)!.id + 1);
      const pruned = await ays(dir.path, ["runs", "prune", "--keep", "1", "--json"]);
      assert.equal(pruned.code, 0, pruned.err);
      assert.deepEqual(JSON.parse(pruned.out), { deleted: [start.runId], events: events.length });
      const reopened = await openRepositoryStore({
        repoPath: dir.path,
        repoName: "evrun",
        env: {},
      });
      try {
        const left = await new EventLog(reopened.driver, { repo: "evrun" }).since(0);
        assert.deepEqual(left, secondEvents);
      } finally {
        await reopened.driver.close();
      }
      const both = await ays(dir.path, ["run", "--events", "--json"]);
      assert.equal(both.code, 2);
      assert.match(both.err, /--events and --json cannot be combined/);
    } finally {
      await dir.remove();
    }
  });
});
