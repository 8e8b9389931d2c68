/**
 * Real actions files for the run tests, written to temporary folders, and helpers to build
 * job requests and look at process groups.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import type { JobRequest, JobServiceData } from "../../src/run/job_protocol.ts";
import { makeTempDir, type TempDir, writeFiles } from "../helpers/mod.ts";

/** An actions file exercising the job API; `lib/helper.ts` proves relative imports. */
export const ACTIONS_TS = `
import { readFileSync } from "node:fs";
import { greet } from "./lib/helper.ts";
let calls = 0;

// Once the shell wrote its pid the exec runs, and the pool knows its group: the worker reported
// it when it spawned the shell, before this log line (one channel, in order). A test that times a
// job out waits for the line; waiting for the pid file alone raced the report. At most 60 s.
const pidWritten = (file) => {
  try {
    return readFileSync(file, "utf8").trim() !== "";
  } catch {
    return false;
  }
};
async function logWhenRunning(job, line) {
  for (let i = 0; i < 12000 && !pidWritten(job.args.pidFile); i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  job.log(line);
}

export function init(job) {
  return { greeting: greet(job.service.name), action: job.action, runId: job.runId };
}

export function throws() {
  throw new Error("boom from throws");
}

export function changeData(job) {
  job.service.data.port = job.service.data.port + 1;
  job.service.data.added = "yes";
  return null;
}

export async function envCheck(job) {
  const r = await job.exec("pwd; echo \\"$AYS_REPO|$AYS_SERVICE|$AYS_ACTION|$AYS_RUN|$FROM_OPT\\"; echo to-stderr >&2", { env: { FROM_OPT: "opt" } });
  return r;
}

export async function failExec(job) {
  await job.exec("echo failing-now >&2; exit 3");
  return "not reached";
}

export async function hang() {
  await new Promise(() => {});
}

export async function sleeper(job) {
  const running = job.exec("echo $$ > " + JSON.stringify(job.args.pidFile) + "; sleep 600");
  await logWhenRunning(job, "exec running");
  await running;
}

export async function runaway(job) {
  job.exec("echo $$ > " + JSON.stringify(job.args.pidFile) + "; sleep 600").catch(() => {});
  await logWhenRunning(job, "spinning");
  for (;;) { /* a runaway synchronous loop */ }
}

export function count() {
  calls += 1;
  return calls;
}

export function logs(job) {
  job.log("hello log");
  job.log("careful", "warn");
  return null;
}

export function bigLog(job) {
  const line = "x".repeat(1023) + "\\n";
  for (let i = 0; i < 3000; i++) job.log(line.slice(0, -1));
  job.log("the last line");
  return null;
}

export function views(job) {
  let parentWritable = true;
  try { job.service.parent.data.x = 1; } catch { parentWritable = false; }
  return {
    name: job.service.name, actor: job.service.actor, role: job.service.role, key: job.service.key,
    parent: job.service.parent, producers: job.service.producers, consumers: job.service.consumers,
    parentWritable, repo: job.repo, args: job.args, attempt: job.attempt,
  };
}

export async function detached(job) {
  return await job.exec("exec sleep 600", { detach: true });
}

export async function waitSignal(job) {
  // An abort that came before this line (the action still loading) fires no event.
  await new Promise((resolve) => job.signal.aborted ? resolve() : job.signal.addEventListener("abort", resolve));
  return "saw abort";
}

export async function flaky(job) {
  if (job.attempt < 3) throw new Error("attempt " + job.attempt + " failed");
  return job.attempt;
}

export async function sleepMs(job) {
  await new Promise((resolve) => setTimeout(resolve, job.args.ms ?? 0));
  return null;
}

export async function throwLater() {
  setTimeout(() => { throw new Error("thrown from a timer"); }, 10);
  await new Promise((resolve) => setTimeout(resolve, 5000));
}

export async function execUntilCancelled(job) {
  await job.exec("echo $$ > " + JSON.stringify(job.args.pidFile) + "; sleep 600");
}

export async function execOptions(job) {
  const fed = await job.exec("cat", { input: "fed through stdin" });
  const sub = await job.exec("pwd", { cwd: "tmpl/lib", quiet: true });
  return { fed: fed.stdout, sub: sub.stdout.trim() };
}

/** Arrives at a rendezvous of \`n\` jobs in \`dir\` and waits for the others (at most 60 s). */
export async function meet(job) {
  const fs = await import("node:fs/promises");
  const { dir, i, n } = job.args;
  await fs.writeFile(dir + "/in-" + i, "");
  const until = Date.now() + 60000;
  for (;;) {
    const here = (await fs.readdir(dir)).filter((f) => f.startsWith("in-")).length;
    if (here >= n) return here;
    if (Date.now() > until) throw new Error("only " + here + " of " + n + " jobs ran at once");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Marks itself running in \`dir\`, yields, and returns how many marked jobs it saw. */
export async function countRunning(job) {
  const fs = await import("node:fs/promises");
  const mine = job.args.dir + "/run-" + job.args.i;
  await fs.writeFile(mine, "");
  await new Promise((resolve) => setTimeout(resolve, 20));
  const running = (await fs.readdir(job.args.dir)).filter((f) => f.startsWith("run-")).length;
  await fs.rm(mine);
  return running;
}

export const notAFunction = 42;
`;

/** A temp folder with `actions.ts` and its relative import. */
export async function writeActions(source = ACTIONS_TS): Promise<TempDir & { actions: string }> {
  const dir = await makeTempDir("ays-run-");
  await writeFiles(dir.path, {
    "tmpl/actions.ts": source,
    "tmpl/lib/helper.ts":
      `export function greet(name: string): string { return "hello " + name; }\n`,
  });
  return { ...dir, actions: join(dir.path, "tmpl", "actions.ts") };
}

/** The service part of a request. */
export function serviceData(name = "web1", data: Record<string, unknown> = {}): JobServiceData {
  return {
    name,
    actor: "node.ssh",
    role: "node",
    key: "k-" + name,
    data,
    parent: null,
    producers: {},
    consumers: [],
  };
}

/** A request for `action` of service `web1`, repository rooted at `repoPath`. */
export function request(
  actionsPath: string | null,
  action: string,
  repoPath: string,
  extra: Partial<JobRequest> = {},
): JobRequest {
  return {
    actionsPath,
    action,
    args: {},
    runId: "run-1",
    repo: { name: "testrepo", path: repoPath },
    service: serviceData(),
    ...extra,
  };
}

/** Members of process group `pgid` that are alive (not zombies). */
export function liveGroupMembers(pgid: number): string[] {
  const out = execFileSync("ps", ["-eo", "pid=,pgid=,stat=,args="]).toString();
  return out.split("\n").map((l) => l.trim()).filter((l) => {
    const [, group, stat] = l.split(/\s+/);
    return Number(group) === pgid && !stat.startsWith("Z");
  });
}

/** Waits until `check` returns true, polling; false after `ms`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  ms = 5000,
): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return await check();
}
