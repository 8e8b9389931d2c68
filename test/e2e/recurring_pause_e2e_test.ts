/**
 * A running `ays daemon` respects the lifecycle (docs/daemon.md, docs/runs.md): through
 * dist/ays on both stores, a recurring `monitor` runs while `start` is `ok`, runs no job after
 * `ays do stop` (`ays state` says it is paused and why), and runs again after `ays do start`.
 * The evidence is what the monitor itself recorded and the action's lastRun, never a count of
 * timer ticks. Build first: `node_modules/.bin/bun build.ts`.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  aysBinary,
  type BackendRepo,
  BACKENDS,
  freePort,
  openBackendRepo,
  until,
} from "../helpers/mod.ts";

const ACTIONS = `
import { appendFileSync } from "node:fs";
export function install() {}
export function start() {}
export function stop() {}
export function monitor(job) {
  appendFileSync(job.repo.path + "/monitor.log", Date.now() + "\\n");
}
`;

const FILES: Record<string, string> = {
  ".ays/config.yaml": "name: pausing\n",
  "actorTemplates/ticker/schema.hrd": "x = type:str\n",
  "actorTemplates/ticker/actions.js": ACTIONS,
  "actorTemplates/ticker/actor.yaml": "recurring:\n  monitor: { period: 1s }\n",
  "blueprints/a.yaml": "ticker__t:\n\nactions:\n  - action: install,start\n",
};

// deno-lint-ignore no-explicit-any
type Json = any;

for (const backend of BACKENDS) {
  describe(`a daemon pauses monitor while stopped (${backend})`, () => {
    let setup: BackendRepo;
    let daemon: ChildProcess | undefined;

    before(async () => {
      setup = await openBackendRepo(backend, { name: "pausing", prefix: "ays-e2e-pause-" });
      for (const [path, text] of Object.entries(FILES)) {
        await mkdir(join(setup.repo, path, ".."), { recursive: true });
        await writeFile(join(setup.repo, path), text);
      }
      await setup.ok("blueprint");
      await setup.ok("run");
      const port = await freePort();
      const store = setup.redis ? ["--store", setup.redis.url] : [];
      daemon = spawn(aysBinary, [...store, "daemon", "--listen", `127.0.0.1:${port}`], {
        cwd: setup.repo,
        env: { ...process.env, XDG_CONFIG_HOME: join(setup.dir.path, "cfg") },
        stdio: "ignore",
      });
    });
    after(async () => {
      daemon?.kill("SIGKILL");
      await setup?.close();
    });

    const monitorRuns = async (): Promise<number[]> => {
      const text = await readFile(join(setup.repo, "monitor.log"), "utf8").catch(() => "");
      return text.split("\n").filter(Boolean).map(Number);
    };
    const monitor = async (): Promise<Json> =>
      (await setup.json<Json>("show", "ticker:t")).actions.monitor;

    it("runs monitor while started, none after stop, again after start", async () => {
      await until(async () => (await monitorRuns()).length > 0 && (await monitor()).lastRun, {
        what: "a first monitor job while the service is started",
        timeoutMs: 30_000,
      });

      await setup.ok("do", "stop");
      const stoppedAt = Date.now();
      const state = await setup.ays("state");
      assert.match(state.stdout, /monitor +paused: start is new/);
      // Three periods with the service stopped: no monitor starts after the stop ended (one
      // that had started before it may still write its line a moment later).
      await new Promise((resolve) => setTimeout(resolve, 3_500));
      const afterStop = (await monitorRuns()).filter((at) => at > stoppedAt + 500);
      assert.deepEqual(afterStop, [], "monitor ran while the service was stopped");
      const lastRun = Date.parse((await monitor()).lastRun);
      assert.ok(lastRun <= stoppedAt, `lastRun ${lastRun} is after the stop ${stoppedAt}`);

      await setup.ok("do", "start");
      const startedAt = Date.now();
      await until(async () => (await monitorRuns()).some((at) => at >= startedAt), {
        what: "monitor again after start",
        timeoutMs: 30_000,
      });
      assert.equal((await monitor()).state, "ok");
    });
  });
}
