/**
 * Startup time of `dist/ays --version` beside a compiled one-line Bun program (the runtime's
 * own floor), and of `ays list` in an empty repository and in one of 3 services (and their 10
 * producers). Goals (docs/benchmarks.md): `--version` median < 60 ms and ≤ 1.5× the floor;
 * `ays list` < 12 ms. CPU time (user + system of the runs, from the kernel's accounting of
 * waited-for children) is printed beside the wall times: on a shared machine it is the steadier
 * figure.
 *
 * Usage: `bun bench/startup.ts [--runs N] [--binary PATH] [--compare NAME=PATH]` after
 * `npm run build`. `--compare` runs a second binary (e.g. a build from before a change) beside
 * it, run by run alternating, so that both see the same load; its rows are named NAME. Under Bun
 * each run's CPU is the child's own (`resourceUsage`, µs); elsewhere it is read from the kernel's
 * accounting of waited-for children, in 10 ms ticks (a median of many runs is what that is good
 * for).
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { SERVICE_TEMPLATES, servicesBlueprint } from "./binary_runs.ts";
import { printTable, stats, writeResults } from "./stats.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const USAGE = "usage: bun bench/startup.ts [--runs N] [--binary PATH] [--compare NAME=PATH]";
const VALUE_FLAGS = new Set(["--runs", "--binary", "--compare"]);
for (let i = 2; i < process.argv.length; i++) {
  const arg = process.argv[i];
  if (arg === "--help" || arg === "-h") {
    console.log(USAGE);
    process.exit(0);
  }
  if (VALUE_FLAGS.has(arg) && process.argv[i + 1] !== undefined) i++;
  else {
    console.error(`unknown argument '${arg}'\n${USAGE}`);
    process.exit(2);
  }
}
const argValue = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const runs = Number(argValue("--runs") ?? 20);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a whole number ≥ 1`);

/** Options of {@link timeCommands}. */
interface TimeOptions {
  cwd?: string;
  env?: Record<string, string>;
}

/** What {@link timeCommands} measured of one command: wall and CPU milliseconds of each run. */
interface Timed {
  wall: number[];
  cpu: number[];
}

/**
 * Runs each command `count` times, the commands alternating run by run (so that all see the same
 * load), after one untimed run of each (the page cache).
 */
function timeCommands(
  commands: readonly { command: string; args: string[] }[],
  count: number,
  options: TimeOptions = {},
): Timed[] {
  const env = options.env ? { ...process.env, ...options.env } : undefined;
  const timed = commands.map(() => ({ wall: [] as number[], cpu: [] as number[] }));
  for (let i = -1; i < count; i++) {
    commands.forEach(({ command, args }, c) => {
      const run = runOnce(command, args, { cwd: options.cwd, env });
      if (i >= 0) {
        timed[c].wall.push(run.wall);
        timed[c].cpu.push(run.cpu);
      }
    });
  }
  return timed;
}

