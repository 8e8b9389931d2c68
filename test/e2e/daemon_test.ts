/**
 * `ays daemon` through the compiled binary (docs/daemon.md), on SQLite and on a private Redis:
 * recurring actions (repeated, never overlapping, failures visible in `ays state`), runs
 * queued from the CLI and over HTTP, SIGTERM during jobs, `kill -9` with queued and started
 * runs, one daemon per repository, the token rules and the API's bodies against the CLI's
 * `--json`. Build first: `node_modules/.bin/bun build.ts`.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { JobRecord } from "../../src/model/types.ts";
import { openRepositoryStore } from "../../src/store/open.ts";
import { recurringRunId } from "../../src/store/record_keys.ts";
import {
  aysBinary,
  freePort,
  makeTempRepo,
  type RedisServer,
  runAys,
  startRedis,
  type TempDir,
} from "../helpers/mod.ts";

/** A recurring monitor that records its start and end; `count` ms long; `fail` throws. */
const TICKER_ACTIONS = `
import { appendFileSync } from "node:fs";
export async function monitor(job) {
  const file = job.repo.path + "/ticks-" + job.service.name + ".log";
  appendFileSync(file, "start " + Date.now() + "\\n");
  await new Promise((resolve) => setTimeout(resolve, Number(job.service.data.count)));
  appendFileSync(file, "end " + Date.now() + "\\n");
  if (job.service.name === "bad") throw new Error("monitor failed on purpose");
}
`;

/** An install that takes 1 s and records its start and end per service. */
const SLOW_INSTALL = `
import { appendFileSync } from "node:fs";
export async function install(job) {
  const file = job.repo.path + "/install.log";
  appendFileSync(file, "start " + job.service.name + " " + job.runId + "\\n");
  await new Promise((resolve) => setTimeout(resolve, 1000));
  appendFileSync(file, "end " + job.service.name + " " + job.runId + "\\n");
}
`;

interface LogLine {
  msg: string;
  level: string;
  [key: string]: unknown;
}

