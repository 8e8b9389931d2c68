/**
 * `ays run`, `ays simulate`, `ays runs` and `ays do` end to end against `dist/ays` (build it
 * first: `node_modules/.bin/bun build.ts`), on both store backends: the repository's own
 * SQLite file and a private Redis given with `--store`.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { ServiceRecord } from "../../src/model/types.ts";
import { openRepositoryStore } from "../../src/store/open.ts";
import {
  aysBinary,
  makeTempRepo,
  type RedisServer,
  runAys,
  startRedis,
  type TempDir,
  until,
} from "../helpers/mod.ts";
import {
  fanActions,
  type FanOptions,
  fanRepoFiles,
  readTraces,
  startCounts,
  type TraceLine,
} from "../run/repo_fixture.ts";

let redis: RedisServer | undefined;
let counter = 0;

interface Backend {
  name: string;
  url: () => string | undefined;
}

const backends: Backend[] = [
  { name: "sqlite", url: () => undefined },
  { name: "redis", url: () => redis!.url },
];

/** A fan repository with its blueprint applied and install scheduled, through the binary. */
class Repo {
  readonly dir: TempDir;
  readonly name: string;
  readonly store: string | undefined;
  readonly env: Record<string, string>;

  constructor(dir: TempDir, name: string, store: string | undefined) {
    this.dir = dir;
    this.name = name;
    this.store = store;
    this.env = {
      ...process.env as Record<string, string>,
      XDG_CONFIG_HOME: join(dir.path, ".cfg"),
    };
    delete this.env.AYS_STORE;
  }

  get path(): string {
    return this.dir.path;
  }

  args(args: string[]): string[] {
    return this.store ? ["--store", this.store, ...args] : args;
  }

  ays(args: string[], timeoutMs = 120_000) {
    return runAys(this.args(args), { cwd: this.path, env: this.env, timeoutMs });
  }

  /** Starts `ays args…` without waiting; `done` resolves when it exits. */
  start(
    args: string[],
  ): {
    child: ChildProcess;
    done: Promise<{ code: number | null; stderr: string; stdout: string }>;
  } {
    const child = spawn(aysBinary, this.args(args), { cwd: this.path, env: this.env });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (c) => (stdout += String(c)));
    child.stderr!.on("data", (c) => (stderr += String(c)));
    const done = new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
      child.once("close", (code) => resolve({ code, stderr, stdout }));
    });
    return { child, done };
  }

  /** Every service, read through the library. */
  async services(): Promise<Map<string, ServiceRecord>> {
    const opened = await openRepositoryStore({
      repoPath: this.path,
      repoName: this.name,
      storeFlag: this.store,
      env: {},
    });
    try {
      return new Map((await opened.store.loadServices()).map((s) => [`${s.role}!${s.name}`, s]));
    } finally {
      await opened.driver.close();
    }
  }

  /** Every key and value of the store. */
  async snapshot(): Promise<Map<string, string>> {
    const opened = await openRepositoryStore({
      repoPath: this.path,
      repoName: this.name,
      storeFlag: this.store,
      env: {},
    });
    try {
      const rows = await opened.driver.getByPrefix("");
      return new Map(rows.map((r) => [r.key, Buffer.from(r.value).toString("hex")]));
    } finally {
      await opened.driver.close();
    }
  }

  remove(): Promise<void> {
    return this.dir.remove();
  }
}

async function makeRepo(backend: Backend, options: FanOptions = {}): Promise<Repo> {
  const name = `e2e${process.pid}n${++counter}`;
  const dir = await makeTempRepo({ name, files: fanRepoFiles(options) });
  const repo = new Repo(dir, name, backend.url());
  const applied = await repo.ays(["blueprint"]);
  assert.equal(applied.code, 0, applied.stderr);
  const scheduled = await repo.ays(["install", "--schedule-only"]);
  assert.equal(scheduled.code, 0, scheduled.stderr);
  assert.match(scheduled.stderr, /scheduled install on \d+ of \d+ services/);
  return repo;
}

