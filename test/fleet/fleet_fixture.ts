/**
 * A repository for fleet tests and `ays worker` processes: `node!n1` (actor.yaml
 * `worker: edge`) with two `app` children (no label of their own: they run where their node
 * is), and `free` services without any label. Every action appends
 * `<role>!<instance> <action> <AYS_WORKER> start|end` to the file named by `FLEET_TRACE` of
 * the worker's environment, so tests can tell which worker ran what, and how often.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import process from "node:process";
import { aysCommand, type AysLaunch, until } from "../helpers/mod.ts";

/** The actions of every fixture actor: `sleepMs` of work, traced. */
export function fleetActions(sleepMs: number): string {
  return `
// The line is written by a command, which sees AYS_WORKER as every job command does.
async function trace(job, what) {
  const head = job.service.role + "!" + job.service.name + " " + job.action;
  await job.exec('echo "' + head + ' $AYS_WORKER ' + what + '" >> "$FLEET_TRACE"');
}
async function work(job) {
  await trace(job, "start");
  const ms = Number(job.service.data.ms || ${sleepMs});
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    job.signal.addEventListener("abort", () => { clearTimeout(timer); resolve(); });
  });
  if (job.signal.aborted) throw new Error("cancelled");
  await trace(job, "end");
  return { done: job.service.name };
}
export const install = work;
`;
}

/** The fixture's files; `frees` unlabeled services, each action `sleepMs` long. */
export function fleetRepoFiles(
  options: { frees?: number; sleepMs?: number; slow?: Record<string, number> } = {},
): Record<string, string> {
  const { frees = 6, sleepMs = 200, slow = {} } = options;
  const actions = fleetActions(sleepMs);
  const lines = ["node__n1:", "app__a1:", "  node: n1", "app__a2:", "  node: n1"];
  for (let i = 1; i <= frees; i++) {
    lines.push(`free__f${i}:`);
    if (slow[`f${i}`] !== undefined) lines.push(`  ms: ${slow[`f${i}`]}`);
  }
  return {
    "actorTemplates/node/schema.hrd": "ms = type:int\n",
    "actorTemplates/node/actor.yaml": "worker: edge\n",
    "actorTemplates/node/actions.js": actions,
    "actorTemplates/app/schema.hrd": "node = parent:node\nms = type:int\n",
    "actorTemplates/app/actions.js": actions,
    "actorTemplates/free/schema.hrd": "ms = type:int\n",
    "actorTemplates/free/actions.js": actions,
    "blueprints/1_fleet.yaml": lines.join("\n") + "\n",
  };
}

/** One traced line. */
export interface TraceLine {
  service: string;
  action: string;
  worker: string;
  what: string;
}

/** The lines of a trace file. */
export async function readTrace(path: string): Promise<TraceLine[]> {
  const text = await readFile(path, "utf8").catch(() => "");
  return text.trim().split("\n").filter((l) => l !== "").map((line) => {
    const [service, action, worker, what] = line.split(" ");
    return { service, action, worker, what };
  });
}

/** Waits (bounded: 60 s) until the trace holds at least `count` lines of `what`. */
export async function untilTraced(
  path: string,
  what: string,
  options: { count: number; description: string },
): Promise<void> {
  const { count, description } = options;
  await until(
    async () => (await readTrace(path)).filter((l) => l.what === what).length >= count,
    { what: description, timeoutMs: 60_000 },
  );
}

/** A running `ays worker` process. */
export interface WorkerProcess {
  name: string;
  child: ChildProcess;
  /** Its stdout and stderr so far. */
  output(): string;
  /** Resolves with its exit code (or signal) when it ends. */
  exited: Promise<{ code: number | null; signal: string | null }>;
}

/** Options of {@link spawnWorker}. */
export interface SpawnWorkerOptions {
  labels?: string[];
  concurrency?: number;
  env?: Record<string, string>;
  launch?: AysLaunch;
  /** A command prefix, e.g. `ip netns exec NAME` to run it on a test host. */
  prefix?: string[];
  cwd?: string;
}

/** Starts `ays worker --store url --name name …`. */
export function spawnWorker(
  url: string,
  name: string,
  options: SpawnWorkerOptions = {},
): WorkerProcess {
  const [cmd, ...rest] = [...(options.prefix ?? []), ...aysCommand(options.launch ?? "bun")];
  const args = [...rest, "worker", "--store", url, "--name", name];
  for (const label of options.labels ?? []) args.push("--label", label);
  if (options.concurrency !== undefined) args.push("--concurrency", String(options.concurrency));
  const child = spawn(cmd, args, {
    env: { ...process.env as Record<string, string>, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
    cwd: options.cwd,
  });
  let out = "";
  child.stdout!.on("data", (chunk) => (out += String(chunk)));
  child.stderr!.on("data", (chunk) => (out += String(chunk)));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once("close", (code, signal) => resolve({ code, signal }))
  );
  return { name, child, output: () => out, exited };
}
