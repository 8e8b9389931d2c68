/**
 * `ays blueprint` of one blueprint with 10,000 services, then `ays list --json` over them,
 * through the compiled binary (dist/ays; build it first with `bun build.ts`), on the embedded
 * SQLite store and on a local Redis (a private redis-server from the test helpers). Wall time
 * and peak memory (maximum RSS from `/usr/bin/time -v`, else VmHWM read from
 * /proc/<pid>/status while the process runs) of each command, with the load average when it
 * started. Every round applies into a new folder; the folders are removed only at the end
 * (deleting a 10,000-folder tree slows later folder creation: `bench/binary_runs.ts`). Prints
 * median/min/max and writes `bench/results/services.json`.
 *
 * The blueprint: 10,000 `node.ssh` services (an address, a port, a list, a secret) that each
 * name one of 10 `sshkey` producers, and 10 `sshkey` services; the applied unit stores every
 * service, its links, its actions and its mirror file.
 *
 * Usage: `bun bench/services.ts [--count N] [--rounds N] [--list-rounds N] [--binary PATH]`.
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
  memoryMethod,
  SERVICE_TEMPLATES,
  servicesBlueprint,
} from "./binary_runs.ts";
import { printTable, type Stats, stats, writeResults } from "./stats.ts";

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const count = arg("--count", 10_000);
const rounds = arg("--rounds", 3);
const listRounds = arg("--list-rounds", 5);
const binaryAt = process.argv.indexOf("--binary");
const binary = binaryAt > 0 ? process.argv[binaryAt + 1] : aysBinary;

interface BackendResult {
  blueprint: { ms: Stats; cpuMs: Stats; peakRssMiB: Stats };
  list: { ms: Stats; cpuMs: Stats; peakRssMiB: Stats; jsonBytes: number };
  /** Load averages when the measured commands started. */
  load: number[];
}

async function bench(folders: FreshFolders, storeArgs: () => string[]): Promise<BackendResult> {
  const text = servicesBlueprint(count);
  const applied = [];
  const listed = [];
  let jsonBytes = 0;
  // Every round in a new folder, none deleted before the end (binary_runs.ts, FreshFolders).
  for (let round = 0; round < rounds; round++) {
    const repo = await folders.repo(`bench${round}x${Date.now() % 100000}`, {
      ...SERVICE_TEMPLATES,
      "blueprints/services.yaml": text,
    });
    const store = storeArgs();
    const run = (args: string[]) =>
      measure(binary, [...store, ...args], { cwd: repo.path, env: repo.env });
    applied.push(await run(["blueprint"]));
    // list --json over the 10,000 + 10 services, several times on the last repository.
    const times = round === rounds - 1 ? listRounds : 1;
    for (let i = 0; i < times; i++) {
      const one = await run(["list", "--json"]);
      listed.push(one);
      jsonBytes = one.stdoutBytes;
    }
  }
  return {
    blueprint: {
      ms: stats(applied.map((m) => m.ms)),
      cpuMs: stats(applied.map((m) => m.cpuMs)),
      peakRssMiB: stats(applied.map((m) => m.peakRssMiB)),
    },
    list: {
      ms: stats(listed.map((m) => m.ms)),
      cpuMs: stats(listed.map((m) => m.cpuMs)),
      peakRssMiB: stats(listed.map((m) => m.peakRssMiB)),
      jsonBytes,
    },
    load: [...applied, ...listed].map((m) => m.load),
  };
}

if (!existsSync(binary)) {
  console.error(`${binary} is missing: run \`node_modules/.bin/bun build.ts\` first`);
  process.exit(2);
}

const folders = await FreshFolders.create("ays-bench-services-");
const loadAtStart = loadAverage();
let sqlite: BackendResult;
let redisResult: BackendResult;
try {
  sqlite = await bench(folders, () => []);
  const redis = await startRedis();
  try {
    redisResult = await bench(folders, () => ["--store", redis.url]);
  } finally {
    await redis.close();
  }
} finally {
  await folders.removeAll();
}

for (const [name, r] of [["sqlite", sqlite], ["redis", redisResult]] as const) {
  printTable(`${name}: ${count + KEYS} services through ${binary}`, [
    { name: "blueprint (apply, one unit)", stats: r.blueprint.ms, unit: "ms" },
    { name: "blueprint CPU", stats: r.blueprint.cpuMs, unit: "ms" },
    { name: "blueprint peak RSS", stats: r.blueprint.peakRssMiB, unit: "MiB" },
    { name: "list --json", stats: r.list.ms, unit: "ms" },
    { name: "list --json CPU", stats: r.list.cpuMs, unit: "ms" },
    { name: "list --json peak RSS", stats: r.list.peakRssMiB, unit: "MiB" },
  ]);
}
const path = await writeResults("services", {
  services: count + KEYS,
  rounds,
  listRounds,
  memory: memoryMethod,
  loadAtStart,
  loadAtEnd: loadAverage(),
  sqlite,
  redis: redisResult,
});
console.log(`\nwrote ${path}`);
process.exit(0);
