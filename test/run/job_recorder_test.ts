/**
 * The one job lifecycle over a real store: start makes the action and the job `running`
 * before anything runs, the log is appended in order as it comes, a retry and the end are
 * recorded, and a deleted service cancels the job.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { JobOutcome } from "../../src/run/job_protocol.ts";
import { JobFailedError } from "../../src/run/execute.ts";
import { ActionSources, JobRecorder, newJobRecord } from "../../src/run/job_recorder.ts";
import { openRepoStore, type RepoStore } from "../../src/store/repo_store.ts";
import { openSqliteDriver } from "../../src/store/sqlite.ts";
import { makeTempDir, type TempDir, writeFiles } from "../helpers/mod.ts";
import { makeActor, makeService, nameOf } from "../store/fixtures.ts";

const outcome = (extra: Partial<JobOutcome>): JobOutcome => ({
  ok: true,
  result: null,
  data: {},
  log: "",
  error: null,
  attempt: 1,
  millis: 1,
  ...extra,
});

describe("JobRecorder", () => {
  let dir: TempDir;
  let store: RepoStore;
  let close: () => Promise<void>;
  const node = makeActor("node");
  let n = 0;

  before(async () => {
    dir = await makeTempDir();
    const driver = openSqliteDriver(join(dir.path, "store.db"), { namespace: "r" });
    close = () => driver.close();
    store = await openRepoStore(driver, { repoName: "r" });
    await store.save({ actors: [node] });
  });
  after(async () => {
    await close();
    await dir.remove();
  });

  async function setup(before: "new" | "running" = "new") {
    const service = makeService("r", node, `s${++n}`);
    service.actions.install.state = before;
    await store.save({ services: [service] });
    const job = newJobRecord(`run-1.${n}`, "run-1", {
      service: nameOf(service),
      action: "install",
    });
    const seen: [string, boolean][] = [];
    const recorder = new JobRecorder(store, job, {
      serviceKey: service.key,
      before,
      now: () => 1000 + n,
      onService: (s, final) => seen.push([s.actions.install.state, final]),
    });
    return { service, job, recorder, seen };
  }

  it("start: the action and the job are running and durable", async () => {
    const { service, job, recorder, seen } = await setup();
    const started = await recorder.start(500);
    assert.equal(started!.actions.install.state, "running");
    const saved = (await store.loadService(service.key))!.actions.install;
    assert.deepEqual([saved.state, saved.lastRun, saved.lastJob], ["running", 500, job.id]);
    const record = (await store.loadJob("run-1", job.id))!;
    assert.deepEqual([record.state, record.attempts, record.startedAt], ["running", 1, 500]);
    assert.deepEqual(seen, [["running", false]]);
  });

  it("logs whole lines in order while running, the rest and the error at the end", async () => {
    const { service, job, recorder, seen } = await setup();
    await recorder.start();
    for (let i = 0; i < 50; i++) recorder.log(`line ${i}\n`);
    recorder.log("partial ");
    recorder.log("line");
    const failed = outcome({ ok: false, error: { message: "boom" }, attempt: 2 });
    const ended = await recorder.end("error", undefined, new JobFailedError(failed));
    const log = await store.readJobLog(job.id);
    assert.deepEqual(log, [
      ...Array.from({ length: 50 }, (_, i) => `line ${i}`),
      "partial line",
      "[error] boom",
    ]);
    assert.deepEqual([ended.state, ended.attempts, ended.error], ["error", 2, { message: "boom" }]);
    assert.equal((await store.loadService(service.key))!.actions.install.state, "error");
    assert.deepEqual((await store.loadJob("run-1", job.id))!.state, "error");
    assert.deepEqual(seen.at(-1), ["error", true]);
  });

  it("a log cut at its cap is stored as the outcome's tail, then the error", async () => {
    const { job, recorder } = await setup();
    await recorder.start();
    recorder.log("head 1\nhead 2\n[warn] (log truncated: over 1 MiB, the tail is kept)\n");
    const failed = outcome({
      ok: false,
      error: { message: "late boom" },
      log: "[… log truncated, tail kept]\ntail 1\ntail 2\n",
      logTruncated: true,
    });
    await recorder.end("error", failed);
    assert.deepEqual(await store.readJobLog(job.id), [
      "[… log truncated, tail kept]",
      "tail 1",
      "tail 2",
      "[error] late boom",
    ]);
  });

  it("ok saves the job's data and result with the action's ok, in one write", async () => {
    const { service, job, recorder } = await setup();
    await recorder.start();
    const data = { ...service.data, sshPort: 2222 };
    const ended = await recorder.end("ok", outcome({ result: { done: 1 }, data }));
    assert.deepEqual(ended.result, { done: 1 });
    const saved = (await store.loadService(service.key))!;
    assert.equal(saved.actions.install.state, "ok");
    assert.equal(saved.data.sshPort, 2222);
    assert.equal((await store.loadJob("run-1", job.id))!.state, "ok");
  });

  it("a retry is recorded with the next attempt and a warn line", async () => {
    const { job, recorder } = await setup();
    await recorder.start();
    const error = await recorder.retry(outcome({ ok: false, error: { message: "flaky" } }), 10);
    assert.equal(error, "flaky");
    assert.equal((await store.loadJob("run-1", job.id))!.attempts, 2);
    await recorder.end("ok", outcome({ attempt: 2 }));
    assert.deepEqual(await store.readJobLog(job.id), [
      "[warn] attempt 1 failed: flaky; retrying in 10 ms",
    ]);
  });

  it("a cancelled interrupted attempt leaves the action scheduled", async () => {
    const { service, recorder } = await setup("running");
    await recorder.start();
    await recorder.end("cancelled", outcome({ ok: false, cancelled: true }));
    assert.equal((await store.loadService(service.key))!.actions.install.state, "scheduled");
  });

  it("a deleted service cancels the job instead of starting it", async () => {
    const { service, job, recorder } = await setup();
    await store.save({ deleteServices: [service.key] });
    assert.equal(await recorder.start(), null);
    const record = (await store.loadJob("run-1", job.id))!;
    assert.equal(record.state, "cancelled");
    assert.match(record.error!.message, /deleted/);
  });

  it("skip records the reason", async () => {
    const { job, recorder } = await setup();
    await recorder.skip("skipped", "a prerequisite failed");
    const record = (await store.loadJob("run-1", job.id))!;
    assert.deepEqual([record.state, record.error], ["skipped", {
      message: "a prerequisite failed",
    }]);
  });
});

describe("ActionSources", () => {
  it("hashes each actions file once and keeps its text; a missing file is null", async () => {
    const dir = await makeTempDir();
    try {
      await writeFiles(dir.path, { "actions.js": "export function install() {}\n" });
      const saved: string[] = [];
      const sources = new ActionSources({
        saveActionSource: (text) => {
          saved.push(text);
          return Promise.resolve("sha-of-" + saved.length);
        },
      });
      const actor = { ...makeActor("node"), actionsPath: join(dir.path, "actions.js") };
      assert.equal(await sources.hashOf(actor), "sha-of-1");
      assert.equal(await sources.hashOf(actor), "sha-of-1");
      assert.deepEqual(saved, ["export function install() {}\n"]);
      assert.equal(await sources.hashOf(undefined), null);
      const missing = { ...actor, actionsPath: join(dir.path, "gone.js") };
      assert.equal(await sources.hashOf(missing), null);
    } finally {
      await dir.remove();
    }
  });
});
