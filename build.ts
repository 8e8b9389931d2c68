/**
 * Builds ays:
 * - `dist/ays.js` (+ `dist/workers/*.js`): a portable esbuild bundle for `deno run -A` or `bun`,
 *   with no `node_modules` needed;
 * - `dist/ays`: a self-contained executable made by `bun build --compile`, with every worker
 *   entry of `workers/` embedded as an extra entry point (without them `new Worker()` fails
 *   with "ModuleNotFound" inside the binary);
 * - before both, `src/dashboard/assets_embedded.ts`: the web dashboard's files
 *   (`scripts/dashboard_assets.ts`), rewritten when `src/dashboard/client/` changed.
 *
 * Usage: `bun build.ts [--target linux-x64|linux-arm64|…] [--no-binary] [--outfile PATH]`.
 * Runs under Bun or Deno; `bun` is taken from `node_modules/.bin` when present.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, rm, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { writeDashboardAssets } from "./scripts/dashboard_assets.ts";

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, "dist");

interface BuildArgs {
  target?: string;
  binary: boolean;
  outfile: string;
}

function parseArgs(argv: string[]): BuildArgs {
  const args: BuildArgs = { binary: true, outfile: join(dist, "ays") };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--target") args.target = argv[++i];
    else if (arg.startsWith("--target=")) args.target = arg.slice("--target=".length);
    else if (arg === "--no-binary") args.binary = false;
    else if (arg === "--outfile") args.outfile = resolve(argv[++i]);
    else throw new Error(`build.ts: unknown argument ${arg}`);
  }
  if (args.target && !args.target.startsWith("bun-")) args.target = `bun-${args.target}`;
  if (args.target && args.outfile === join(dist, "ays")) {
    args.outfile = join(dist, `ays-${args.target.slice("bun-".length)}`);
  }
  return args;
}

async function workerEntries(): Promise<string[]> {
  const names = await readdir(join(root, "workers"));
  return names.filter((n) => n.endsWith(".ts") && !n.endsWith("_test.ts")).sort().map((n) =>
    join("workers", n)
  );
}

/** esbuild's ESM output cannot `require()` CommonJS dependencies (ioredis → debug) without this. */
const requireBanner =
  'import { createRequire as __aysCreateRequire } from "node:module"; const require = __aysCreateRequire(import.meta.url);';

async function bundle(workers: string[]): Promise<void> {
  const common: esbuild.BuildOptions = {
    absWorkingDir: root,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "es2023",
    minify: false,
    legalComments: "none",
    banner: { js: requireBanner },
    logLevel: "warning",
  };
  await esbuild.build({ ...common, entryPoints: ["src/main.ts"], outfile: "dist/ays.js" });
  await esbuild.build({ ...common, entryPoints: workers, outdir: "dist/workers" });
}

function bunBinary(): string {
  const local = join(root, "node_modules", ".bin", "bun");
  return existsSync(local) ? local : "bun";
}

function compile(workers: string[], args: BuildArgs): void {
  const cmd = [
    "build",
    "--compile",
    "--minify",
    // Precompiled bytecode roughly halves start-up; it needs ESM for top-level await.
    "--bytecode",
    "--format=esm",
    // With splitting, `--version` loads only its own small chunk, not the whole CLI.
    "--splitting",
    // The binary reads no `.env` or `bunfig.toml` from the current folder (as the sources under
    // Deno): looking for them read every folder from `/` down to the current one at each start,
    // a millisecond or more of each command's start-up (docs/development.md).
    "--no-compile-autoload-dotenv",
    "--no-compile-autoload-bunfig",
    ...(args.target ? [`--target=${args.target}`] : []),
    "src/main.ts",
    ...workers,
    "--outfile",
    args.outfile,
  ];
  const result = spawnSync(bunBinary(), cmd, {
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (result.status !== 0) {
    throw new Error(`bun build --compile failed (exit ${result.status ?? result.signal})`);
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  await mkdir(dist, { recursive: true });
  await rm(join(dist, "workers"), { recursive: true, force: true });
  const workers = await workerEntries();
  // The dashboard's page is embedded as a module: rebuilt first, so no binary serves a stale one.
  if (await writeDashboardAssets()) {
    console.log("src/dashboard/assets_embedded.ts rebuilt from src/dashboard/client/");
  }
  await bundle(workers);
  const bundleSize = (await stat(join(dist, "ays.js"))).size;
  console.log(
    `dist/ays.js  ${(bundleSize / 1024).toFixed(0)} KiB (+ ${workers.length} worker bundle(s))`,
  );
  if (args.binary) {
    compile(workers, args);
    const size = (await stat(args.outfile)).size;
    console.log(`${args.outfile.slice(root.length + 1)}  ${(size / 1024 / 1024).toFixed(1)} MiB`);
  }
}

await main();
