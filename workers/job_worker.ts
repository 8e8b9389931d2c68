/**
 * The Web Worker that executes jobs: the local side of the job protocol
 * (`src/run/job_protocol.ts`, docs/job_protocol.md). It imports the actor's actions file by its
 * absolute path (so relative imports inside it work), builds the `job` object and calls the
 * exported action. It runs one job at a time; the pool decides which.
 *
 * Before waiting for a command started with `job.exec`, it reports the command's process
 * group to the pool: terminating a worker does not kill its children, so the pool kills the
 * groups itself when a job times out or is killed.
 *
 * @module
 */
/// <reference lib="webworker" />
import { spawn } from "node:child_process";
import { format, inspect } from "node:util";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { DEFAULT_ACTIONS } from "../src/model/types.ts";
import { interceptExit, runtimeName } from "../src/runtime.ts";
import { serviceName } from "../src/model/names.ts";
import type {
  ExecOptions,
  ExecResult,
  Job,
  JobService,
  LogLevel,
  ServiceView,
} from "../src/run/job_api.ts";
import {
  type JobError,
  type JobRequest,
  parseHostMessage,
  type WorkerMessage,
} from "../src/run/job_protocol.ts";
import { LineCutter } from "../src/run/log_limits.ts";

/** Output kept per stream of an exec result; the job log gets everything (capped by the pool). */
const EXEC_OUTPUT_CAP = 1024 * 1024;
/** How long to wait for output after a command exited (background children may hold its pipes). */
const DRAIN_MS = 100;

const controllers = new Map<number, AbortController>();
/**
 * The job this worker runs (or ran last): what the action prints through `console` or
 * `process.stdout` belongs to it. The worker runs one job at a time; output of a job that
 * already ended carries its id and the host drops it.
 */
const current = { id: 0 };

function send(message: WorkerMessage): void {
  postMessage(message);
}

/** Log text of the current job, its over-long lines cut (`job.log` sends whole lines). */
function logText(text: string): void {
  send({ type: "log", id: current.id, text: new LineCutter().cut(text) });
}

function logLine(level: LogLevel, text: string): void {
  logText(`[${level}] ${text}${text.endsWith("\n") ? "" : "\n"}`);
}

/**
 * What an action prints goes to its job log (masked by the host), never to ays' own standard
 * output or error: `console.*` become log lines of their level, `process.stdout`/`stderr`
 * writes raw log text (docs/runs.md).
 */
function captureOutput(): void {
  const levels: [string, LogLevel][] = [
    ["log", "info"],
    ["info", "info"],
    ["debug", "debug"],
    ["trace", "debug"],
    ["warn", "warn"],
    ["error", "error"],
  ];
  for (const [method, level] of levels) {
    Object.defineProperty(console, method, {
      value: (...args: unknown[]) => logLine(level, format(...args)),
      configurable: true,
      writable: true,
    });
  }
  Object.defineProperty(console, "dir", {
    value: (value: unknown) => logLine("info", inspect(value)),
    configurable: true,
    writable: true,
  });
  for (const stream of [process.stdout, process.stderr]) {
    Object.defineProperty(stream, "write", {
      value: (chunk: unknown, ...rest: unknown[]) => {
        logText(typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk as Uint8Array));
        const done = rest.find((x) => typeof x === "function") as (() => void) | undefined;
        done?.();
        return true;
      },
      configurable: true,
      writable: true,
    });
  }
}

/**
 * `process.exit` (or `Deno.exit`) in an action would end this worker silently and leave its
 * job waiting for its timeout: tell the host instead, which fails the job at once and
 * replaces the worker, and stop the action here.
 */
function captureExit(): void {
  const exit = (code?: unknown): never => {
    send({ type: "exit", id: current.id, code: Number.isSafeInteger(code) ? code as number : 0 });
    throw new Error("the action ended its worker (process.exit)");
  };
  interceptExit(exit);
}

captureOutput();
captureExit();

self.onmessage = (event: MessageEvent<unknown>) => {
  // A message that breaks the protocol is thrown: the host sees a worker error, fails the job
  // it had here and replaces this worker.
  const message = parseHostMessage(event.data);
  switch (message.type) {
    case "ping":
      send({ type: "pong", id: message.id, runtime: runtimeName() });
      break;
    case "cancel":
      controllers.get(message.id)?.abort(new Error(message.reason));
      break;
    case "run":
      void runJob(message.id, message.request);
      break;
  }
};

