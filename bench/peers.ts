/**
 * ays beside the tools users would pick instead (docs/benchmarks.md, "peers"): the same
 * workloads through `dist/ays` (build it first: `bun build.ts`) and, where installed, `make -j`,
 * GNU `parallel`, Snakemake and Ansible (Debian packages; this bench installs nothing —
 * `scripts/setup.sh --bench` does). Each figure is the wall time of the tool's process from
 * spawn to exit, process start included, as a user runs it; the preparation of a round (fresh
 * outputs, the actions scheduled again) is not timed. Rounds are interleaved (round 1 of every
 * tool and workload, then round 2, …) so that a change of the machine's load hits all alike;
 * the 1-minute load average (`/proc/loadavg`) is recorded beside every figure.
 *
 * Workloads (each job sleeps 200 ms, or does nothing):
 * - `wait100`: 100 × 200 ms, parallel 20 (ideal 1.0 s);
 * - `noop2000`: 2,000 no-op jobs, parallel 20 (ays on SQLite and on a private Redis);
 * - `dag`: 1 → 40 → 1, × 200 ms, parallel 20 (ideal 0.8 s);
 * - `skewed`: a chain of 8 beside 40 independent jobs, × 200 ms, parallel 8 (ideal 1.6 s);
 * - `noop10000`: 10,000 no-op jobs, parallel 20.
 *
 * Usage: `bun bench/peers.ts [--rounds 5] [--only wait100,skewed] [--tools ays,make]
 * [--ays PATH] [--compare NAME=PATH] [--full] [--cap SECONDS]`. `--ays` measures another
 * binary than dist/ays; `--compare` adds one as a column (e.g. a build from before a change),
 * on SQLite and, for the no-op workloads, on the same Redis as `ays redis`; `--full` also runs
 * the peers that take minutes
 * per round (Ansible, Snakemake and GNU parallel on 10,000 jobs); a tool whose first round of
 * a workload takes longer than `--cap` seconds (default 60) runs no further rounds of it.
 * Prints medians and the ratio ays ÷ best peer and writes `bench/results/peers.json`.
 *
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { aysBinary, makeTempDir, type RedisServer, startRedis } from "../test/helpers/mod.ts";
import { type Stats, stats, writeResults } from "./stats.ts";

const argValue = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const USAGE = `usage: bun bench/peers.ts [--rounds 5] [--only wait100,noop2000,dag,skewed,noop10000]
  [--tools ays,"ays redis",make,GNU,Snakemake,Ansible,NAME] [--ays PATH]
  [--compare NAME=PATH] [--full] [--cap SECONDS]
(--tools: prefixes of the tools' names; a --compare NAME is measured only when --tools, if given,
 names it too; docs/benchmarks.md, "peers")`;
const VALUE_FLAGS = new Set(["--rounds", "--cap", "--only", "--tools", "--ays", "--compare"]);
// A mistyped option (or `--help`) would otherwise start the whole bench, which takes minutes.
for (let i = 2; i < process.argv.length; i++) {
  const arg = process.argv[i];
  if (arg === "--help" || arg === "-h") {
    console.log(USAGE);
    process.exit(0);
  }
  if (VALUE_FLAGS.has(arg)) i++;
  else if (arg !== "--full") {
    console.error(`unknown argument '${arg}'\n${USAGE}`);
    process.exit(2);
  }
}
const rounds = Number(argValue("--rounds") ?? 5);
const cap = Number(argValue("--cap") ?? 60);
const full = process.argv.includes("--full");
const only = argValue("--only")?.split(",");
const toolFilter = argValue("--tools")?.split(",");
/** The ays binary measured as `ays` (default dist/ays). */
const aysPath = argValue("--ays") ?? aysBinary;
const compare = process.argv.flatMap((a, i) =>
  process.argv[i - 1] === "--compare" ? [a.split("=") as [string, string]] : []
);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error("--rounds must be ≥ 1");

/** A workload: jobs with their dependencies (each job waits for the jobs it names). */
interface Workload {
  id: string;
  title: string;
  parallel: number;
  /** Seconds each job sleeps; 0 is a no-op. */
  sleep: number;
  /** Job name → the names it waits for, in a topological order. */
  deps: Map<string, string[]>;
  /** The Ansible form of the workload (the plays), when it has one. */
  shape: "flat" | "dag" | "skewed";
}

