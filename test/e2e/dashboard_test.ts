/**
 * The web dashboard in a real browser: Debian's `/usr/bin/chromium`, driven by `puppeteer-core`
 * (never a downloaded browser), against `dist/ays daemon`. The page lists the services of a
 * repository; `ays run --queue` makes it show the run's jobs going from running to ok without a
 * reload; a failed job's message is shown; behind a token the page asks for it once and the API
 * refuses requests without the session cookie or with a forged Origin. The page loads nothing
 * but the daemon's own files (every other request is blocked and counted).
 *
 * Screenshots go to the test's temporary folder, or to `docs/images/` with
 * `AYS_SCREENSHOTS=1` (how docs/dashboard.md's were made). Without chromium the tests skip with
 * a message, except under `CI=true`, where that is a failure. Build first: `bun build.ts`.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { openRepoEvents } from "../../src/events/mod.ts";
import { openRepositoryStore } from "../../src/store/open.ts";
import {
  aysBinary,
  freePort,
  makeTempDir,
  makeTempRepo,
  projectRoot,
  type RedisServer,
  runAys,
  startRedis,
  type TempDir,
} from "../helpers/mod.ts";

const CHROMIUM = "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI === "true") {
  throw new Error(`${CHROMIUM} is missing (CI=true): install Debian's chromium`);
}
const skip = haveChromium ? false : `${CHROMIUM} is missing: the dashboard browser tests skip`;
if (skip) console.warn(skip);

/** Installs wait for the file `go` in the repository, so the test sees them running. */
const ACTIONS = `
import { existsSync } from "node:fs";
export async function install(job) {
  job.log("installing " + job.service.name);
  while (!existsSync(job.repo.path + "/go")) await new Promise((r) => setTimeout(r, 50));
  if (job.service.name === "bad") throw new Error("install failed on purpose: disk full");
  job.log("installed " + job.service.name);
}
export async function monitor(job) {}
`;

const FILES = {
  "actorTemplates/db/schema.hrd": "size = type:int default:1\n",
  "actorTemplates/db/actions.js": ACTIONS,
  "actorTemplates/app/schema.hrd": "db = consume:db:1:1 auto\nport = type:int default:80\n",
  "actorTemplates/app/actions.js": ACTIONS,
  "blueprints/a.yaml": [
    "db__main:",
    "app__web:\n  db: main",
    "app__api:\n  db: main",
    "app__bad:\n  db: main",
    "actions:",
    "  - action: install",
    "",
  ].join("\n"),
};

/**
 * Clicks the element `selector` names inside the page, in one step: the page re-renders as
 * events arrive, so an element handle taken first may be gone when puppeteer clicks it.
 */
async function clickIn(page: Page, selector: string): Promise<void> {
  await page.waitForSelector(selector);
  await page.$eval(selector, (el) => (el as HTMLElement).click());
}

/** A daemon process of `dist/ays`, started and stopped by the test. */
interface Daemon {
  child: ChildProcess;
  url: string;
  log(): string;
}

async function startDaemon(cwd: string, env: Record<string, string>, extra: string[] = []) {
  const port = await freePort();
  const child = spawn(
    aysBinary,
    ["daemon", "--listen", `127.0.0.1:${port}`, "--log-format", "json", ...extra],
    { cwd, env: { ...process.env as Record<string, string>, ...env }, stdio: "pipe" },
  );
  let out = "";
  child.stdout!.on("data", (chunk) => (out += String(chunk)));
  child.stderr!.on("data", (chunk) => (out += String(chunk)));
  const daemon: Daemon = { child, url: `http://127.0.0.1:${port}`, log: () => out };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon did not start:\n${out}`)), 30_000);
    const check = () => {
      if (out.includes('"daemon started"')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited ${code}:\n${out}`));
    });
  });
  return daemon;
}

