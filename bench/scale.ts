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
 * (`FreshFolders`: deletions of large trees slow later folder creation for every program, so a
 * bench started right after another one's deletion measures the kernel, not ays). To compare
 * builds, give `--binary` once per build: their rounds alternate (A, B, A, B…) in the same
 * minutes, each on its fresh folder, and each build gets its own table. `--keep` leaves the
 * folders in place (their parent is printed) for a deletion at a moment nothing is measured.
 *
 * Usage: `bun bench/scale.ts [--sizes 1000,10000,100000] [--rounds N] [--big-rounds N]
 * [--store sqlite|redis|both] [--binary PATH]… [--keep]`. `--rounds` (default 3) is for sizes
 * below 100,000, `--big-rounds` (default 1) for the others. Writes `bench/results/scale.json`.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
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

const USAGE = `usage: bun bench/scale.ts [--sizes 1000,10000,100000] [--rounds 3] [--big-rounds 1]
  [--store sqlite|redis|both] [--binary PATH]… [--keep]
(--rounds: for sizes below 100,000; --binary again: another build, its rounds alternating with
 the first's; --keep: leave the generated repositories, print where)`;
const VALUE_FLAGS = new Set(["--sizes", "--rounds", "--big-rounds", "--store", "--binary"]);
// A mistyped option (or `--help`) would otherwise start the whole bench, which takes minutes.
for (let i = 2; i < process.argv.length; i++) {
  const arg = process.argv[i];
  if (arg === "--help" || arg === "-h") {
    console.log(USAGE);
    process.exit(0);
  }
  if (VALUE_FLAGS.has(arg) && i + 1 < process.argv.length) i++;
  else if (arg !== "--keep") {
    console.error(`unknown argument '${arg}'\n${USAGE}`);
    process.exit(2);
  }
}
const option = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const sizes = (option("--sizes") ?? "1000,10000,100000").split(",").map(Number);
const rounds = Number(option("--rounds") ?? 3);
const bigRounds = Number(option("--big-rounds") ?? 1);
const storeChoice = option("--store") ?? "sqlite";
const given = process.argv.flatMap((a, i) => process.argv[i - 1] === "--binary" ? [a] : []);
// Absolute: each command runs in its repository folder.
const binaries = given.length > 0 ? given.map((b) => resolve(b)) : [aysBinary];
const keep = process.argv.includes("--keep");
if (sizes.some((n) => !Number.isInteger(n) || n < 1)) {
  console.error("--sizes takes whole numbers, e.g. 1000,10000");
  process.exit(2);
}
if (![rounds, bigRounds].every((n) => Number.isInteger(n) && n >= 1)) {
  console.error("--rounds and --big-rounds take whole numbers ≥ 1");
  process.exit(2);
}
if (!["sqlite", "redis", "both"].includes(storeChoice)) {
  console.error("--store takes sqlite, redis or both");
  process.exit(2);
}
if (new Set(binaries).size !== binaries.length) {
  console.error("--binary: each build once");
  process.exit(2);
}
for (const binary of binaries) {
  if (!existsSync(binary)) {
    console.error(`${binary} is missing: run \`node_modules/.bin/bun build.ts\` first`);
    process.exit(2);
  }
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

/**
 * `times` rounds of every command for each binary, the binaries alternating round by round;
 * each round on a new repository. The figures of each binary, by its path.
 */
async function benchSize(
  folders: FreshFolders,
  count: number,
  storeArgs: string[],
  times: number,
): Promise<Record<string, SizeResult>> {
  const text = servicesBlueprint(count);
  const measured = new Map(
    binaries.map((b) => [b, new Map<string, Measured[]>(COMMANDS.map((c) => [c.name, []]))]),
  );
  for (let round = 0; round < times; round++) {
    for (const [b, binary] of binaries.entries()) {
      const repo = await folders.repo(`scale${count}r${round}b${b}x${Date.now() % 100000}`, {
        ...SERVICE_TEMPLATES,
        "blueprints/services.yaml": text,
      });
      for (const command of COMMANDS) {
        const result = await measure(binary, [...storeArgs, ...command.args], {
          cwd: repo.path,
          env: repo.env,
        });
        measured.get(binary)!.get(command.name)!.push(result);
      }
    }
  }
  const out: Record<string, SizeResult> = {};
  for (const [binary, byCommand] of measured) {
    const figures: SizeResult = {};
    for (const [name, list] of byCommand) {
      const ms = stats(list.map((m) => m.ms));
      figures[name] = {
        ms,
        cpuMs: stats(list.map((m) => m.cpuMs)),
        peakRssMiB: stats(list.map((m) => m.peakRssMiB)),
        load: list.map((m) => m.load),
        usPerService: (ms.median * 1000) / (count + KEYS),
      };
    }
    out[binary] = figures;
  }
  return out;
}

const folders = await FreshFolders.create("ays-scale-");
/** Figures by store, binary and size. */
const results: Record<string, Record<string, Record<string, SizeResult>>> = {};
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
    results[name] = Object.fromEntries(binaries.map((b) => [b, {}]));
    for (const count of sizes) {
      const backend = await open();
      let figures: Record<string, SizeResult>;
      try {
        figures = await benchSize(
          folders,
          count,
          backend.args,
          count >= 100_000 ? bigRounds : rounds,
        );
      } finally {
        await backend.close();
      }
      for (const binary of binaries) {
        results[name][binary][count] = figures[binary];
        const rows = Object.entries(figures[binary]).flatMap(([command, f]) => [
          { name: command, stats: f.ms, unit: "ms" },
          { name: `${command} CPU`, stats: f.cpuMs, unit: "ms" },
          { name: `${command} peak RSS`, stats: f.peakRssMiB, unit: "MiB" },
        ]);
        const loads = Object.values(figures[binary]).flatMap((f) => f.load);
        printTable(
          `${name}: ${count + KEYS} services through ${binary} (load ${
            Math.min(...loads).toFixed(1)
          }–${Math.max(...loads).toFixed(1)})`,
          rows,
        );
      }
    }
    for (const binary of binaries) {
      console.log(
        `\n${name}, ${binary}: µs per service (median) — linear growth keeps these flat`,
      );
      for (const command of COMMANDS) {
        const perSize = sizes.map((n) =>
          `${n}: ${results[name][binary][n][command.name].usPerService.toFixed(1)}`
        );
        console.log(`  ${command.name.padEnd(18)} ${perSize.join("  ")}`);
      }
    }
  }
} finally {
  if (keep) console.log(`\nthe generated repositories are kept in ${folders.root}`);
  else await folders.removeAll();
}
const path = await writeResults("scale", {
  binaries,
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
