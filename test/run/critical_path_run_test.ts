/**
 * Critical-path-first scheduling of a run over a real SQLite store with real workers: among
 * ready jobs, those with the longest remaining path start first, counted in jobs without a job
 * history and in the recorded durations of each action's last jobs with one. Only the order
 * of the recorded starts is checked, never times.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ServiceRecord } from "../../src/model/types.ts";
import { loadActionDurations } from "../../src/run/job_durations.ts";
import { newJobRecord } from "../../src/run/job_recorder.ts";
import {
  executeRepoRun,
  type RepoRunEvent,
  runJobId,
  type RunSession,
} from "../../src/run/repo_run.ts";
import { openSeededRepo } from "./repo_fixture.ts";

const NOOP = "export async function install() {}\n";

/** A repository of chains (`role: length`, each link consuming the one before) + `bulk` jobs. */
async function chainsRepo(name: string, chains: Record<string, number>, bulk: number) {
  const files: Record<string, string> = {
    "actorTemplates/bulk/schema.hrd": "note = type:str\n",
    "actorTemplates/bulk/actions.js": NOOP,
  };
  const lines: string[] = [];
  for (let i = 0; i < bulk; i++) lines.push(`bulk__a${i}: {}`);
  for (const [role, length] of Object.entries(chains)) {
    files[`actorTemplates/${role}/schema.hrd`] = `prev = consume:${role}:0:1\n`;
    files[`actorTemplates/${role}/actions.js`] = NOOP;
    for (let i = 0; i < length; i++) {
      lines.push(
        i === 0
          ? `${role}__${role[0]}0: {}`
          : `${role}__${role[0]}${i}:\n  prev: ${role[0]}${i - 1}`,
      );
    }
  }
  files["blueprints/1.yaml"] = lines.join("\n") + "\n";
  return await openSeededRepo(name, files);
}

/** Runs with `parallel`; returns `start NAME` / `end NAME` in the order they were recorded. */
async function recordedOrder(session: RunSession, parallel: number): Promise<string[]> {
  const events: string[] = [];
  const result = await executeRepoRun(session, {
    parallel,
    onEvent: (event: RepoRunEvent) => {
      if (event.type !== "job") return;
      if (event.job.state === "running") events.push(`start ${event.job.service}`);
      else events.push(`end ${event.job.service}`);
    },
  });
  assert.equal(result.run.state, "ok");
  return events;
}

/** Gives every install of `role` a recorded last job that took `seconds`. */
async function recordHistory(session: RunSession, role: string, seconds: number): Promise<void> {
  const runId = "20260101-000000-abcdef";
  const services = (await session.store.loadServices()).filter((s) => s.role === role);
  const updated: ServiceRecord[] = [];
  const jobs = services.map((service, i) => {
    const id = runJobId(runId, 100 * role.length + i + 1);
    const at = 1_700_000_000_000 + i;
    updated.push({
      ...service,
      actions: {
        ...service.actions,
        install: { ...service.actions.install, lastJob: id, lastRun: at },
      },
    });
    return {
      ...newJobRecord(id, runId, { service: `${role}!${service.name}`, action: "install" }),
      state: "ok" as const,
      attempts: 1,
      startedAt: at,
      endedAt: at + seconds * 1000,
    };
  });
  await session.store.saveJobs(jobs);
  await session.store.save({ services: updated });
}

describe("critical-path-first scheduling", () => {
  it("starts the chain of a skewed graph first, each link as soon as the one before ended", async () => {
    // bulk!a* sort before chain!c*: in arrival order the chain would start last. One job at a
    // time makes the order of the starts exact.
    const { session, close } = await chainsRepo(`cp${process.pid}a`, { chain: 4 }, 6);
    try {
      const starts = (await recordedOrder(session, 1)).filter((e) => e.startsWith("start "));
      const bulk = [0, 1, 2, 3, 4, 5].map((i) => `start bulk!a${i}`);
      // c0, c1, c2 (remaining paths 4, 3, 2) before the bulk jobs (path 1); c3 ties with
      // those, and ties go in step order.
      assert.deepEqual(starts, [
        "start chain!c0",
        "start chain!c1",
        "start chain!c2",
        ...bulk,
        "start chain!c3",
      ]);
    } finally {
      await close();
    }
  });

  it("weighs the paths by the recorded durations of each action's last jobs", async () => {
    // A chain of 2 slow jobs beside a chain of 3 fast ones, one job at a time: counted in jobs
    // the 3-chain is longer; weighed by their history (10 s against 0.01 s) the 2-chain is.
    const { session, close } = await chainsRepo(`cp${process.pid}b`, { long: 2, short: 3 }, 0);
    try {
      const unweighed = (await recordedOrder(session, 1)).filter((e) => e.startsWith("start "));
      assert.equal(unweighed[0], "start short!s0", "without history: the longer chain in jobs");
      // Schedule again, with a history that makes long!* slow and short!* fast.
      await recordHistory(session, "long", 10);
      await recordHistory(session, "short", 0.01);
      const services = await session.store.loadServices();
      await session.store.save({
        services: services.map((s) => ({
          ...s,
          actions: { ...s.actions, install: { ...s.actions.install, state: "scheduled" as const } },
        })),
      });
      const durations = await loadActionDurations(session.store, services);
      assert.equal(durations.of("long", "install"), 10);
      assert.equal(durations.of("short", "install"), 0.01);
      const weighed = (await recordedOrder(session, 1)).filter((e) => e.startsWith("start "));
      assert.deepEqual(weighed, [
        "start long!l0",
        "start long!l1",
        "start short!s0",
        "start short!s1",
        "start short!s2",
      ]);
    } finally {
      await close();
    }
  });
});