function flat(id: string, title: string, n: number, sleep: number): Workload {
  const deps = new Map<string, string[]>();
  for (let i = 0; i < n; i++) deps.set(`j${i}`, []);
  return { id, title, parallel: 20, sleep, deps, shape: "flat" };
}

function dag(): Workload {
  const deps = new Map<string, string[]>([["top", []]]);
  const mids = Array.from({ length: 40 }, (_, i) => `m${i}`);
  for (const m of mids) deps.set(m, ["top"]);
  deps.set("bottom", mids);
  return {
    id: "dag",
    title: "1 → 40 → 1 DAG × 200 ms, parallel 20 (ideal 0.8 s)",
    parallel: 20,
    sleep: 0.2,
    deps,
    shape: "dag",
  };
}

function skewed(): Workload {
  // The wide jobs come first in name order, so arrival order is the worst case for the chain.
  const deps = new Map<string, string[]>();
  for (let i = 0; i < 40; i++) deps.set(`a${String(i).padStart(2, "0")}`, []);
  for (let i = 0; i < 8; i++) deps.set(`c${i}`, i === 0 ? [] : [`c${i - 1}`]);
  return {
    id: "skewed",
    title: "skewed: chain of 8 beside 40, × 200 ms, parallel 8 (ideal 1.6 s)",
    parallel: 8,
    sleep: 0.2,
    deps,
    shape: "skewed",
  };
}

const WORKLOADS: Workload[] = [
  flat("wait100", "100 × 200 ms, parallel 20 (ideal 1.0 s)", 100, 0.2),
  flat("noop2000", "2,000 no-op jobs, parallel 20", 2000, 0),
  dag(),
  skewed(),
  flat("noop10000", "10,000 no-op jobs, parallel 20", 10_000, 0),
].filter((w) => !only || only.includes(w.id));

/** One command to time, with what makes its round fresh. */
interface Prepared {
  command: string;
  args: string[];
  cwd: string;
  env?: Record<string, string>;
  /** Untimed, before each round. */
  before?: () => Promise<void> | void;
  /** Untimed, after each round: a second figure (e.g. the run as ays recorded it). */
  after?: () => number | undefined;
}

/** A tool: whether it can run a workload, and how. */
interface Tool {
  name: string;
  /** Is it ays (for the ratio)? */
  ays: boolean;
  available: () => boolean;
  /** Slow peers run the given workloads only with `--full`. */
  slowOn?: string[];
  supports: (w: Workload) => boolean;
  prepare: (w: Workload, dir: string) => Promise<Prepared>;
}

const has = (command: string) => spawnSync("sh", ["-c", `command -v ${command}`]).status === 0;