async function runJob(id: number, request: JobRequest): Promise<void> {
  const controller = new AbortController();
  controllers.set(id, controller);
  current.id = id;
  const job = makeJob(id, request, controller.signal);
  let end: WorkerMessage;
  try {
    // v8.1's noexec: record the action as done, load and run nothing (docs/from-v81.md).
    if (request.noexec) job.log(`noexec: ${request.action} not executed`);
    const action = request.noexec ? null : await loadAction(request);
    const value = action ? await action(job) : undefined;
    end = { type: "result", id, result: toJson(value), data: job.service.data };
  } catch (error) {
    end = { type: "error", id, error: errorOf(error), data: job.service.data };
  } finally {
    controllers.delete(id);
  }
  try {
    send(end);
  } catch (error) {
    // The data could not be cloned (a function, a symbol…): report that instead.
    send({ type: "error", id, error: errorOf(error), data: {} });
  }
}

type ActionFn = (job: Job) => unknown;

/** The exported action, null for a default action the file does not define. */
async function loadAction(request: JobRequest): Promise<ActionFn | null> {
  const { actionsPath, action } = request;
  let fn: unknown = undefined;
  // A v8.1 template whose actions.py was not ported: doing nothing and reporting ok would lie.
  if (actionsPath && /(^|[\\/])actions\.py$/.test(actionsPath)) {
    throw new Error(
      `actions.py of ${request.service.actor} is not ported to actions.ts (see docs/from-v81.md)`,
    );
  }
  if (actionsPath) {
    const module = await import(pathToFileURL(actionsPath).href) as Record<string, unknown>;
    fn = module[action];
  }
  if (typeof fn === "function") return fn as ActionFn;
  if (fn !== undefined) {
    throw new Error(`${actionsPath}: export ${action} is not a function`);
  }
  if (DEFAULT_ACTIONS.includes(action)) return null;
  throw new Error(
    actionsPath
      ? `${actionsPath} does not export action ${action}`
      : `action ${action} is not defined: the actor has no actions file`,
  );
}

function toJson(value: unknown): unknown {
  if (value === undefined) return null;
  const text = JSON.stringify(value);
  return text === undefined ? null : JSON.parse(text);
}

function errorOf(error: unknown): JobError {
  try {
    if (error instanceof Error) {
      const message = String(error.message);
      const stack = error.stack;
      return typeof stack === "string" ? { message, stack } : { message };
    }
  } catch {
    // An Error whose message or stack getter throws: describe it as any other value.
  }
  return { message: `a non-Error value was thrown: ${describeThrown(error)}` };
}

