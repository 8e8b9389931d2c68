/**
 * Startup time of `dist/ays --version` beside a compiled one-line Bun program (the runtime's
 * own floor). Goal (docs/benchmarks.md): median < 60 ms and ≤ 1.5× the floor.
 *
 * Usage: `bun bench/startup.ts [--runs N]` after `npm run build`.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { printTable, stats, writeResults } from "./stats.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const runsArg = process.argv.indexOf("--runs");
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 20;

function timeCommand(command: string, args: string[], count: number): number[] {
  spawnSync(command, args); // warm the page cache once
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    const result = spawnSync(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    times.push(performance.now() - start);
    if (result.status !== 0) {
      throw new Error(`${command} ${args.join(" ")} exited ${result.status}`);
    }
  }
  return times;
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

const ays = join(root, "dist", "ays");
if (!existsSync(ays)) throw new Error("dist/ays is missing: run `npm run build` first");
const dir = await mkdtemp(join(tmpdir(), "ays-bench-startup-"));
try {
  const floor = await compileFloor(dir);
  const floorStats = stats(timeCommand(floor, [], runs));
  const aysStats = stats(timeCommand(ays, ["--version"], runs));
  const ratio = aysStats.median / floorStats.median;
  printTable(`startup, ${runs} runs each`, [
    { name: "bun one-line binary (floor)", stats: floorStats, unit: "ms" },
    { name: "dist/ays --version", stats: aysStats, unit: "ms" },
  ]);
  console.log(
    `ratio ays/floor (median): ${ratio.toFixed(2)}  goal: median < 60 ms and ratio ≤ 1.5`,
  );
  const path = await writeResults("startup", {
    runs,
    floorMs: floorStats,
    aysVersionMs: aysStats,
    ratio,
    goals: { medianMs: 60, ratio: 1.5 },
  });
  console.log(`wrote ${path}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
