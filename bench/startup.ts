/**
 * Startup time of `dist/ays --version` beside a compiled one-line Bun program (the runtime's
 * own floor), and of `ays list` in an empty repository and in one of 3 services (and their 10
 * producers). Goals (docs/benchmarks.md): `--version` median < 60 ms and ≤ 1.5× the floor;
 * `ays list` < 12 ms. CPU time (user + system of the runs, from the kernel's accounting of
 * waited-for children) is printed beside the wall times: on a shared machine it is the steadier
 * figure.
 *
 * Usage: `bun bench/startup.ts [--runs N] [--binary PATH]` after `npm run build`.
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
const runsArg = process.argv.indexOf("--runs");
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 20;

/** Options of {@link timeCommand}. */
interface TimeOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Collects the CPU milliseconds of each run. */
  cpu?: number[];
}

function timeCommand(
  command: string,
  args: string[],
  count: number,
  options: TimeOptions = {},
): number[] {
  const spawnOptions = {
    cwd: options.cwd,
    env: options.env ? { ...process.env, ...options.env } : undefined,
    stdio: ["ignore", "pipe", "pipe"] as ("ignore" | "pipe")[],
  };
  spawnSync(command, args, spawnOptions); // warm the page cache once
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const before = childCpuMs();
    const start = performance.now();
    const result = spawnSync(command, args, spawnOptions);
    times.push(performance.now() - start);
    options.cpu?.push(childCpuMs() - before);
    if (result.status !== 0) {
      throw new Error(`${command} ${args.join(" ")} exited ${result.status}: ${result.stderr}`);
    }
  }
  return times;
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

async function compileFloor(dir: string): Promise<string> {
  const source = join(dir, "hello.ts");
  const out = join(dir, "hello");
  await writeFile(source, 'console.log("0.0.0");\n');
  const bun = join(root, "node_modules", ".bin", "bun");
  const result = spawnSync(bun, ["build", "--compile", "--minify", source, "--outfile", out]);
  if (result.status !== 0) throw new Error(`compiling the floor program failed: ${result.stderr}`);
  return out;
}

const binaryArg = process.argv.indexOf("--binary");
const ays = binaryArg > 0 ? resolve(process.argv[binaryArg + 1]) : join(root, "dist", "ays");
if (!existsSync(ays)) throw new Error("dist/ays is missing: run `npm run build` first");
const dir = await mkdtemp(join(tmpdir(), "ays-bench-startup-"));
try {
  const floor = await compileFloor(dir);
  const floorStats = stats(timeCommand(floor, [], runs));
  const aysStats = stats(timeCommand(ays, ["--version"], runs));
  const ratio = aysStats.median / floorStats.median;
  const env = listEnv(dir);
  const emptyCpu: number[] = [];
  const smallCpu: number[] = [];
  const empty = await listRepo(dir, "empty");
  const small = await listRepo(dir, "small", servicesBlueprint(3));
  const emptyStats = stats(timeCommand(ays, ["list"], runs, { cwd: empty, env, cpu: emptyCpu }));
  const smallStats = stats(timeCommand(ays, ["list"], runs, { cwd: small, env, cpu: smallCpu }));
  printTable(`startup, ${runs} runs each`, [
    { name: "bun one-line binary (floor)", stats: floorStats, unit: "ms" },
    { name: "dist/ays --version", stats: aysStats, unit: "ms" },
    { name: "ays list, empty repository", stats: emptyStats, unit: "ms" },
    { name: "ays list, empty: CPU", stats: stats(emptyCpu), unit: "ms" },
    { name: "ays list, 13 services", stats: smallStats, unit: "ms" },
    { name: "ays list, 13 services: CPU", stats: stats(smallCpu), unit: "ms" },
  ]);
  console.log(
    `ratio ays/floor (median): ${ratio.toFixed(2)}  goal: median < 60 ms and ratio ≤ 1.5; ` +
      "ays list < 12 ms",
  );
  const path = await writeResults("startup", {
    runs,
    floorMs: floorStats,
    aysVersionMs: aysStats,
    listEmptyMs: emptyStats,
    listEmptyCpuMs: stats(emptyCpu),
    listSmallMs: smallStats,
    listSmallCpuMs: stats(smallCpu),
    ratio,
    goals: { medianMs: 60, ratio: 1.5 },
  });
  console.log(`wrote ${path}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