/** One run: its wall and CPU milliseconds (throws when it fails). */
function runOnce(
  command: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string | undefined> },
): { wall: number; cpu: number } {
  const bun = (globalThis as { Bun?: BunSpawn }).Bun;
  if (bun) {
    const start = performance.now();
    const result = bun.spawnSync([command, ...args], {
      cwd: options.cwd,
      env: options.env,
      stdout: "pipe",
      stderr: "pipe",
    });
    const wall = performance.now() - start;
    if (result.exitCode !== 0) {
      throw new Error(`${command} ${args.join(" ")} exited ${result.exitCode}: ${result.stderr}`);
    }
    return { wall, cpu: Number(result.resourceUsage.cpuTime.total) / 1000 };
  }
  const before = childCpuMs();
  const start = performance.now();
  const result = spawnSync(command, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const wall = performance.now() - start;
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} exited ${result.status}: ${result.stderr}`);
  }
  return { wall, cpu: childCpuMs() - before };
}

/** The part of `Bun.spawnSync` used here: the child's own CPU time, in µs. */
interface BunSpawn {
  spawnSync(
    cmd: string[],
    options: {
      cwd?: string;
      env?: Record<string, string | undefined>;
      stdout: "pipe";
      stderr: "pipe";
    },
  ): { exitCode: number | null; stderr: Uint8Array; resourceUsage: { cpuTime: { total: bigint } } };
}

/**
 * User + system CPU milliseconds of this process's waited-for children (`/proc/self/stat`,
 * in clock ticks of 10 ms: a median of many runs is what it is good for). NaN elsewhere.
 */
function childCpuMs(): number {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // cutime and cstime are fields 16 and 17 of the file, 14 and 15 after the name.
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return NaN;
  }
}

/** A repository for `ays list`: empty, or with the services `blueprint` applies. */
async function listRepo(dir: string, name: string, blueprint?: string): Promise<string> {
  const repo = join(dir, name);
  await mkdir(join(repo, ".ays"), { recursive: true });
  await writeFile(join(repo, ".ays", "config.yaml"), `name: ${name}\n`);
  if (blueprint !== undefined) {
    for (const [path, text] of Object.entries(SERVICE_TEMPLATES)) {
      await mkdir(dirname(join(repo, path)), { recursive: true });
      await writeFile(join(repo, path), text);
    }
    await mkdir(join(repo, "blueprints"), { recursive: true });
    await writeFile(join(repo, "blueprints", "services.yaml"), blueprint);
    const applied = spawnSync(ays, ["blueprint"], { cwd: repo, env: listEnv(dir) });
    if (applied.status !== 0) throw new Error(`ays blueprint failed: ${applied.stderr}`);
  }
  return repo;
}

/** The environment of the `ays list` runs: their own registry of repositories. */
function listEnv(dir: string): Record<string, string> {
  return { ...process.env as Record<string, string>, XDG_CONFIG_HOME: join(dir, "cfg") };
}

/** `, load 1.2 1.5 1.7` (the load averages), or nothing where the system does not tell. */
function readLoad(): string {
  try {
    return `, load ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`;
  } catch {
    return "";
  }
}

async function compileFloor(dir: string): Promise<string> {
  const source = join(dir, "hello.ts");
  const out = join(dir, "hello");
  await writeFile(source, 'console.log("0.0.0");\n');
  const bun = join(root, "node_modules", ".bin", "bun");
  const result = spawnSync(bun, ["build", "--compile", "--minify", source, "--outfile", out]);
  if (result.status !== 0) throw new Error(`compiling the floor program failed: ${result.stderr}`);
  return out;
}

const ays = resolve(argValue("--binary") ?? join(root, "dist", "ays"));
if (!existsSync(ays)) throw new Error(`${ays} is missing: run \`npm run build\` first`);
const compareArg = argValue("--compare");
const compare = compareArg === undefined ? undefined : {
  name: compareArg.slice(0, compareArg.indexOf("=")),
  path: resolve(compareArg.slice(compareArg.indexOf("=") + 1)),
};
if (compare && (compare.name === "" || !existsSync(compare.path))) {
  throw new Error(`--compare NAME=PATH: no binary at ${compare.path} (or no NAME)`);
}
const builds = [{ name: "ays", path: ays }, ...(compare ? [compare] : [])];
const dir = await mkdtemp(join(tmpdir(), "ays-bench-startup-"));
try {
  const floor = await compileFloor(dir);
  const [floorTimed] = timeCommands([{ command: floor, args: [] }], runs);
  const floorStats = stats(floorTimed.wall);
  const env = listEnv(dir);
  const empty = await listRepo(dir, "empty");
  const small = await listRepo(dir, "small", servicesBlueprint(3));
  const each = (args: string[]) => builds.map((b) => ({ command: b.path, args }));
  const version = timeCommands(each(["--version"]), runs);
  const listEmpty = timeCommands(each(["list"]), runs, { cwd: empty, env });
  const listSmall = timeCommands(each(["list"]), runs, { cwd: small, env });
  const rows = [{ name: "bun one-line binary (floor)", stats: floorStats, unit: "ms" }];
  const results: Record<string, unknown> = { runs, floorMs: floorStats };
  builds.forEach((b, i) => {
    const label = i === 0 ? "dist/ays" : b.name;
    const key = i === 0 ? "" : `${b.name}:`;
    rows.push(
      { name: `${label} --version`, stats: stats(version[i].wall), unit: "ms" },
      { name: `${label} list, empty repository`, stats: stats(listEmpty[i].wall), unit: "ms" },
      { name: `${label} list, empty: CPU`, stats: stats(listEmpty[i].cpu), unit: "ms" },
      { name: `${label} list, 13 services`, stats: stats(listSmall[i].wall), unit: "ms" },
      { name: `${label} list, 13 services: CPU`, stats: stats(listSmall[i].cpu), unit: "ms" },
    );
    Object.assign(results, {
      [`${key}aysVersionMs`]: stats(version[i].wall),
      [`${key}listEmptyMs`]: stats(listEmpty[i].wall),
      [`${key}listEmptyCpuMs`]: stats(listEmpty[i].cpu),
      [`${key}listSmallMs`]: stats(listSmall[i].wall),
      [`${key}listSmallCpuMs`]: stats(listSmall[i].cpu),
    });
  });
  const load = readLoad();
  printTable(`startup, ${runs} runs each${compare ? ", alternating" : ""}${load}`, rows);
  const ratio = stats(version[0].wall).median / floorStats.median;
  console.log(
    `ratio ays/floor (median): ${ratio.toFixed(2)}  goal: median < 60 ms and ratio ≤ 1.5; ` +
      "ays list < 12 ms",
  );
  const path = await writeResults("startup", {
    ...results,
    ratio,
    goals: { medianMs: 60, ratio: 1.5 },
  });
  console.log(`wrote ${path}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
