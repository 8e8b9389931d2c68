/**
 * ays at scale through the compiled binary: generated repositories of 1,000, 10,000 and
 * 100,000 services (`bench/binary_runs.ts`, the blueprint of `bench/services.ts`), and for
 * each: `ays blueprint` (apply), the same `ays blueprint` again (a re-apply that changes
 * nothing), `ays list --json`, `ays list` (the table), `ays simulate --json` and `ays run` with
 * nothing due. Wall time (process start included) and peak memory of each command, with the
 * machine's load average beside each figure; the per-service time shows whether the growth is
 * linear.
 *
 * Every round applies into a new repository folder; nothing is deleted before the end
 * (`FreshFolders`: deletions of large trees slow later folder creation).
 *
 * Usage: `bun bench/scale.ts [--sizes 1000,10000,100000] [--rounds N] [--big-rounds N]
 * [--store sqlite|redis|both] [--binary PATH]`. `--rounds` (default 3) is for sizes below
 * 100,000, `--big-rounds` (default 1) for the others. Writes `bench/results/scale.json`.
 *
 * @module
 */
import { existsSync } from "node:fs";
import process from "node:process";
import { startRedis } from "../test/helpers/mod.ts";
import { aysBinary } from "../test/helpers/ays_binary.ts";
import {
  FreshFolders,
  KEYS,
  loadAverage,
  measure,
  type Measured,
  memoryMethod,
  SERVICE_TEMPLATES,
  servicesBlueprint,
} from "./binary_runs.ts";
import { printTable, type Stats, stats, writeResults } from "./stats.ts";

const option = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const sizes = (option("--sizes") ?? "1000,10000,100000").split(",").map(Number);
const rounds = Number(option("--rounds") ?? 3);
const bigRounds = Number(option("--big-rounds") ?? 1);
const storeChoice = option("--store") ?? "sqlite";
const binary = option("--binary") ?? aysBinary;
if (sizes.some((n) => !Number.isInteger(n) || n < 1)) {
  console.error("--sizes takes whole numbers, e.g. 1000,10000");
  process.exit(2);
}
if (!["sqlite", "redis", "both"].includes(storeChoice)) {
  console.error("--store takes sqlite, redis or both");
  process.exit(2);
}
if (!existsSync(binary)) {
  console.error(`${binary} is missing: run \`node_modules/.bin/bun build.ts\` first`);
  process.exit(2);
}

/** The commands measured on each repository, in this order. */
const COMMANDS = [
  { name: "apply", args: ["blueprint"] },
  { name: "re-apply", args: ["blueprint"] },
  { name: "list --json", args: ["--json", "list"] },
  { name: "list", args: ["list"] },
  { name: "simulate --json", args: ["--json", "simulate"] },
  { name: "run, nothing due", args: ["run"] },
] as const;

interface Figure {
  ms: Stats;
  /** User + system CPU time. */
  cpuMs: Stats;
  peakRssMiB: Stats;
  /** Load averages when the measured commands started. */
  load: number[];
  /** Median microseconds per service. */
  usPerService: number;
}

type SizeResult = Record<string, Figure>;

async function benchSize(
  folders: FreshFolders,
  count: number,
  storeArgs: string[],
  times: number,
): Promise<SizeResult> {
  const text = servicesBlueprint(count);
  const measured = new Map<string, Measured[]>(COMMANDS.map((c) => [c.name, []]));
  for (let round = 0; round < times; round++) {
    const repo = await folders.repo(`scale${count}r${round}x${Date.now() % 100000}`, {
      ...SERVICE_TEMPLATES,
      "blueprints/services.yaml": text,
    });
    for (const command of COMMANDS) {
      const result = await measure(binary, [...storeArgs, ...command.args], {
        cwd: repo.path,
        env: repo.env,
      });
      measured.get(command.name)!.push(result);
    }
  }
  const out: SizeResult = {};
  for (const [name, list] of measured) {
    const ms = stats(list.map((m) => m.ms));
    out[name] = {
      ms,
      cpuMs: stats(list.map((m) => m.cpuMs)),
      peakRssMiB: stats(list.map((m) => m.peakRssMiB)),
      load: list.map((m) => m.load),
      usPerService: (ms.median * 1000) / (count + KEYS),
    };
  }
  return out;
}

const folders = await FreshFolders.create("ays-scale-");
const results: Record<string, Record<string, SizeResult>> = {};
const startLoad = loadAverage();
try {
  const backends: [string, () => Promise<{ args: string[]; close: () => Promise<void> }>][] = [];
  if (storeChoice !== "redis") {
    backends.push(["sqlite", () => Promise.resolve({ args: [], close: () => Promise.resolve() })]);
  }
  if (storeChoice !== "sqlite") {
    backends.push(["redis", async () => {
      const redis = await startRedis();
      return { args: ["--store", redis.url], close: () => redis.close() };
    }]);
  }
  for (const [name, open] of backends) {
    results[name] = {};
    for (const count of sizes) {
      const backend = await open();
      try {
        results[name][count] = await benchSize(
          folders,
          count,
          backend.args,
          count >= 100_000 ? bigRounds : rounds,
        );
      } finally {
        await backend.close();
      }
      const rows = Object.entries(results[name][count]).flatMap(([command, f]) => [
        { name: command, stats: f.ms, unit: "ms" },
        { name: `${command} CPU`, stats: f.cpuMs, unit: "ms" },
        { name: `${command} peak RSS`, stats: f.peakRssMiB, unit: "MiB" },
      ]);
      const loads = Object.values(results[name][count]).flatMap((f) => f.load);
      printTable(
        `${name}: ${count + KEYS} services through ${binary} (load ${
          Math.min(...loads).toFixed(1)
        }–${Math.max(...loads).toFixed(1)})`,
        rows,
      );
    }
    console.log(`\n${name}: µs per service (median) — linear growth keeps these flat`);
    for (const command of COMMANDS) {
      const perSize = sizes.map((n) =>
        `${n}: ${results[name][n][command.name].usPerService.toFixed(1)}`
      );
      console.log(`  ${command.name.padEnd(18)} ${perSize.join("  ")}`);
    }
  }
} finally {
  await folders.removeAll();
}
const path = await writeResults("scale", {
  binary,
  sizes: sizes.map((n) => n + KEYS),
  rounds,
  bigRounds,
  memory: memoryMethod,
  loadAtStart: startLoad,
  loadAtEnd: loadAverage(),
  results,
});
console.log(`\nwrote ${path}`);
process.exit(0);