async function stopDaemon(daemon: Daemon | undefined): Promise<void> {
  if (!daemon || daemon.child.exitCode !== null || daemon.child.signalCode !== null) return;
  const exited = new Promise((resolve) => daemon.child.once("exit", resolve));
  daemon.child.kill("SIGTERM");
  const timer = setTimeout(() => daemon.child.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Names the steps of a long browser test: a step that fails (a wait that timed out, most often)
 * is reported with its name, how long it took, what the page showed then and the end of the
 * daemon's log, so that a failure seen once under load says where it was. With
 * `AYS_E2E_STEPS=1` each step's duration is written to stderr.
 */
function stepper(page: Page, daemon: Daemon) {
  // What the page asked the daemon and what it printed, last first in a failure: whether a
  // click sent its request, and what came back (a toast is gone by the time a wait times out).
  const traffic: string[] = [];
  const keep = (line: string) => {
    traffic.push(line);
    if (traffic.length > 30) traffic.shift();
  };
  page.on("response", (response) => {
    const request = response.request();
    if (request.resourceType() === "fetch" || request.resourceType() === "xhr") {
      keep(`${request.method()} ${new URL(response.url()).pathname} → ${response.status()}`);
    }
  });
  page.on("requestfailed", (request) => {
    keep(`${request.method()} ${request.url()} failed: ${request.failure()?.errorText}`);
  });
  page.on("console", (message) => {
    const type = message.type();
    if (type === "error" || type === "warn") keep(`console.${type}: ${message.text()}`);
  });
  page.on("pageerror", (error) => keep(`page error: ${(error as Error).message}`));
  return async <T>(name: string, body: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      const value = await body();
      if (process.env.AYS_E2E_STEPS === "1") {
        console.error(`step ${name}: ${Math.round(performance.now() - started)} ms`);
      }
      return value;
    } catch (error) {
      const shown = await page.evaluate(() => ({
        url: location.href,
        live: document.getElementById("live")?.textContent ?? null,
        login: document.querySelector("dialog#login")?.hasAttribute("open") ?? null,
        loginError: document.getElementById("login-error")?.textContent ?? null,
        toast: document.getElementById("toast")?.textContent ?? null,
        main: (document.getElementById("main")?.textContent ?? "").slice(0, 600),
      })).catch((e: Error) => `(the page could not be read: ${e.message})`);
      const ms = Math.round(performance.now() - started);
      throw new Error(
        `step "${name}" failed after ${ms} ms: ${(error as Error).message}\n` +
          `the page: ${JSON.stringify(shown)}\n` +
          `its requests and console, last lines:\n${traffic.join("\n")}\n` +
          `the daemon's log, last lines:\n` +
          daemon.log().split("\n").slice(-40).join("\n"),
        { cause: error },
      );
    }
  };
}

/** Opens chromium (bounded start), runs `body`, and always closes it. */
async function withBrowser(
  daemonUrl: string,
  body: (page: Page, blocked: string[]) => Promise<void>,
): Promise<void> {
  const browser: Browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    protocolTimeout: 60_000,
    args: [
      ...(process.getuid?.() === 0 ? ["--no-sandbox"] : []),
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--no-first-run",
      "--window-size=1400,900",
    ],
    defaultViewport: { width: 1400, height: 900 },
  });
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(30_000);
    // Offline: only the daemon answers; anything else (a CDN, a font) is blocked and counted.
    const blocked: string[] = [];
    await page.setRequestInterception(true);
    page.on("request", (request) => {
      if (request.url().startsWith(daemonUrl + "/")) void request.continue();
      else {
        blocked.push(request.url());
        void request.abort();
      }
    });
    await body(page, blocked);
  } finally {
    await browser.close();
  }
}