/** A daemon process with its JSON log lines. */
interface DaemonProcess {
  child: ChildProcess;
  lines: LogLine[];
  url: string;
  exited: Promise<number | null>;
  output(): string;
  waitFor(test: (line: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
}

function startDaemonProcess(args: string[], cwd: string, env: Record<string, string>) {
  const child = spawn(aysBinary, args, {
    cwd,
    env: { ...process.env as Record<string, string>, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: LogLine[] = [];
  let raw = "";
  let buffered = "";
  let stderr = "";
  const waiters: { test: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => {
    raw += chunk;
    buffered += chunk;
    const parts = buffered.split("\n");
    buffered = parts.pop()!;
    for (const text of parts) {
      let line: LogLine;
      try {
        line = JSON.parse(text);
      } catch {
        continue;
      }
      lines.push(line);
      for (const waiter of waiters.filter((w) => w.test(line))) waiter.resolve(line);
    }
  });
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const output = () => `stdout:\n${raw}\nstderr:\n${stderr}`;
  const daemon: DaemonProcess = {
    child,
    lines,
    url: "",
    exited,
    output,
    waitFor(test, what, timeoutMs = 20_000) {
      const found = lines.find(test);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${what}\n${output()}`)),
          timeoutMs,
        );
        exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`daemon exited ${code} while waiting for ${what}\n${output()}`));
        });
        waiters.push({
          test,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
      });
    },
  };
  return daemon;
}

/** Polls `check` every 100 ms until it returns a value other than undefined. */
async function waitUntil<T>(
  check: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** `start T` / `end T` lines of a ticks file as [start, end] pairs; a trailing start has end null. */
function intervals(text: string): [number, number | null][] {
  const out: [number, number | null][] = [];
  for (const line of text.trim().split("\n").filter(Boolean)) {
    const [kind, time] = line.split(" ");
    if (kind === "start") {
      // A start while the previous copy has not ended is an overlap.
      assert.ok(out.length === 0 || out[out.length - 1][1] !== null, `overlap at ${line}`);
      out.push([Number(time), null]);
    } else {
      assert.ok(out.length > 0 && out[out.length - 1][1] === null, `end without start: ${line}`);
      out[out.length - 1][1] = Number(time);
    }
  }
  return out;
}

async function readText(path: string): Promise<string> {
  return await readFile(path, "utf8").catch(() => "");
}

for (const backend of ["sqlite", "redis"] as const) {
  describe(`ays daemon on ${backend}`, () => {
    let redis: RedisServer | undefined;
    const repos: TempDir[] = [];
    const daemons: DaemonProcess[] = [];
    let cfg: TempDir;

    before(async () => {
      if (backend === "redis") redis = await startRedis();
      cfg = await makeTempRepo();
    });
    after(async () => {
      for (const daemon of daemons) {
        if (daemon.child.exitCode === null && daemon.child.signalCode === null) {
          daemon.child.kill("SIGKILL");
        }
      }
      await redis?.close();
      for (const repo of repos) await repo.remove();
      await cfg?.remove();
    });

    const env = () => ({ XDG_CONFIG_HOME: join(cfg.path, "config") });
    const storeArgs = () => redis ? ["--store", redis.url] : [];
    const ays = async (args: string[], cwd: string, code = 0) => {
      const result = await runAys([...storeArgs(), ...args], { cwd, extraEnv: env() });
      assert.equal(result.code, code, `ays ${args.join(" ")}:\n${result.stderr}${result.stdout}`);
      return result;
    };
    const json = async (args: string[], cwd: string) =>
      JSON.parse((await ays([...args, "--json"], cwd)).stdout);
    /** The recorded recurring `monitor` jobs of `ticker!<name>` for each name, oldest first. */
    const recurringJobs = async (repo: TempDir, name: string, services: string[]) => {
      const opened = await openRepositoryStore({
        repoPath: repo.path,
        repoName: `${name}-${backend}`,
        storeFlag: redis?.url,
        env: {},
      });
      try {
        const out: Record<string, JobRecord[]> = {};
        for (const service of services) {
          const jobs = await opened.store.loadJobs(
            recurringRunId(`ticker!${service}`, "monitor"),
          );
          // The copies that ran. A stop may also cancel one copy that was due but had not
          // started: it is recorded (cancelled) and wrote no tick. Only that one is left out.
          const ran = jobs.filter((job) => job.error?.message !== "cancelled before it started");
          assert.ok(jobs.length - ran.length <= 1, JSON.stringify(jobs));
          assert.ok(
            jobs.every((job) => ran.includes(job) || job.state === "cancelled"),
            JSON.stringify(jobs),
          );
          out[service] = ran;
        }
        return out;
      } finally {
        await opened.driver.close();
      }
    };
    const daemon = async (cwd: string, extra: string[] = []) => {
      const port = await freePort();
      const listen = extra.includes("--listen") ? [] : ["--listen", `127.0.0.1:${port}`];
      const d = startDaemonProcess(
        [...storeArgs(), "daemon", "--log-format", "json", ...listen, ...extra],
        cwd,
        env(),
      );
      daemons.push(d);
      const started = await d.waitFor((line) => line.msg === "daemon started", "the start");
      d.url = `http://${started.address}`;
      return d;
    };
    const stop = async (d: DaemonProcess, signal: "SIGTERM" | "SIGINT" = "SIGTERM") => {
      process.kill(d.child.pid!, signal);
      return await d.exited;
    };
    const makeRepo = async (name: string, files: Record<string, string>) => {
      const repo = await makeTempRepo({ name: `${name}-${backend}`, files });
      repos.push(repo);
      await ays(["blueprint"], repo.path);
      return repo;
    };

    it("recurring actions: period 1 s repeats, a 3 s one never overlaps, a failure is error in ays state; SIGTERM during a job lets it finish and exits 0", async () => {
      const repo = await makeRepo("recur", {
        "actorTemplates/ticker/schema.hrd": "count = type:int default:0\n",
        "actorTemplates/ticker/actions.ts": TICKER_ACTIONS,
        "blueprints/a.yaml": [
          "ticker__fast:\n  count: 0",
          "ticker__slow:\n  count: 3000",
          "ticker__bad:\n  count: 0",
          "actions:\n  - action: monitor\n    recurring: 1s\n",
        ].join("\n"),
      });
      const d = await daemon(repo.path);
      // Inside a 3 s job of `slow`: its second copy starts ~3 s in; stop at ~5.5 s, mid-job.
      await waitUntil(async () => {
        const slow = intervals(await readText(join(repo.path, "ticks-slow.log")));
        return slow.length >= 2 && Date.now() - slow[1][0] > 500 ? true : undefined;
      }, "the second copy of slow");
      const status = await json(["daemon", "status"], repo.path);
      assert.equal(status.serving, true);
      assert.equal(status.status.pid, d.child.pid);
      assert.ok(
        status.status.jobs.some((job: { service?: string }) => job.service === "ticker!slow"),
        JSON.stringify(status),
      );
      const text = await ays(["daemon", "status"], repo.path);
      assert.match(text.stdout, new RegExp(`daemon pid ${d.child.pid} on .* serves recur-`));
      assert.match(text.stdout, /recurring ticker!slow monitor, running/);

      const stoppedAt = Date.now();
      assert.equal(await stop(d), 0, d.output());
      const fast = intervals(await readText(join(repo.path, "ticks-fast.log")));
      const slow = intervals(await readText(join(repo.path, "ticks-slow.log")));
      // What the daemon recorded, not how many periods of real time went by: one job record
      // per copy that ran, each ended, under the recurring pseudo run of its action.
      const recorded = await recurringJobs(repo, "recur", ["fast", "slow", "bad"]);
      assert.equal(recorded.fast.length, fast.length, JSON.stringify(recorded.fast));
      assert.ok(fast.length >= 2, "the 1 s action repeated before the 3 s one's second copy");
      assert.ok(fast.every(([, end]) => end !== null));
      assert.ok(recorded.fast.every((job) => job.state === "ok"), JSON.stringify(recorded.fast));
      assert.ok(recorded.bad.length >= 1);
      assert.ok(recorded.bad.every((job) => job.state === "error"));
      assert.match(recorded.bad[0].error!.message, /monitor failed on purpose/);
      // Never overlapping (intervals() asserts it for the files, the records say it too),
      // and the job running at SIGTERM finished after the signal instead of being cut.
      assert.equal(recorded.slow.length, slow.length);
      assert.ok(slow.length >= 2);
      for (let i = 1; i < recorded.slow.length; i++) {
        assert.ok(recorded.slow[i].startedAt! >= recorded.slow[i - 1].endedAt!, "no overlap");
      }
      const last = recorded.slow[recorded.slow.length - 1];
      assert.equal(last.state, "ok", "the slow job running at SIGTERM ended ok");
      assert.ok(last.endedAt! >= stoppedAt, "it ended after the signal");
      assert.notEqual(slow[slow.length - 1][1], null);

      const text2 = (await ays(["state", "-i", "bad"], repo.path)).stdout;
      assert.match(text2, /monitor\s+error\s+1s/, text2);
      const good = (await ays(["state", "-i", "fast"], repo.path)).stdout;
      assert.match(good, /monitor\s+ok\s+1s\s+20\d\d-/, good);
      // Recurring jobs are not runs.
      assert.deepEqual(await json(["runs"], repo.path), []);
      // The stopped daemon cleared its status.
      assert.equal((await json(["daemon", "status"], repo.path)).serving, false);
    });

    it("runs queued from the CLI and over HTTP execute; kill -9 loses neither; one daemon per repository", async () => {
      const repo = await makeRepo("queue", {
        "actorTemplates/slow/actions.ts": SLOW_INSTALL,
        "blueprints/a.yaml": "slow__s1:\nslow__s2:\nslow__s3:\n" +
          "actions:\n  - action: install\n",
      });
      const log = join(repo.path, "install.log");
      const fromCli = (await ays(["run", "--queue", "--parallel", "1"], repo.path)).stdout.trim();
      assert.match(fromCli, /^[0-9a-f-]{36}$/);
      const d1 = await daemon(repo.path);
      const posted = await fetch(`${d1.url}/repos/queue-${backend}/runs`, {
        method: "POST",
        body: JSON.stringify({ parallel: 1 }),
      });
      assert.equal(posted.status, 202);
      const fromHttp = (await posted.json()).id as string;
      await waitUntil(
        async () => (await readText(log)).includes("start s1") ? true : undefined,
        "the first job",
      );
      d1.child.kill("SIGKILL");
      await d1.exited;
      const runs = await json(["runs"], repo.path);
      const first = runs.find((run: { id: string }) => run.id === fromCli);
      assert.ok(first && first.state === "running", JSON.stringify(runs));
      assert.ok(!runs.some((run: { id: string }) => run.id === fromHttp), "not started yet");

      const d2 = await daemon(repo.path);
      // A second daemon for the same repository is refused while d2 lives.
      const port = await freePort();
      const refused = await runAys(
        [...storeArgs(), "daemon", "--listen", `127.0.0.1:${port}`],
        { cwd: repo.path, extraEnv: env() },
      );
      assert.equal(refused.code, 3, refused.stderr + refused.stdout);
      assert.match(
        refused.stderr,
        new RegExp(`a daemon already serves repository 'queue-${backend}': pid ${d2.child.pid}`),
      );

      const done = await waitUntil(async () => {
        const list = await json(["runs"], repo.path);
        const ids = list.filter((run: { state: string }) => run.state === "ok")
          .map((run: { id: string }) => run.id);
        return ids.includes(fromCli) && ids.includes(fromHttp) ? list : undefined;
      }, "both queued runs ok");
      assert.equal(done.length, 2);
      const state = (await ays(["state"], repo.path)).stdout;
      for (const name of ["s1", "s2", "s3"]) {
        assert.match(state, new RegExp(`slow!${name}\\s+ok\\s+install\\s+ok`), state);
      }
      // The run the killed daemon started was resumed under its id: its jobs all ended.
      const detail = await json(["run", "show", fromCli], repo.path);
      assert.equal(detail.state, "ok");
      assert.ok(detail.jobs.some((job: { state: string }) => job.state === "ok"));

      // The API answers with the CLI's --json.
      const get = async (path: string) => {
        const res = await fetch(`${d2.url}${path}`);
        assert.equal(res.status, 200, path);
        return await res.json();
      };
      assert.deepEqual(await get(`/repos/queue-${backend}/runs`), await json(["runs"], repo.path));
      assert.deepEqual(await get(`/runs/${fromCli}`), detail);
      assert.deepEqual(
        await get(`/repos/queue-${backend}/services`),
        await json(["list"], repo.path),
      );
      assert.deepEqual(
        await get(`/repos/queue-${backend}/services/slow/s2`),
        await json(["show", "slow!s2"], repo.path),
      );
      assert.equal(await stop(d2, "SIGINT"), 0, d2.output());
    });

    it("SIGTERM during a queued run: the running job finishes, exit 0, the rest runs in the next daemon", async () => {
      const repo = await makeRepo("term", {
        "actorTemplates/slow/actions.ts": SLOW_INSTALL,
        "blueprints/a.yaml": "slow__s1:\nslow__s2:\nactions:\n  - action: install\n",
      });
      const log = join(repo.path, "install.log");
      const id = (await ays(["run", "--queue", "--parallel", "1"], repo.path)).stdout.trim();
      const d1 = await daemon(repo.path);
      await waitUntil(
        async () => (await readText(log)).includes("start s1") ? true : undefined,
        "the first job",
      );
      assert.equal(await stop(d1), 0, d1.output());
      // The job that was running finished; the other did not start.
      assert.equal(await readText(log), `start s1 ${id}\nend s1 ${id}\n`);
      const run = (await json(["runs"], repo.path)).find((r: { id: string }) => r.id === id);
      assert.equal(run.state, "cancelled");
      const again = d1.lines.find((line) => line.msg.includes("queued again"));
      assert.ok(again, d1.output());

      const d2 = await daemon(repo.path);
      await waitUntil(async () => {
        const list = await json(["runs"], repo.path);
        return list.some((r: { id: string; state: string }) =>
            r.id === again!.again && r.state === "ok"
          )
          ? true
          : undefined;
      }, "the queued-again run");
      assert.equal(await stop(d2), 0, d2.output());
      assert.match(await readText(log), /end s2 /);
      assert.match((await ays(["state"], repo.path)).stdout, /slow!s2\s+ok\s+install\s+ok/);
    });

    it("token rules, 401 and 400 answers, /health without a token, exit 2 and exit 4", async () => {
      const repo = await makeRepo("api", {
        "actorTemplates/plain/schema.hrd": "x = type:int default:1\n",
        "blueprints/a.yaml": "plain__p1:\n",
      });
      const port = await freePort();
      const bare = await runAys([...storeArgs(), "daemon", "--listen", `0.0.0.0:${port}`], {
        cwd: repo.path,
        extraEnv: env(),
      });
      assert.equal(bare.code, 2, bare.stderr);
      assert.match(bare.stderr, /without a token/);

      const d = await daemon(repo.path, ["--listen", `0.0.0.0:${port}`, "--token", "s3cr3t-tok"]);
      const base = `http://127.0.0.1:${port}`;
      const health = await fetch(`${base}/health`);
      assert.equal(health.status, 200);
      assert.equal((await health.json()).status, "ok");
      const missing = await fetch(`${base}/repos`);
      assert.equal(missing.status, 401);
      assert.match(missing.headers.get("www-authenticate") ?? "", /^Bearer/);
      const wrong = await fetch(`${base}/repos/nope/services`, {
        headers: { authorization: "Bearer nope" },
      });
      assert.equal(wrong.status, 401, "401 comes before 404");
      const auth = { authorization: "Bearer s3cr3t-tok" };
      const listed = await fetch(`${base}/repos`, { headers: auth });
      assert.equal(listed.status, 200);
      assert.deepEqual((await listed.json()).map((r: { name: string }) => r.name), [
        `api-${backend}`,
      ]);
      const bad = await fetch(`${base}/repos/api-${backend}/runs`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ parallel: 0, colour: "red" }),
      });
      assert.equal(bad.status, 400);
      const message = (await bad.json()).error.message as string;
      assert.match(message, /^invalid run request: /);
      assert.match(message, /parallel/);
      const notJson = await fetch(`${base}/repos/api-${backend}/runs`, {
        method: "POST",
        headers: auth,
        body: "{",
      });
      assert.equal(notJson.status, 400);
      const unknown = await fetch(`${base}/repos/nope/services`, { headers: auth });
      assert.equal(unknown.status, 404);

      // The port is taken by d: exit 4 (another repository, so it is not refused first).
      const other = await makeRepo("other", {});
      const taken = await runAys(
        [...storeArgs(), "daemon", "--listen", `127.0.0.1:${port}`],
        { cwd: other.path, extraEnv: env() },
      );
      assert.equal(taken.code, 4, taken.stderr);
      assert.match(taken.stderr, /port is in use/);
      assert.equal(await stop(d), 0, d.output());
      assert.doesNotMatch(d.output(), /s3cr3t-tok/);
    });

    it("one daemon serves several repositories (--repo repeated)", async () => {
      const files = {
        "actorTemplates/slow/actions.ts": SLOW_INSTALL,
        "blueprints/a.yaml": "slow__one:\nactions:\n  - action: install\n",
      };
      const a = await makeRepo("multi-a", files);
      const b = await makeRepo("multi-b", files);
      const idA = (await ays(["run", "--queue"], a.path)).stdout.trim();
      const d = await daemon(a.path, ["--repo", a.path, "--repo", b.path]);
      const res = await fetch(`${d.url}/repos`);
      assert.deepEqual((await res.json()).map((r: { name: string }) => r.name), [
        `multi-a-${backend}`,
        `multi-b-${backend}`,
      ]);
      const idB = (await ays(["run", "--queue"], b.path)).stdout.trim();
      for (const [repo, id] of [[a, idA], [b, idB]] as const) {
        await waitUntil(async () => {
          const runs = await json(["runs"], repo.path);
          return runs.some((r: { id: string; state: string }) => r.id === id && r.state === "ok")
            ? true
            : undefined;
        }, `the run of ${repo.path}`);
        assert.equal((await json(["daemon", "status"], repo.path)).serving, true);
      }
      assert.equal(await stop(d), 0, d.output());
    });

    it("ays run --queue validates like the API and prints the id as JSON", async () => {
      const repo = await makeRepo("cliq", {});
      const bad = await runAys([...storeArgs(), "run", "--queue", "-i", "("], {
        cwd: repo.path,
        extraEnv: env(),
      });
      assert.equal(bad.code, 2, bad.stderr);
      // A role the repository does not have is refused now, not dropped by the daemon later.
      const unknown = await runAys([...storeArgs(), "run", "--queue", "-r", "node"], {
        cwd: repo.path,
        extraEnv: env(),
      });
      assert.equal(unknown.code, 2, unknown.stderr);
      assert.match(unknown.stderr, /unknown role or actor 'node'/);
      const queued = await json(["run", "--queue"], repo.path);
      assert.match(queued.id, /^[0-9a-f-]{36}$/);
    });
  });
}
