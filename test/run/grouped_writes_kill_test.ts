/**
 * The writes of jobs that end together are committed as one batch (`src/store/write_group.ts`):
 * a real process running 600 no-op jobs is killed with SIGKILL in the middle of its run, on
 * SQLite and on a private Redis. Afterwards every job it reported is in the store as reported,
 * each job's record and its action agree (a job's writes are all there or none), and the next
 * run finishes the rest.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import type { JobRecord, ServiceRecord } from "../../src/model/types.ts";
import { executeRepoRun, runIdOfJob } from "../../src/run/repo_run.ts";
import { openRepositoryStore } from "../../src/store/open.ts";
import { makeTempRepo, type RedisServer, startRedis } from "../helpers/mod.ts";
import { runtimeCommand } from "../store/child.ts";
import { seedRepo } from "./repo_fixture.ts";

const JOBS = 600;
const KILL_AFTER = 150;
const CHILD = fileURLToPath(new URL("./run_child.ts", import.meta.url));

let redis: RedisServer | undefined;
const backends = [
  { name: "sqlite", store: () => undefined },
  { name: "redis", store: () => redis!.url },
];

/** Runs the child until it reported `count` jobs ok, then SIGKILLs it; returns what it said. */
function runAndKill(task: Record<string, unknown>, count: number) {
  const [command, args] = runtimeCommand(CHILD, [JSON.stringify(task)]);
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  const said: { event: string; job?: string; service?: string }[] = [];
  let buffer = "";
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += String(chunk)));
  return new Promise<typeof said>((resolve, reject) => {
    let killed = false;
    child.stdout.on("data", (chunk) => {
      buffer += String(chunk);
      let newline;
      while ((newline = buffer.indexOf("\n")) !== -1) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (!line.startsWith("{")) continue;
        said.push(JSON.parse(line));
        if (!killed && said.filter((e) => e.event === "ok").length >= count) {
          killed = true;
          child.kill("SIGKILL");
        }
      }
    });
    child.once("exit", (code, signal) => {
      if (signal === "SIGKILL") resolve(said);
      else reject(new Error(`the child ended ${code} before it was killed: ${stderr}`));
    });
  });
}

describe("grouped job writes survive kill -9", () => {
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.close();
  });

  for (const backend of backends) {
    it(`${backend.name}: what was reported is durable, each job's writes are whole`, async () => {
      const name = `kill${process.pid}${backend.name}`;
      const services = Array.from({ length: JOBS }, (_, i) => `noop__n${i}: {}`).join("\n");
      const repo = await makeTempRepo({
        name,
        files: {
          "actorTemplates/noop/schema.hrd": "note = type:str\n",
          "actorTemplates/noop/actions.js": "export function install() {}\n",
          "blueprints/1.yaml": services + "\n",
        },
      });
      try {
        await seedRepo(repo.path, { repoName: name, store: backend.store(), schedule: "install" });
        const said = await runAndKill(
          { repoPath: repo.path, repoName: name, store: backend.store(), parallel: 20 },
          KILL_AFTER,
        );
        const reported = said.filter((e) => e.event === "ok");
        assert.ok(reported.length >= KILL_AFTER);
        assert.ok(!said.some((e) => e.event === "done"), "killed in the middle of the run");

        const opened = await openRepositoryStore({
          repoPath: repo.path,
          repoName: name,
          storeFlag: backend.store(),
          env: {},
          mirror: true,
        });
        try {
          const runId = runIdOfJob(reported[0].job!)!;
          const jobs = new Map<string, JobRecord>(
            (await opened.store.loadJobs(runId)).map((job) => [job.id, job]),
          );
          const byName = new Map<string, ServiceRecord>(
            (await opened.store.loadServices()).map((s) => [`${s.role}!${s.name}`, s]),
          );
          assert.equal(jobs.size, JOBS);
          // Nothing was reported done before it was durable.
          for (const event of reported) {
            assert.equal(jobs.get(event.job!)?.state, "ok", `job ${event.job}`);
            const action = byName.get(event.service!)!.actions.install;
            assert.equal(action.state, "ok", event.service!);
            assert.equal(action.lastJob, event.job);
          }
          // A job's record and its action agree: its start and its end were each one write.
          let ok = 0;
          for (const job of jobs.values()) {
            const action = byName.get(job.service)!.actions.install;
            if (job.state === "ok") {
              ok++;
              assert.deepEqual([action.state, action.lastJob], ["ok", job.id], job.service);
            } else if (job.state === "running") {
              assert.deepEqual([action.state, action.lastJob], ["running", job.id], job.service);
            } else {
              assert.equal(job.state, "new", job.service);
              assert.equal(action.state, "scheduled", job.service);
            }
          }
          assert.ok(ok >= reported.length);
          assert.ok(ok < JOBS, "the kill came before the end");
          // The next run takes the interrupted and the remaining jobs, and finishes.
          const next = await executeRepoRun(
            { store: opened.store, driver: opened.driver, repo: { name, path: repo.path } },
            { parallel: 20 },
          );
          assert.equal(next.run.state, "ok");
          assert.equal(next.jobs.length, JOBS - ok);
          const after = await opened.store.loadServices();
          assert.ok(after.every((s) => s.actions.install.state === "ok"));
        } finally {
          await opened.driver.close();
        }
      } finally {
        await repo.remove();
      }
    });
  }
});
