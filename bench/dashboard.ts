/**
 * The web dashboard at 1,000 services (docs/dashboard.md, "At 1,000 services"): a repository of
 * one `db` and 999 `app`s consuming it, served by `dist/ays daemon`; the time of the dashboard's
 * API routes, and in Debian's chromium (puppeteer-core) the time from opening the page to its
 * first 50 rows, of a filter keystroke, and of drawing the graph of 300 and of 1,000 jobs.
 * Times measured from this process include the browser protocol's round trips.
 *
 * Usage: `bun build.ts && bun bench/dashboard.ts [--services N]`. Writes
 * `bench/results/dashboard.json`.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import puppeteer from "puppeteer-core";
import { printTable, type Row, stats, writeResults } from "./stats.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const binary = join(root, "dist", "ays");
const CHROMIUM = "/usr/bin/chromium";
const countArg = process.argv.indexOf("--services");
const count = countArg > 0 ? Number(process.argv[countArg + 1]) : 1000;
if (!existsSync(binary)) throw new Error(`${binary} is missing: run bun build.ts`);
if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

function ays(args: string[], cwd: string, env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { cwd, env: { ...process.env, ...env }, stdio: "pipe" });
    let err = "";
    child.stderr.on("data", (chunk) => (err += String(chunk)));
    child.once("exit", (code) => code === 0 ? resolve() : reject(new Error(`ays ${args}: ${err}`)));
  });
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

async function series(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await time(fn));
  return out;
}

const dir = await mkdtemp(join(tmpdir(), "ays-bench-dashboard-"));
const repo = join(dir, "big");
const env = { XDG_CONFIG_HOME: join(dir, "config") };
const actions = "export async function install(job) {}\nexport async function monitor(job) {}\n";
const files: Record<string, string> = {
  ".ays/config.yaml": "name: big\n",
  "actorTemplates/db/schema.hrd": "size = type:int default:1\n",
  "actorTemplates/db/actions.js": actions,
  "actorTemplates/app/schema.hrd": "db = consume:db:1:1 auto\n",
  "actorTemplates/app/actions.js": actions,
  "blueprints/a.yaml": [
    "db__main:",
    ...Array.from(
      { length: count - 1 },
      (_, i) => `app__a${String(i).padStart(4, "0")}:\n  db: main`,
    ),
    "actions:",
    "  - action: install",
    "",
  ].join("\n"),
};
for (const [path, text] of Object.entries(files)) {
  await mkdir(dirname(join(repo, path)), { recursive: true });
  await writeFile(join(repo, path), text);
}
const rows: Row[] = [];
const daemonPort = await freePort();
const url = `http://127.0.0.1:${daemonPort}`;
const daemon = spawn(binary, ["daemon", "--listen", `127.0.0.1:${daemonPort}`], {
  cwd: repo,
  env: { ...process.env, ...env },
  stdio: "pipe",
});
try {
  await ays(["blueprint"], repo, env);
  await new Promise<void>((resolve, reject) => {
    let out = "";
    daemon.stdout.on("data", (chunk) => {
      out += String(chunk);
      if (out.includes("daemon started")) resolve();
    });
    daemon.once("exit", (code) => reject(new Error(`daemon exited ${code}: ${out}`)));
  });
  const get = (path: string) => async () => {
    const res = await fetch(url + path);
    if (!res.ok) throw new Error(`${path}: ${res.status}`);
    await res.arrayBuffer();
  };
  const api: [string, string][] = [
    ["GET /ui/api/…/services", "/ui/api/repos/big/services"],
    ["GET /ui/api/…/graph limit=300", "/ui/api/repos/big/graph?action=install&limit=300"],
    ["GET /ui/api/…/graph limit=2000", "/ui/api/repos/big/graph?action=install&limit=2000"],
    ["GET /ui/api/…/recurring", "/ui/api/repos/big/recurring"],
  ];
  for (const [name, path] of api) {
    await get(path)();
    rows.push({ name, stats: stats(await series(5, get(path))), unit: "ms" });
  }

  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    args: [...(process.getuid?.() === 0 ? ["--no-sandbox"] : []), "--disable-gpu"],
    defaultViewport: { width: 1400, height: 900 },
  });
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(60_000);
    const open: number[] = [];
    for (let i = 0; i < 3; i++) {
      open.push(
        await time(async () => {
          await page.goto(`${url}/ui/`);
          await page.waitForFunction(() =>
            document.querySelectorAll("tr[data-service]").length === 50
          );
        }),
      );
    }
    rows.push({ name: `page open → 50 of ${count} rows`, stats: stats(open), unit: "ms" });
    const filter: number[] = [];
    for (const [i, text] of ["a09", "a099", "a0998"].entries()) {
      filter.push(
        await time(async () => {
          await page.$eval("#service-filter", (input) => ((input as HTMLInputElement).value = ""));
          await page.type("#service-filter", text);
          await page.waitForFunction(
            (n) => document.querySelectorAll("tr[data-service]").length === n,
            {},
            [50, 9, 1][i],
          );
        }),
      );
    }
    rows.push({ name: "filter typed (3–5 keys) → rows", stats: stats(filter), unit: "ms" });
    await page.click('button[data-tab="graph"]');
    for (const limit of [300, 1000]) {
      const draws: number[] = [];
      for (let i = 0; i < 3; i++) {
        await page.$eval("#graph-limit", (input, l) => {
          (input as HTMLInputElement).value = String(l);
          input.dispatchEvent(new Event("input"));
        }, limit);
        await page.$eval("#graph-canvas", (el) => el.replaceChildren());
        draws.push(
          await time(async () => {
            await page.click("#graph-draw");
            await page.waitForFunction(
              (n) => document.querySelectorAll("#graph-canvas g.node").length === n,
              {},
              limit,
            );
          }),
        );
      }
      rows.push({
        name: `graph: plan + layout + draw ${limit} jobs`,
        stats: stats(draws),
        unit: "ms",
      });
    }
  } finally {
    await browser.close();
  }
} finally {
  daemon.kill("SIGTERM");
  await new Promise((resolve) => daemon.once("exit", resolve));
  await rm(dir, { recursive: true, force: true });
}
printTable(`dashboard at ${count} services (dist/ays, chromium headless)`, rows);
const path = await writeResults("dashboard", { services: count, rows });
console.log(`\nwrote ${path}`);