function aysTool(name: string, binary: string, store?: () => string): Tool {
  return {
    name,
    ays: true,
    available: () => existsSync(binary),
    supports: (w) => store === undefined || w.id.startsWith("noop"),
    prepare: async (w, dir) => {
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: dir,
        XDG_CONFIG_HOME: join(dir, ".cfg"),
        NO_COLOR: "1",
      };
      const storeArgs = store ? ["--store", store()] : [];
      const ays = (args: string[]) => {
        const r = spawnSync(binary, [...storeArgs, ...args], { cwd: dir, env, encoding: "utf8" });
        if (r.status !== 0) throw new Error(`${name} ${args.join(" ")}: ${r.stderr}`);
        return r.stdout;
      };
      ays(["init", ".", "-q"]);
      await mkdir(join(dir, "actorTemplates", "job"), { recursive: true });
      await mkdir(join(dir, "blueprints"), { recursive: true });
      await writeFile(join(dir, "actorTemplates/job/schema.hrd"), "after = consume:job:0:1000\n");
      const body = w.sleep > 0
        ? `await new Promise((resolve) => setTimeout(resolve, ${w.sleep * 1000}));`
        : "";
      await writeFile(
        join(dir, "actorTemplates/job/actions.js"),
        `export async function install() { ${body} }\n`,
      );
      const lines: string[] = [];
      for (const [job, after] of w.deps) {
        lines.push(
          after.length ? `job__${job}:\n  after: [${after.join(", ")}]` : `job__${job}: {}`,
        );
      }
      lines.push("actions:", "  - action: install");
      await writeFile(join(dir, "blueprints/1_jobs.yaml"), lines.join("\n") + "\n");
      ays(["blueprint", "-q"]);
      let first = true;
      return {
        command: binary,
        args: [...storeArgs, "run", "--parallel", String(w.parallel), "-q"],
        cwd: dir,
        env,
        before: () => {
          // Each round starts like the first: the actions scheduled again, and only the last
          // run kept (the history no longer costs a run — the open-runs index, docs/store.md —
          // but the event log and the store file stay the size of one round's).
          if (!first) {
            ays(["runs", "prune", "--keep", "1", "-q"]);
            ays(["do", "install", "--force", "--schedule-only", "-q"]);
          }
          first = false;
        },
        after: () => {
          const [run] = JSON.parse(ays(["runs", "--json"])) as {
            startedAt: string;
            endedAt: string;
            jobs: number;
          }[];
          if (run.jobs !== w.deps.size) throw new Error(`${name}: ${run.jobs} jobs recorded`);
          return (Date.parse(run.endedAt) - Date.parse(run.startedAt)) / 1000;
        },
      };
    },
  };
}

const makeTool: Tool = {
  name: "make -j",
  ays: false,
  available: () => has("make"),
  supports: () => true,
  prepare: async (w, dir) => {
    const recipe = w.sleep > 0 ? `sleep ${w.sleep}` : "true";
    const names = [...w.deps.keys()];
    const lines = [`.PHONY: all ${names.join(" ")}`, `all: ${orderForMake(w).join(" ")}`];
    for (const [job, after] of w.deps) lines.push(`${job}: ${after.join(" ")}`, `\t@${recipe}`);
    await writeFile(join(dir, "Makefile"), lines.join("\n") + "\n");
    return { command: "make", args: ["-s", `-j${w.parallel}`, "all"], cwd: dir };
  },
};

/** `all:`'s prerequisites: the jobs nothing waits for, the chain's end first (make's best). */
function orderForMake(w: Workload): string[] {
  const needed = new Set([...w.deps.values()].flat());
  const ends = [...w.deps.keys()].filter((job) => !needed.has(job));
  return ends.sort((a, b) => Number(b.startsWith("c")) - Number(a.startsWith("c")));
}

const parallelTool: Tool = {
  name: "GNU parallel",
  ays: false,
  available: () => has("parallel"),
  slowOn: ["noop10000"],
  supports: (w) => w.shape === "flat",
  prepare: async (w, dir) => {
    await writeFile(join(dir, "jobs.txt"), [...w.deps.keys()].join("\n") + "\n");
    const recipe = w.sleep > 0 ? ["sleep", String(w.sleep)] : ["true"];
    return {
      command: "parallel",
      // -N0: one line per job, inserted nowhere (the jobs take no argument).
      args: ["--will-cite", `-j${w.parallel}`, "-N0", ...recipe, "::::", "jobs.txt"],
      cwd: dir,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir },
    };
  },
};

const snakemakeTool: Tool = {
  name: "Snakemake",
  ays: false,
  available: () => has("snakemake"),
  slowOn: ["noop10000"],
  supports: () => true,
  prepare: async (w, dir) => {
    const deps = Object.fromEntries(w.deps);
    const recipe = w.sleep > 0 ? `sleep ${w.sleep}; touch {output}` : "touch {output}";
    await writeFile(
      join(dir, "Snakefile"),
      [
        `DEPS = ${JSON.stringify(deps)}`,
        "rule all:",
        "    input: [f'out/{n}' for n in DEPS]",
        "rule job:",
        "    input: lambda wc: [f'out/{d}' for d in DEPS[wc.n]]",
        "    output: 'out/{n}'",
        `    shell: ${JSON.stringify(recipe)}`,
        "",
      ].join("\n"),
    );
    return {
      command: "snakemake",
      args: ["-j", String(w.parallel), "--quiet", "-s", "Snakefile"],
      cwd: dir,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir },
      before: async () => {
        await rm(join(dir, "out"), { recursive: true, force: true });
        await rm(join(dir, ".snakemake"), { recursive: true, force: true });
      },
    };
  },
};

