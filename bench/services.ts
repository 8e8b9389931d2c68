/**
 * `ays blueprint` of one blueprint with 10,000 services, then `ays list --json` over them,
 * through the compiled binary (dist/ays; build it first with `bun build.ts`), on the embedded
 * SQLite store and on a local Redis (a private redis-server from the test helpers). Wall time
 * and peak memory (maximum RSS from `/usr/bin/time -v`, else VmHWM read from
 * /proc/<pid>/status while the process runs) of each command. Prints median/min/max and writes
 * `bench/results/services.json`.
 *
 * The blueprint: 10,000 `node.ssh` services (an address, a port, a list, a secret) that each
 * name one of 10 `sshkey` producers, and 10 `sshkey` services; the applied unit stores every
 * service, its links, its actions and its mirror file.
 *
 * Usage: `bun bench/services.ts [--count N] [--rounds N] [--list-rounds N]`.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { makeTempDir, makeTempRepo, startRedis, type TempDir } from "../test/helpers/mod.ts";
import { aysBinary } from "../test/helpers/ays_binary.ts";
import { printTable, type Stats, stats, writeResults } from "./stats.ts";

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const count = arg("--count", 10_000);
const rounds = arg("--rounds", 3);
const listRounds = arg("--list-rounds", 5);
const KEYS = 10;

const TEMPLATES: Record<string, string> = {
  "actorTemplates/node.ssh/schema.hrd": [
    "ssh.addr = type:ipaddr",
    "ssh.port = type:int default:22 minval:1 maxval:65535",
    "tags = type:str list",
    "password = type:password",
    "sshkey = consume:sshkey:1:1",
    "",
  ].join("\n"),
  "actorTemplates/sshkey/schema.hrd": "key.pub = type:str\n",
};

function blueprintText(): string {
  const lines: string[] = [];
  for (let k = 0; k < KEYS; k++) lines.push(`sshkey__k${k}:`, `  key.pub: 'ssh-ed25519 K${k}'`);
  for (let i = 0; i < count; i++) {
    lines.push(
      `node.ssh__n${i}:`,
      `  ssh.addr: 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      `  ssh.port: ${1000 + (i % 60000)}`,
      `  tags: [bench, g${i % 50}]`,
      `  password: pw${i}`,
      `  sshkey: k${i % KEYS}`,
    );
  }
  return lines.join("\n") + "\n";
}

interface Measured {
  ms: number;
  peakRssMiB: number;
  code: number | null;
  stdoutBytes: number;
}

const hasTime = existsSync("/usr/bin/time");

/** Runs the binary; wall time from spawn to exit, peak RSS from time -v or /proc. */
function measure(args: string[], cwd: string, env: Record<string, string>): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const command = hasTime ? "/usr/bin/time" : aysBinary;
    // The report goes to a file: mixed into stderr it arrived cut short under Bun.
    const report = join(cwd, `.time-${Date.now()}-${Math.random()}.txt`);
    const argv = hasTime ? ["-v", "-o", report, aysBinary, ...args] : args;
    const start = performance.now();
    const child = spawn(command, argv, { cwd, env: { ...process.env, ...env } });
    let stdoutBytes = 0;
    let stderr = "";
    let hwmKiB = 0;
    child.stdout.on("data", (chunk: Uint8Array) => (stdoutBytes += chunk.length));
    child.stderr.on("data", (chunk) => (stderr += String(chunk)));
    const poll = hasTime ? undefined : setInterval(() => {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
        const match = /VmHWM:\s+(\d+) kB/.exec(status);
        if (match) hwmKiB = Math.max(hwmKiB, Number(match[1]));
      } catch {
        // The process is gone.
      }
    }, 5);
    child.once("error", reject);
    child.once("close", (code) => {
      const ms = performance.now() - start;
      if (poll) clearInterval(poll);
      const timeReport = hasTime && existsSync(report) ? readFileSync(report, "utf8") : "";
      if (timeReport) rmSync(report);
      const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(timeReport);
      if (rss) hwmKiB = Number(rss[1]);
      if (code !== 0) {
        for (const line of stderr.split("\n")) console.error(`  ${line}`);
        reject(new Error(`ays ${args.join(" ")} exited ${code}`));
      } else resolve({ ms, peakRssMiB: hwmKiB / 1024, code, stdoutBytes });
    });
  });
}

interface BackendResult {
  blueprint: { ms: Stats; peakRssMiB: Stats };
  list: { ms: Stats; peakRssMiB: Stats; jsonBytes: number };
}

async function bench(storeArgs: () => string[]): Promise<BackendResult> {
  const text = blueprintText();
  const applyMs: number[] = [];
  const applyRss: number[] = [];
  const listMs: number[] = [];
  const listRss: number[] = [];
  let jsonBytes = 0;
  for (let round = 0; round < rounds; round++) {
    const repo: TempDir = await makeTempRepo({
      name: `bench${round}${Date.now()}`,
      files: { ...TEMPLATES, "blueprints/services.yaml": text },
    });
    const cfg = await makeTempDir("ays-bench-cfg-");
    const env = { XDG_CONFIG_HOME: cfg.path };
    try {
      const store = storeArgs();
      const applied = await measure([...store, "blueprint"], repo.path, env);
      applyMs.push(applied.ms);
      applyRss.push(applied.peakRssMiB);
      // list --json over the 10,000 + 10 services, several times on the last repository.
      const times = round === rounds - 1 ? listRounds : 1;
      for (let i = 0; i < times; i++) {
        const listed = await measure([...store, "list", "--json"], repo.path, env);
        listMs.push(listed.ms);
        listRss.push(listed.peakRssMiB);
        jsonBytes = listed.stdoutBytes;
      }
    } finally {
      await repo.remove();
      await cfg.remove();
    }
  }
  return {
    blueprint: { ms: stats(applyMs), peakRssMiB: stats(applyRss) },
    list: { ms: stats(listMs), peakRssMiB: stats(listRss), jsonBytes },
  };
}

if (!existsSync(aysBinary)) {
  console.error(`${aysBinary} is missing: run \`node_modules/.bin/bun build.ts\` first`);
  process.exit(2);
}

const sqlite = await bench(() => []);
const redis = await startRedis();
let redisResult: BackendResult;
try {
  redisResult = await bench(() => ["--store", redis.url]);
} finally {
  await redis.close();
}

for (const [name, r] of [["sqlite", sqlite], ["redis", redisResult]] as const) {
  printTable(`${name}: ${count + KEYS} services through dist/ays`, [
    { name: "blueprint (apply, one unit)", stats: r.blueprint.ms, unit: "ms" },
    { name: "blueprint peak RSS", stats: r.blueprint.peakRssMiB, unit: "MiB" },
    { name: "list --json", stats: r.list.ms, unit: "ms" },
    { name: "list --json peak RSS", stats: r.list.peakRssMiB, unit: "MiB" },
  ]);
}
const path = await writeResults("services", {
  services: count + KEYS,
  rounds,
  listRounds,
  memory: hasTime ? "maximum RSS from /usr/bin/time -v" : "VmHWM from /proc/<pid>/status",
  sqlite,
  redis: redisResult,
});
console.log(`\nwrote ${path}`);
process.exit(0);