/** One line describing a thrown value, whatever it is (no `toString`, one that throws…). */
function describeThrown(value: unknown): string {
  let text: string;
  try {
    text = typeof value === "string" ? JSON.stringify(value) : inspect(value, {
      depth: 2,
      breakLength: Infinity,
      customInspect: false,
    });
  } catch {
    text = Object.prototype.toString.call(value);
  }
  text = text.replace(/\s*\n\s*/g, " ");
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function makeJob(id: number, request: JobRequest, signal: AbortSignal): Job {
  const s = request.service;
  const service: JobService = {
    name: s.name,
    actor: s.actor,
    role: s.role,
    key: s.key,
    data: s.data,
    parent: s.parent ? deepFreeze(s.parent) : null,
    producers: deepFreeze(s.producers) as Record<string, readonly ServiceView[]>,
    consumers: deepFreeze(s.consumers),
  };
  const log = (message: string, level: LogLevel = "info") => {
    const text = String(message);
    // Cut here, so a 100 MB message is not even copied to the host.
    send({
      type: "log",
      id,
      text: new LineCutter().cut(`[${level}] ${text}${text.endsWith("\n") ? "" : "\n"}`),
    });
  };
  const env: Record<string, string> = {
    AYS_REPO: request.repo.path,
    AYS_REPO_NAME: request.repo.name,
    AYS_SERVICE: serviceName(s.role, s.name),
    AYS_ACTION: request.action,
    AYS_RUN: request.runId,
    // A job of the fleet names the worker running it (docs/fleet.md).
    ...(request.worker === undefined ? {} : { AYS_WORKER: request.worker }),
  };
  const exec =
    ((command: string, options: ExecOptions = {}) =>
      runCommand(id, command, options, { root: request.repo.path, env, signal })) as Job["exec"];
  return Object.freeze({
    repo: Object.freeze({ ...request.repo }),
    service: Object.seal(service),
    action: request.action,
    args: request.args ?? {},
    runId: request.runId,
    attempt: request.attempt ?? 1,
    signal,
    log,
    exec,
  });
}

interface CommandContext {
  root: string;
  env: Record<string, string>;
  signal: AbortSignal;
}

function runCommand(
  id: number,
  command: string,
  options: ExecOptions,
  context: CommandContext,
): Promise<ExecResult | number> {
  const cwd = resolve(context.root, options.cwd ?? ".");
  const env = { ...process.env, ...context.env, ...options.env };
  if (context.signal.aborted) return Promise.reject(context.signal.reason);
  if (options.detach) {
    const child = spawn("sh", ["-c", command], { cwd, env, detached: true, stdio: "ignore" });
    child.unref();
    if (child.pid !== undefined) {
      send({ type: "exec", id, pid: child.pid, state: "started", detached: true });
    }
    return new Promise((resolvePid, reject) => {
      child.once("error", reject);
      child.once("spawn", () => resolvePid(child.pid!));
    });
  }
  const child = spawn("sh", ["-c", command], {
    cwd,
    env,
    detached: true,
    stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
  return new Promise((resolveResult, reject) => {
    const out: string[] = [];
    const err: string[] = [];
    let outLength = 0, errLength = 0;
    let exitCode: number | null = null;
    let exitSignal: string | null = null;
    let settled = false;
    let drainTimer: ReturnType<typeof setTimeout> | undefined;
    const killGroup = () => {
      try {
        process.kill(-child.pid!, "SIGTERM");
      } catch {
        // Already gone.
      }
    };
    const onAbort = () => killGroup();
    const collect = (into: string[], which: "out" | "err") => {
      // One decoder per stream: a UTF-8 character may be split across chunks.
      const decoder = new TextDecoder();
      const cutter = new LineCutter();
      return (chunk: Uint8Array | string) => collectText(into, which, decoder, cutter, chunk);
    };
    const collectText = (
      into: string[],
      which: "out" | "err",
      decoder: TextDecoder,
      cutter: LineCutter,
      chunk: Uint8Array | string,
    ) => {
      const text = typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
      if (text.length === 0) return;
      if (!options.quiet) {
        // A 50 MB line without a newline reaches the host cut (the result keeps its tail).
        const cut = cutter.cut(text);
        if (cut.length > 0) send({ type: "log", id, text: cut });
      }
      const length = which === "out" ? (outLength += text.length) : (errLength += text.length);
      into.push(text);
      if (length > 2 * EXEC_OUTPUT_CAP) {
        const kept = into.join("").slice(-EXEC_OUTPUT_CAP);
        into.length = 0;
        into.push(kept);
        if (which === "out") outLength = kept.length;
        else errLength = kept.length;
      }
    };
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(drainTimer);
      context.signal.removeEventListener("abort", onAbort);
      child.stdout?.destroy();
      child.stderr?.destroy();
      send({ type: "exec", id, pid: child.pid!, state: "exited", detached: false });
      exitCode ??= child.exitCode;
      const result = { code: exitCode ?? -1, stdout: out.join(""), stderr: err.join("") };
      if (exitCode === 0) {
        resolveResult(result);
        return;
      }
      const how = exitCode !== null ? `exit code ${exitCode}` : `signal ${exitSignal}`;
      const tail = result.stderr.trim().split("\n").slice(-5).join("\n");
      const error = new Error(`command failed with ${how}: ${command}${tail ? `\n${tail}` : ""}`);
      (error as Error & { result?: ExecResult }).result = result;
      reject(error);
    };
    child.stdout!.on("data", collect(out, "out"));
    child.stderr!.on("data", collect(err, "err"));
    child.once("error", (error) => {
      if (settled) return;
      settled = true;
      context.signal.removeEventListener("abort", onAbort);
      reject(error);
    });
    // Reported at once, not on "spawn": an action that does not await exec and then blocks
    // the thread would never let the event fire, and the pool must know the group.
    if (child.pid !== undefined) {
      send({ type: "exec", id, pid: child.pid, state: "started", detached: false });
    }
    context.signal.addEventListener("abort", onAbort, { once: true });
    child.once("exit", (code, signal) => {
      exitCode = code;
      exitSignal = signal;
      drainTimer = setTimeout(finish, DRAIN_MS);
    });
    child.once("close", () => finish());
    if (options.input !== undefined) child.stdin!.end(options.input);
  });
}