const ansibleTool: Tool = {
  name: "Ansible",
  ays: false,
  available: () => has("ansible-playbook"),
  slowOn: ["noop10000"],
  supports: () => true,
  prepare: async (w, dir) => {
    // Local connection, no facts: the playbook engine itself, no SSH. Sleeps are `raw` (a shell
    // command, no Python module shipped), no-ops `debug` (runs in the controller).
    const task = w.sleep > 0 ? `raw: sleep ${w.sleep}` : "debug: { msg: ok }";
    const play = (hosts: string, extra = "") =>
      `- hosts: ${hosts}\n  gather_facts: false${extra}\n  tasks:\n    - ${task}\n`;
    const groups = new Map<string, string[]>();
    let playbook: string;
    if (w.shape === "flat") {
      groups.set("jobs", [...w.deps.keys()]);
      playbook = play("jobs");
    } else if (w.shape === "dag") {
      groups.set("g_top", ["top"]);
      groups.set("g_mid", [...w.deps.keys()].filter((j) => j.startsWith("m")));
      groups.set("g_bottom", ["bottom"]);
      playbook = play("g_top") + play("g_mid") + play("g_bottom");
    } else {
      // The chain is one host with 8 tasks; `strategy: free` lets every host go at its pace.
      groups.set("jobs", ["chain", ...[...w.deps.keys()].filter((j) => j.startsWith("a"))]);
      playbook = `- hosts: jobs\n  gather_facts: false\n  strategy: free\n  tasks:\n` +
        `    - ${task}\n` +
        Array.from(
          { length: 7 },
          () => `    - ${task}\n      when: inventory_hostname == "chain"\n`,
        ).join("");
    }
    const inventory = [...groups].map(([group, hosts]) => `[${group}]\n${hosts.join("\n")}\n`)
      .join("") +
      "[all:vars]\nansible_connection=local\nansible_python_interpreter=/usr/bin/python3\n";
    await writeFile(join(dir, "hosts.ini"), inventory);
    await writeFile(join(dir, "play.yml"), playbook);
    return {
      command: "ansible-playbook",
      args: ["-i", "hosts.ini", "-f", String(w.parallel), "play.yml"],
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: dir,
        ANSIBLE_LOCAL_TEMP: join(dir, ".ansible-tmp"),
        ANSIBLE_NOCOLOR: "1",
        ANSIBLE_RETRY_FILES_ENABLED: "0",
      },
    };
  },
};

/** Runs `prepared` once: wall seconds from spawn to exit. Throws unless it exits 0. */
function timeOnce(prepared: Prepared): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(prepared.command, prepared.args, {
      cwd: prepared.cwd,
      env: prepared.env ?? process.env,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      if (stderr.length < 4000) stderr += String(chunk);
    });
    child.once("error", reject);
    child.once("close", (code) => {
      const seconds = (performance.now() - started) / 1000;
      if (code === 0) resolve(seconds);
      else reject(new Error(`${prepared.command} exited ${code}: ${stderr}`));
    });
  });
}

function loadNow(): number {
  try {
    return Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
  } catch {
    return NaN;
  }
}

interface Cell {
  tool: string;
  workload: string;
  seconds: number[];
  /** The run as ays recorded it (its start to its end), for ays. */
  recorded: number[];
  load: number[];
  prepared?: Prepared;
  dir?: string;
  skipped?: string;
}

let redis: RedisServer | undefined;
const tools: Tool[] = [
  aysTool("ays", aysPath),
  ...compare.map(([name, path]) => aysTool(name, path)),
  aysTool("ays redis", aysPath, () => redis!.url),
  // Each `--compare` build on the same Redis too, so a change of the Redis store is measured
  // interleaved with the build before it.
  ...compare.map(([name, path]) => aysTool(`${name} redis`, path, () => redis!.url)),
  makeTool,
  parallelTool,
  snakemakeTool,
  ansibleTool,
].filter((t) => !toolFilter || toolFilter.some((f) => t.name.startsWith(f)));