function at(traces: Map<string, TraceLine[]>, name: string, what: "start" | "end"): number {
  const line = traces.get(name)?.find((l) => l.what === what);
  assert.ok(line, `${name}: no ${what}`);
  return line.at;
}

function dependencies(name: string, services: Map<string, ServiceRecord>): string[] {
  const dot = name.lastIndexOf(".");
  const service = name.slice(0, dot);
  const action = name.slice(dot + 1);
  const deps = action === "install" ? [`${service}.init`] : [];
  const svc = services.get(service)!;
  const producers = new Set(Object.values(svc.producers).flat());
  if (svc.parent) producers.add(svc.parent);
  for (const p of producers) deps.push(`${p}.${action}`);
  return deps;
}

async function ends(repo: Repo): Promise<number> {
  let n = 0;
  for (const lines of (await readTraces(repo.path)).values()) {
    n += lines.filter((l) => l.what === "end").length;
  }
  return n;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.close();
});

for (const backend of backends) {
  describe(`ays run end to end (${backend.name})`, () => {
    it("runs 32 services fan-out / fan-in in order, in parallel, and records it", async () => {
      const repo = await makeRepo(backend, { sleepMs: 80 });
      try {
        const r = await repo.ays(["run", "--parallel", "8", "--json"]);
        assert.equal(r.code, 0, r.stderr);
        const run = JSON.parse(r.stdout);
        assert.equal(run.state, "ok");
        assert.equal(run.jobs.length, 64);
        assert.ok(run.jobs.every((j: { state: string }) => j.state === "ok"));
        assert.match(r.stderr, /ok leaf!m0l0 install/);
        assert.match(r.stderr, new RegExp(`run ${run.id} ok: 64 ok`));

        const services = await repo.services();
        assert.equal(services.size, 32);
        const traces = await readTraces(repo.path);
        assert.equal(traces.size, 64);
        for (const name of traces.keys()) {
          for (const dep of dependencies(name, services)) {
            assert.ok(at(traces, dep, "end") <= at(traces, name, "start"), `${name} before ${dep}`);
          }
        }
        const leaves = [...traces.keys()].filter((n) => n.startsWith("leaf!"));
        assert.ok(
          leaves.some((a) =>
            leaves.some((b) =>
              a !== b && at(traces, a, "start") < at(traces, b, "end") &&
              at(traces, b, "start") < at(traces, a, "end")
            )
          ),
          "independent jobs overlap",
        );

        const runs = await repo.ays(["runs", "--json"]);
        assert.equal(runs.code, 0, runs.stderr);
        assert.deepEqual(JSON.parse(runs.stdout).map((x: { id: string }) => x.id), [run.id]);
        const show = await repo.ays(["run", "show", run.id, "--json"]);
        assert.equal(show.code, 0, show.stderr);
        const detail = JSON.parse(show.stdout);
        assert.equal(detail.jobs.length, 64);
        assert.deepEqual(detail.jobs[0].log, ["[info] working on main"]);
        assert.match(detail.jobs[0].actionsHash, /^[0-9a-f]{64}$/);
        const text = await repo.ays(["run", "show", run.id.slice(0, 18)]);
        assert.match(text.stdout, /ok +base!main install/);
        const unknown = await repo.ays(["run", "show", "no-such-run"]);
        assert.equal(unknown.code, 2);
        assert.match(unknown.stderr, /no run no-such-run/);
      } finally {
        await repo.remove();
      }
    });

    it("one failing branch: dependents skipped, the rest finish, exit 1; the fix runs only what is left", async () => {
      const repo = await makeRepo(backend, { sleepMs: 20, breakMid: "m3" });
      try {
        const first = await repo.ays(["run"]);
        assert.equal(first.code, 1, first.stderr);
        assert.match(first.stderr, /error mid!m3 install: broken m3/);
        assert.match(first.stderr, /skipped leaf!m3l0 install: dependency mid!m3:install failed/);
        assert.match(first.stderr, /60 ok, 1 error, 3 skipped/);
        const services = await repo.services();
        assert.equal(services.get("mid!m3")!.actions.install.state, "error");
        assert.equal(services.get("sink!all")!.actions.install.state, "scheduled");
        assert.equal(services.get("leaf!m2l0")!.actions.install.state, "ok");

        await writeFile(join(repo.path, "actorTemplates/mid/actions.js"), fanActions(20));
        const before = startCounts(await readTraces(repo.path));
        const second = await repo.ays(["run", "--json"]);
        assert.equal(second.code, 0, second.stderr);
        const jobs = JSON.parse(second.stdout).jobs.map((j: { service: string; action: string }) =>
          `${j.service}.${j.action}`
        );
        assert.deepEqual(jobs, [
          "mid!m3.install",
          "leaf!m3l0.install",
          "leaf!m3l1.install",
          "sink!all.install",
        ]);
        for (const [name, n] of startCounts(await readTraces(repo.path))) {
          assert.equal(n, (before.get(name) ?? 0) + (jobs.includes(name) ? 1 : 0), name);
        }
      } finally {
        await repo.remove();
      }
    });

    it("kill -9 in the middle: the next run completes everything, no ok action runs again", async () => {
      const repo = await makeRepo(backend, { sleepMs: 250 });
      try {
        const { child, done } = repo.start(["run", "--parallel", "4"]);
        await until(async () => (await ends(repo)) >= 12, {
          what: "a dozen jobs to end",
          timeoutMs: 30_000,
          intervalMs: 50,
        });
        // Into the middle of the next jobs (each works 250 ms), so some are left running.
        await new Promise((r) => setTimeout(r, 120));
        child.kill("SIGKILL");
        await done;
        const afterKill = await repo.services();
        const okBefore: string[] = [];
        let running = 0;
        for (const [name, svc] of afterKill) {
          for (const action of ["init", "install"]) {
            if (svc.actions[action].state === "ok") okBefore.push(`${name}.${action}`);
            if (svc.actions[action].state === "running") running++;
          }
        }
        assert.ok(okBefore.length >= 8 && okBefore.length < 64, `${okBefore.length} ok`);
        assert.ok(running > 0, "some actions were left running");

        const next = await repo.ays(["run", "--json"]);
        assert.equal(next.code, 0, next.stderr);
        const final = await repo.services();
        assert.equal(final.size, 32, "no service lost");
        for (const [name, svc] of final) {
          assert.equal(svc.actions.init.state, "ok", name);
          assert.equal(svc.actions.install.state, "ok", name);
        }
        const counts = startCounts(await readTraces(repo.path));
        assert.equal(counts.size, 64);
        for (const name of okBefore) assert.equal(counts.get(name), 1, `${name} ran again`);
        // The killed run is closed in the history; its running jobs were interrupted.
        const runs = JSON.parse((await repo.ays(["runs", "--json"])).stdout);
        assert.deepEqual(runs.map((r: { state: string }) => r.state), ["ok", "error"]);
        const killed = JSON.parse((await repo.ays(["run", "show", runs[1].id, "--json"])).stdout);
        assert.ok(
          killed.jobs.some((j: { error: { message: string } | null }) =>
            /interrupted/.test(j.error?.message ?? "")
          ),
        );
      } finally {
        await repo.remove();
      }
    });

    it("a runaway loop fails 'timed out' after 1 s, the others finish, its exec process is gone", async () => {
      const repo = await makeRepo(backend, {
        sleepMs: 20,
        mids: 2,
        leaves: 1,
        extra: {
          "actorTemplates/spin/actor.yaml": "actions:\n  install: { timeout: 1s }\n",
          "actorTemplates/spin/schema.hrd": "note = type:str\n",
          "actorTemplates/spin/actions.js": `
export function install(job) {
  job.exec("echo $$ > " + JSON.stringify(job.repo.path + "/spin.pid") + "; exec sleep 600").catch(() => {});
  const started = Date.now();
  while (Date.now() - started < 300) { /* let the shell write its pid */ }
  for (;;) { /* a runaway synchronous loop */ }
}
`,
          "blueprints/2_spin.yaml": "spin__loop:\n",
        },
      });
      try {
        const r = await repo.ays(["run", "--json"]);
        assert.equal(r.code, 1, r.stderr);
        const run = JSON.parse(r.stdout);
        const spin = run.jobs.find((j: { service: string; action: string }) =>
          j.service === "spin!loop" && j.action === "install"
        );
        assert.equal(spin.state, "error");
        assert.match(spin.error.message, /timed out after 1 s/);
        const others = run.jobs.filter((j: { service: string }) => j.service !== "spin!loop");
        assert.ok(others.length >= 10 && others.every((j: { state: string }) => j.state === "ok"));
        const pid = Number((await readFile(join(repo.path, "spin.pid"), "utf8")).trim());
        assert.ok(pid > 0);
        await until(() => !isAlive(pid), {
          what: "the sleep 600 to be gone",
          timeoutMs: 5_000,
          intervalMs: 50,
        });
      } finally {
        await repo.remove();
      }
    });

    it("a second ays run during a run exits 3 naming the holder", async () => {
      const repo = await makeRepo(backend, { sleepMs: 150, mids: 3 });
      try {
        const { child, done } = repo.start(["run"]);
        await until(async () => (await readTraces(repo.path)).size > 0, {
          what: "the run to start",
          timeoutMs: 30_000,
          intervalMs: 50,
        });
        const second = await repo.ays(["run"]);
        assert.equal(second.code, 3, second.stderr);
        assert.match(
          second.stderr,
          new RegExp(`locked by pid ${child.pid} on \\S+ \\(\\d{8}-\\d{6}-[0-9a-f]{6}\\)`),
        );
        const blueprint = await repo.ays(["install"]);
        assert.equal(blueprint.code, 3);
        const first = await done;
        assert.equal(first.code, 0, first.stderr);
      } finally {
        await repo.remove();
      }
    });

    it("ays simulate leaves every key of the store unchanged", async () => {
      const repo = await makeRepo(backend, { sleepMs: 1, breakMid: "m1" });
      try {
        // Some history and an error first, so there is more to compare.
        assert.equal((await repo.ays(["run", "-r", "mid"])).code, 1);
        const before = await repo.snapshot();
        const text = await repo.ays(["simulate"]);
        assert.equal(text.code, 0, text.stderr);
        assert.match(text.stdout, /^step 1\n/);
        assert.match(text.stdout, /mid!m1 install/);
        const json = await repo.ays(["plan", "--json", "-r", "leaf"]);
        assert.equal(json.code, 0, json.stderr);
        assert.ok(JSON.parse(json.stdout).jobs > 0);
        assert.match((await repo.ays(["simulate", "--graph", "dot"])).stdout, /^digraph/);
        assert.match((await repo.ays(["simulate", "--graph", "mermaid"])).stdout, /^flowchart/);
        assert.deepEqual(await repo.snapshot(), before);
      } finally {
        await repo.remove();
      }
    });

    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      it(`${signal}: running jobs are cancelled, the run ends cancelled, exit 130`, async () => {
        const repo = await makeRepo(backend, { sleepMs: 5000, mids: 3 });
        try {
          const { child, done } = repo.start(["run", "--parallel", "2"]);
          await until(async () => (await readTraces(repo.path)).size > 0, {
            what: "the first job",
            timeoutMs: 30_000,
            intervalMs: 50,
          });
          child.kill(signal);
          const result = await done;
          assert.equal(result.code, 130, result.stderr);
          const runs = JSON.parse((await repo.ays(["runs", "--json"])).stdout);
          assert.equal(runs[0].state, "cancelled");
          const detail = JSON.parse((await repo.ays(["run", "show", runs[0].id, "--json"])).stdout);
          assert.ok(detail.jobs.every((j: { state: string }) => j.state === "cancelled"));
          for (const [name, svc] of await repo.services()) {
            assert.notEqual(svc.actions.init.state, "running", name);
            assert.notEqual(svc.actions.install.state, "ok", name);
          }
        } finally {
          await repo.remove();
        }
      });
    }
  });
}