describe("the web dashboard in chromium", { skip }, () => {
  let cfg: TempDir;
  let shots: string;
  const repos: TempDir[] = [];

  before(async () => {
    cfg = await makeTempDir("ays-dash-e2e-");
    shots = process.env.AYS_SCREENSHOTS === "1"
      ? join(projectRoot, "docs", "images")
      : join(cfg.path, "shots");
    await mkdir(shots, { recursive: true });
  });
  after(async () => {
    for (const repo of repos) await repo.remove();
    await cfg?.remove();
  });

  const env = () => ({ XDG_CONFIG_HOME: join(cfg.path, "config") });
  const ays = async (cwd: string, ...args: string[]) => {
    const result = await runAys(args, { cwd, extraEnv: env() });
    assert.equal(result.code, 0, `ays ${args.join(" ")}:\n${result.stderr}${result.stdout}`);
    return result;
  };
  const newRepo = async (name: string) => {
    const repo = await makeTempRepo({ name, files: FILES });
    repos.push(repo);
    await ays(repo.path, "blueprint");
    return repo;
  };

  it("lists the services of a repository, filters them and draws the graph", async () => {
    const repo = await newRepo("shop");
    const listed = JSON.parse((await ays(repo.path, "list", "--json")).stdout) as {
      role: string;
      name: string;
    }[];
    const daemon = await startDaemon(repo.path, env());
    try {
      await withBrowser(daemon.url, async (page, blocked) => {
        await page.goto(`${daemon.url}/ui/`);
        await page.waitForSelector('tr[data-service="app!web"]');
        const names = await page.$$eval(
          "tr[data-service]",
          (rows) => rows.map((row) => row.getAttribute("data-service")),
        );
        assert.deepEqual(names, listed.map((s) => `${s.role}!${s.name}`));
        await page.screenshot({ path: join(shots, "dashboard-services.png") });

        await page.type("#service-filter", "db");
        await page.waitForFunction(() =>
          document.querySelectorAll("tr[data-service]").length === 1
        );
        assert.deepEqual(
          await page.$$eval(
            "tr[data-service]",
            (rows) => rows.map((r) => r.getAttribute("data-service")),
          ),
          ["db!main"],
        );

        await clickIn(page, 'button[data-tab="graph"]');
        await clickIn(page, "#graph-draw");
        await page.waitForSelector("#graph-canvas svg g.node");
        const nodes = await page.$$eval(
          "#graph-canvas g.node",
          (gs) => gs.map((g) => g.getAttribute("data-node")).sort(),
        );
        assert.deepEqual(nodes, [
          "app!api:install",
          "app!bad:install",
          "app!web:install",
          "db!main:install",
        ]);
        assert.equal(await page.$$eval("#graph-canvas path.edge", (paths) => paths.length), 3);
        await page.screenshot({ path: join(shots, "dashboard-graph.png") });
        assert.deepEqual(blocked, [], "the page asked for something outside the daemon");
      });
      // No token: a page whose name was rebound to 127.0.0.1 gets nothing, the stream neither.
      const { request } = await import("node:http");
      for (const path of ["/events?repo=shop", "/repos/shop/services", "/ui/"]) {
        const status = await new Promise<number>((resolve, reject) => {
          request(daemon.url + path, { headers: { host: "evil.example" } }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          }).on("error", reject).end();
        });
        assert.equal(status, 403, path);
      }
    } finally {
      await stopDaemon(daemon);
    }
  });

  it("`ays run --queue`: the page shows the jobs going from running to ok, and a failure's message, without a reload", async () => {
    const repo = await newRepo("live");
    const daemon = await startDaemon(repo.path, env());
    try {
      await withBrowser(daemon.url, async (page, blocked) => {
        await page.goto(`${daemon.url}/ui/#tab=runs`);
        await page.waitForSelector("#queue-form");
        await page.waitForFunction(() => document.getElementById("live")?.textContent === "live");
        // A reload would lose this.
        await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));

        const queued = (await ays(repo.path, "run", "--queue")).stdout.trim();
        assert.match(queued, /\S/);
        const job = (name: string, state: string) =>
          `#jobs tr[data-job-name="${name} install"][data-state="${state}"]`;
        await page.waitForSelector(job("db!main", "running"));
        await page.screenshot({ path: join(shots, "dashboard-run-running.png") });
        await writeFile(join(repo.path, "go"), "");
        await page.waitForSelector(job("db!main", "ok"));
        await page.waitForSelector(job("app!web", "ok"));
        await page.waitForSelector(job("app!api", "ok"));
        await page.waitForSelector(job("app!bad", "error"));
        const message = await page.$eval(
          `${job("app!bad", "error")} .job-error`,
          (cell) => cell.textContent,
        );
        assert.equal(message, "install failed on purpose: disk full");
        await page.waitForSelector('#run-detail [data-state="error"]');
        assert.equal(
          await page.evaluate(() => (window as unknown as { marker: number }).marker),
          42,
        );
        await page.screenshot({ path: join(shots, "dashboard-run.png") });

        // The job's log, and the failure on the services list.
        await clickIn(page, job("app!bad", "error"));
        await page.waitForSelector("#job-log");
        assert.match(
          await page.$eval("#job-log", (pre) => pre.textContent ?? ""),
          /installing bad/,
        );
        assert.match(
          await page.$eval("#job-error", (pre) => pre.textContent ?? ""),
          /install failed on purpose: disk full/,
        );
        await page.screenshot({ path: join(shots, "dashboard-job.png") });
        await clickIn(page, "#panel-close");
        await clickIn(page, 'button[data-tab="services"]');
        await page.waitForFunction(() =>
          document.querySelector('tr[data-service="app!bad"] .error')?.textContent?.includes(
            "install: install failed on purpose: disk full",
          )
        );

        // The service's "do install" button queues `ays do install` for that one service; the
        // new run opens by itself and fails again, live.
        const first = queued;
        await clickIn(page, 'tr[data-service="app!bad"]');
        await page.waitForSelector('button[data-do="install"]:not([disabled])');
        assert.equal(await page.$('button[data-do="start"][disabled]'), null, "start is new");
        await clickIn(page, 'button[data-do="install"]');
        await clickIn(page, "#panel-close");
        await clickIn(page, 'button[data-tab="runs"]');
        await page.waitForFunction(
          (old) => {
            const open = document.querySelector("#run-detail [data-run]");
            return open !== null && open.getAttribute("data-run") !== old &&
              open.getAttribute("data-state") === "error";
          },
          {},
          first,
        );
        assert.deepEqual(
          await page.$$eval(
            "#jobs tr[data-job-name]",
            (rows) =>
              rows.map((r) => `${r.getAttribute("data-job-name")} ${r.getAttribute("data-state")}`),
          ),
          ["app!bad install error"],
        );
        assert.equal(
          await page.evaluate(() => (window as unknown as { marker: number }).marker),
          42,
        );
        assert.deepEqual(blocked, []);
      });
      const runs = JSON.parse((await ays(repo.path, "runs", "--json")).stdout);
      assert.deepEqual(runs.map((run: { state: string }) => run.state), ["error", "error"]);
      assert.deepEqual(runs[0].scope, { action: "install", role: "app", instance: "bad" });
    } finally {
      await stopDaemon(daemon);
    }
  });

  it("events another process stores reach the page live: a run drawn from its events alone", async () => {
    const repo = await newRepo("stream");
    const daemon = await startDaemon(repo.path, env());
    const opened = await openRepositoryStore({
      repoPath: repo.path,
      repoName: "stream",
      env: {},
      mirror: false,
    });
    try {
      const { writer } = openRepoEvents(opened.driver, { repo: "stream" });
      await withBrowser(daemon.url, async (page, blocked) => {
        await page.goto(`${daemon.url}/ui/#tab=runs`);
        await page.waitForFunction(() => document.getElementById("live")?.textContent === "live");
        await page.evaluate(() => ((window as unknown as { marker: number }).marker = 7));
        // A run no store record backs: the page draws it from the events alone.
        const runId = "20261201-synthetic";
        const job = (n: number) => `${runId}.00000${n}`;
        const row = (name: string, state: string) =>
          `#jobs tr[data-job-name="${name}"][data-state="${state}"]`;
        writer.publish({ type: "run.started", runId, jobs: 2 });
        writer.publish({
          type: "job.started",
          runId,
          jobId: job(1),
          service: "db!main",
          action: "install",
          attempt: 1,
        });
        await writer.flush();
        await page.waitForSelector(row("db!main install", "running"));
        writer.publish({
          type: "job.ended",
          runId,
          jobId: job(1),
          service: "db!main",
          action: "install",
          state: "ok",
          durationMs: 120,
        });
        writer.publish({
          type: "job.started",
          runId,
          jobId: job(2),
          service: "app!web",
          action: "install",
          attempt: 1,
        });
        writer.publish({
          type: "job.ended",
          runId,
          jobId: job(2),
          service: "app!web",
          action: "install",
          state: "error",
          error: "synthetic failure\nsecond line",
          durationMs: 80,
        });
        writer.publish({
          type: "run.ended",
          runId,
          state: "error",
          exitCode: 1,
          counts: { ok: 1, error: 1 },
        });
        await writer.flush();
        await page.waitForSelector(row("db!main install", "ok"));
        await page.waitForSelector(`#run-detail [data-run="${runId}"][data-state="error"]`);
        assert.equal(
          await page.$eval(`${row("app!web install", "error")} .job-error`, (td) => td.textContent),
          "synthetic failure",
        );
        assert.equal(
          await page.evaluate(() => (window as unknown as { marker: number }).marker),
          7,
        );
        assert.deepEqual(blocked, []);
      });
    } finally {
      await opened.driver.close();
      await stopDaemon(daemon);
    }
  });

  it("the Workers tab lists the fleet's workers live; a SQLite repository says the fleet needs Redis", async () => {
    let redis: RedisServer | undefined;
    let daemon: Daemon | undefined;
    let worker: ChildProcess | undefined;
    try {
      redis = await startRedis();
      const onRedis = await makeTempRepo({ name: "fleetdash", files: FILES });
      repos.push(onRedis);
      await writeFile(
        join(onRedis.path, ".ays", "config.yaml"),
        `name: fleetdash\nstore: ${redis.url}\n`,
      );
      await ays(onRedis.path, "blueprint");
      const onSqlite = await newRepo("localonly");
      daemon = await startDaemon(onRedis.path, env(), [
        "--repo",
        onRedis.path,
        "--repo",
        onSqlite.path,
      ]);
      const url = daemon.url;
      await withBrowser(url, async (page, blocked) => {
        await page.goto(`${url}/ui/#repo=fleetdash&tab=workers`);
        await page.waitForFunction(() =>
          document.querySelector("#workers")?.textContent?.includes("no workers in the fleet")
        );
        await page.evaluate(() => ((window as unknown as { marker: number }).marker = 17));

        // A worker starts: its row appears without a reload, live, with its labels.
        worker = spawn(aysBinary, [
          "worker",
          "--store",
          redis!.url,
          "--name",
          "dash-w1",
          "--label",
          "db",
          "--concurrency",
          "3",
        ], {
          env: { ...process.env as Record<string, string>, XDG_CACHE_HOME: join(cfg.path, "wc") },
          stdio: "ignore",
        });
        await page.waitForSelector('#workers tr[data-worker="dash-w1"] [data-state="live"]', {
          timeout: 60_000,
        });
        const row = await page.$eval(
          '#workers tr[data-worker="dash-w1"]',
          (tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent),
        );
        assert.equal(row[0], "dash-w1");
        assert.equal(row[2], "db, default");
        assert.equal(row[3], "3");
        assert.equal(row[6], "live");
        assert.equal(
          await page.evaluate(() => (window as unknown as { marker: number }).marker),
          17,
        );
        await page.screenshot({ path: join(shots, "dashboard-workers.png") });
        // The same list as ays workers --json.
        const listed = JSON.parse((await ays(onRedis.path, "workers", "--json")).stdout) as {
          name: string;
        }[];
        assert.deepEqual(listed.map((w) => w.name), ["dash-w1"]);

        // It stops: it leaves the fleet, and the page says so.
        const exited = new Promise((resolve) => worker!.once("exit", resolve));
        worker!.kill("SIGTERM");
        await exited;
        worker = undefined;
        await page.waitForFunction(
          () =>
            document.querySelector("#workers")?.textContent?.includes("no workers in the fleet"),
          { timeout: 60_000 },
        );

        // A SQLite repository has no fleet: the tab says why, not as an error.
        await page.select("#repo", "localonly");
        await page.waitForFunction(() =>
          document.querySelector("#workers p")?.textContent?.startsWith("the fleet needs")
        );
        const note = await page.$eval("#workers p.muted", (p) => p.textContent ?? "");
        assert.match(note, /^the fleet needs a Redis store shared with its workers/);
        assert.equal(await page.$("#workers p.error"), null);
        assert.deepEqual(blocked, []);
      });
    } finally {
      worker?.kill("SIGKILL");
      await stopDaemon(daemon);
      await redis?.close();
    }
  });

  it("with a token the page asks for it once; the API refuses no cookie and a forged Origin", async () => {
    const repo = await newRepo("guarded");
    const token = "e2e-dashboard-token";
    const daemon = await startDaemon(repo.path, env(), ["--token", token]);
    try {
      await withBrowser(daemon.url, async (page) => {
        const step = stepper(page, daemon);
        await step("the page asks for the token", async () => {
          await page.goto(`${daemon.url}/ui/`);
          await page.waitForSelector("dialog#login[open]");
        });
        await step("a wrong token is refused", async () => {
          await page.type("#token", "wrong");
          await clickIn(page, "#login-submit");
          await page.waitForFunction(() =>
            document.getElementById("login-error")?.textContent === "wrong token"
          );
        });
        await page.screenshot({ path: join(shots, "dashboard-login.png") });
        await step("the right token opens the page", async () => {
          await page.$eval("#token", (input) => ((input as HTMLInputElement).value = ""));
          await page.type("#token", token);
          await clickIn(page, "#login-submit");
          await page.waitForSelector('tr[data-service="app!web"]');
        });
        assert.equal(await page.$("dialog#login[open]"), null);

        const cookies = await page.browserContext().cookies();
        const session = cookies.find((c) => c.name === "ays_session");
        assert.ok(session, "the session cookie is set");
        assert.equal(session.httpOnly, true);
        assert.equal(session.sameSite, "Strict");
        // HttpOnly: the page's scripts never see it.
        assert.equal(await page.evaluate(() => document.cookie.includes("ays_session")), false);
        // A reload keeps the session: the page does not ask again.
        await step("a reload keeps the session", async () => {
          await page.reload();
          await page.waitForSelector('tr[data-service="app!web"]');
        });
        assert.equal(await page.$("dialog#login[open]"), null);
        // From the page itself a change without the dashboard's header is refused.
        const status = await page.evaluate(
          async (repoName) =>
            (await fetch(`/repos/${repoName}/runs`, { method: "POST", body: "{}" })).status,
          "guarded",
        );
        assert.equal(status, 403);

        const cookie = `ays_session=${session.value}`;
        const post = (headers: Record<string, string>) =>
          fetch(`${daemon.url}/repos/guarded/runs`, { method: "POST", body: "{}", headers });
        const noCookie = await post({ "x-ays-request": "1", origin: daemon.url });
        assert.equal(noCookie.status, 401);
        await noCookie.body?.cancel();
        const forged = await post({ cookie, "x-ays-request": "1", origin: "http://evil.example" });
        assert.equal(forged.status, 403);
        assert.match(
          await forged.text(),
          /cross-site request refused: Origin http:\/\/evil\.example/,
        );
        const reads = await fetch(`${daemon.url}/repos/guarded/services`);
        assert.equal(reads.status, 401);
        await reads.body?.cancel();
        // Nothing was queued by the refused requests.
        assert.deepEqual(JSON.parse((await ays(repo.path, "runs", "--json")).stdout), []);

        // Signed in, the page's own "Queue a run" goes through and its run ends ok, live. As in
        // the tests above, queue once the event stream is open: a run that starts before it
        // is not followed (under load, a run queued right after the reload was missed).
        await step(
          "the event stream is open",
          () => page.waitForFunction(() => document.getElementById("live")?.textContent === "live"),
        );
        await writeFile(join(repo.path, "go"), "");
        await step("the runs tab shows its form", async () => {
          await clickIn(page, 'button[data-tab="runs"]');
          await page.waitForSelector("#queue-role");
        });
        // Set in one step: the runs view re-renders as its list loads, which a slow `type` races.
        await page.$eval("#queue-role", (input) => {
          (input as HTMLInputElement).value = "db";
          input.dispatchEvent(new Event("input"));
        });
        await step("the queued run opens and ends ok", async () => {
          await clickIn(page, "#queue-run");
          await page.waitForSelector('#run-detail [data-state="ok"]');
        });
        assert.deepEqual(
          await page.$$eval(
            "#jobs tr[data-job-name]",
            (rows) =>
              rows.map((r) => `${r.getAttribute("data-job-name")} ${r.getAttribute("data-state")}`),
          ),
          ["db!main install ok"],
        );
      });
      const runs = JSON.parse((await ays(repo.path, "runs", "--json")).stdout);
      assert.deepEqual(runs.map((run: { scope: unknown }) => run.scope), [{ role: "db" }]);
    } finally {
      await stopDaemon(daemon);
    }
    assert.doesNotMatch(daemon.log(), new RegExp(token), "the token never reaches the log");
  });
});