const cells: Cell[] = [];
const root = await makeTempDir("ays-peers-");
try {
  if (
    tools.some((t) => t.name.endsWith(" redis")) && WORKLOADS.some((w) => w.id.startsWith("noop"))
  ) {
    redis = await startRedis();
  }
  for (const w of WORKLOADS) {
    for (const tool of tools) {
      if (!tool.supports(w)) continue;
      const cell: Cell = { tool: tool.name, workload: w.id, seconds: [], recorded: [], load: [] };
      cells.push(cell);
      if (!tool.available()) cell.skipped = "not installed";
      else if (!full && tool.slowOn?.includes(w.id)) cell.skipped = "minutes per round: --full";
      else {
        cell.dir = join(root.path, `${w.id}-${tool.name.replace(/\W+/g, "_")}`);
        await mkdir(cell.dir, { recursive: true });
        cell.prepared = await tool.prepare(w, cell.dir);
      }
    }
  }
  for (let round = 1; round <= rounds; round++) {
    for (const cell of cells) {
      const prepared = cell.prepared;
      if (!prepared || cell.skipped) continue;
      await prepared.before?.();
      cell.load.push(loadNow());
      const seconds = await timeOnce(prepared);
      cell.seconds.push(seconds);
      const recorded = prepared.after?.();
      if (recorded !== undefined) cell.recorded.push(recorded);
      console.error(`round ${round}: ${cell.workload} ${cell.tool} ${seconds.toFixed(2)} s`);
      if (round === 1 && seconds > cap && rounds > 1) cell.skipped = `one round (> ${cap} s)`;
    }
  }
} finally {
  await redis?.close();
  await root.remove();
}

// --- report ------------------------------------------------------------------------------
const median = (values: number[]) => values.length ? stats(values).median : NaN;
const fmt = (s: number) => (Number.isNaN(s) ? "—" : `${s.toFixed(2)} s`);
const columns = [...new Set(cells.map((c) => c.tool))];
const header = ["work", ...columns, "ays ÷ best peer"];
const table = [header, header.map(() => "---")];
const summary: Record<string, unknown> = {};
for (const w of WORKLOADS) {
  const row = [w.title];
  const byTool = new Map(cells.filter((c) => c.workload === w.id).map((c) => [c.tool, c]));
  for (const tool of columns) {
    const cell = byTool.get(tool);
    if (!cell || cell.seconds.length === 0) {
      row.push(cell?.skipped ? `— (${cell.skipped})` : "—");
      continue;
    }
    const recorded = cell.recorded.length ? ` (run ${fmt(median(cell.recorded))})` : "";
    const n = cell.seconds.length === rounds ? "" : `, ${cell.seconds.length} round(s)`;
    row.push(`${fmt(median(cell.seconds))}${recorded} · load ${median(cell.load).toFixed(1)}${n}`);
  }
  const aysMedian = median(byTool.get("ays")?.seconds ?? []);
  const peers = [...byTool.values()].filter((c) =>
    !tools.find((t) => t.name === c.tool)?.ays && c.seconds.length > 0
  );
  const best = Math.min(...peers.map((c) => median(c.seconds)));
  row.push(peers.length && !Number.isNaN(aysMedian) ? (aysMedian / best).toFixed(2) : "—");
  table.push(row);
  summary[w.id] = Object.fromEntries(
    [...byTool].map(([tool, c]) => [
      tool,
      {
        seconds: c.seconds.length ? stats(c.seconds) : null,
        recordedRunSeconds: c.recorded.length ? stats(c.recorded) : null,
        loadAverage: c.load.length ? stats(c.load) : null,
        skipped: c.skipped ?? null,
      } satisfies Record<string, Stats | string | null>,
    ]),
  );
}
console.log(`\npeers: wall time from process start, median of ${rounds} interleaved rounds\n`);
for (const row of table) console.log(`| ${row.join(" | ")} |`);
const path = await writeResults("peers", { rounds, workloads: summary });
console.log(`\nwritten ${path}`);
