/**
 * The Web Worker that executes jobs: the local side of the job protocol
 * (`src/run/job_protocol.ts`, docs/job_protocol.md). It imports the actor's actions file by its
 * absolute path (so relative imports inside it work), builds the `job` object and calls the
 * exported action. It runs one job at a time; the pool decides which.
 *
 * Before waiting for a command started with `job.exec`, it reports the command's process
 * group to the pool: terminating a worker does not kill its children, so the pool kills the
 * groups itself when a job times out or is killed. The report is a message, which the pool may
 * not have read when it ends the worker; so the worker also puts the group in its exec slots
 * (`src/run/exec_slots.ts`, given by the host's `init`) the moment `spawn()` returns, and spawns
 * nothing once the host closed them (docs/job_protocol.md, "The worker's commands").
 *
 * @module
 */
/// <reference lib="webworker" />
import { DEFAULT_ACTIONS } from "../src/model/types.ts";
import { interceptExit, runtimeName } from "../src/runtime.ts";
import { serviceName } from "../src/model/names.ts";
import type {
  ExecOptions,
  ExecResult,
  FileOptions,
  Job,
  JobService,
  LogLevel,
  ServiceView,
} from "../src/run/job_api.ts";
import {
  type HostMessage,
  type JobError,
  type JobRequest,
  type JobServiceData,
  parseHostMessage,
  type WorkerMessage,
} from "../src/run/job_protocol.ts";
import { type JobClaim, takeClaim } from "../src/run/job_claim.ts";
import { type ExecutorSpec, parseExecutorSpec } from "../src/executor/spec.ts";
import { type ExecutorLink, resolveExecutor } from "../src/executor/resolve.ts";
import type { RemoteExecResult, RemoteReply, RemoteRequest } from "../src/executor/remote.ts";
import type { SshTarget } from "../src/executor/ssh_connections.ts";
import { LineCutter } from "../src/run/log_limits.ts";
import {
  beginSpawn,
  endSpawn,
  type ExecSlots,
  freeSlot,
  isClosed,
  killGroups,
} from "../src/run/exec_slots.ts";
import { fileUrlOf } from "../src/run/file_url.ts";

/** Output kept per stream of an exec result; the job log gets everything (capped by the pool). */
const EXEC_OUTPUT_CAP = 1024 * 1024;
/** How long to wait for output after a command exited (background children may hold its pipes). */
const DRAIN_MS = 100;

/**
 * Node modules most jobs never use, loaded at their first use (`process.getBuiltinModule`, at
 * once and cached): imported up front they cost every worker's start — `node:events` and
 * `node:path` alone 5 ms of CPU, 20 workers at a time — for jobs that neither print, run commands
 * nor touch files.
 */
const lazy = {
  childProcess: () => process.getBuiltinModule("node:child_process"),
  events: () => process.getBuiltinModule("node:events"),
  path: () => process.getBuiltinModule("node:path"),
  fs: () => process.getBuiltinModule("node:fs/promises"),
  util: () => process.getBuiltinModule("node:util"),
};

const controllers = new Map<number, AbortController>();
/** Remote requests waiting for the host's `remote-reply`, by call number. */
const calls = new Map<
  number,
  { resolve: (reply: RemoteReply) => void; reject: (e: Error) => void }
>();
const nextCall = { value: 0 };
/** The exec slots the host gave (`init`); none: the `exec` messages alone tell it. */
const execSlots = { slots: undefined as ExecSlots | undefined };
/** The actions modules this worker imported, by path ({@link importActions}). */
const modules = new Map<string, Promise<Record<string, unknown>>>();
/**
 * The job this worker runs (or ran last): what the action prints through `console` or
 * `process.stdout` belongs to it. The worker runs one job at a time; output of a job that
 * already ended carries its id and the host drops it.
 */
const current = { id: 0 };
/**
 * Jobs the host sent behind the running one (a `run` with a claim, docs/job_protocol.md), in
 * order; `running` counts the jobs running here; once an action called `process.exit` the
 * worker is ending and starts none of them (the host runs them elsewhere).
 */
const behind = {
  jobs: [] as { id: number; request: JobRequest; claim: JobClaim }[],
  running: 0,
  exited: false,
};

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
      value: (...args: unknown[]) => logLine(level, lazy.util().format(...args)),
      configurable: true,
      writable: true,
    });
  }
  Object.defineProperty(console, "dir", {
    value: (value: unknown) => logLine("info", lazy.util().inspect(value)),
    configurable: true,
    writable: true,
  });
  // Replaced by assignment, never read or redefined: Bun builds the real stream (an fs
  // WriteStream with its sink, ≈ 15 ms of CPU) the moment `process.stdout` is read, described
  // or redefined — for each of the 20 workers of a run, most of whose jobs never print.
  process.stdout = new CapturedOutput() as unknown as typeof process.stdout;
  process.stderr = new CapturedOutput() as unknown as typeof process.stderr;
}

/**
 * What an action sees as `process.stdout` and `process.stderr`: writes (and streams piped
 * into it) become raw text of the job log. Not a terminal (`isTTY` false) and no file
 * descriptor: its output goes to the log, not to ays' own.
 */
class CapturedOutput {
  readonly isTTY = false;
  readonly writable = true;
  /** The events of a stream (`pipe` listens to its destination), made at the first listener. */
  #emitter: import("node:events").EventEmitter | undefined;

  #events(): import("node:events").EventEmitter {
    return this.#emitter ??= new (lazy.events().EventEmitter)();
  }

  on(event: string | symbol, listener: (...args: unknown[]) => void): this {
    this.#events().on(event, listener);
    return this;
  }

  addListener(event: string | symbol, listener: (...args: unknown[]) => void): this {
    return this.on(event, listener);
  }

  once(event: string | symbol, listener: (...args: unknown[]) => void): this {
    this.#events().once(event, listener);
    return this;
  }

  prependListener(event: string | symbol, listener: (...args: unknown[]) => void): this {
    this.#events().prependListener(event, listener);
    return this;
  }

  off(event: string | symbol, listener: (...args: unknown[]) => void): this {
    this.#emitter?.off(event, listener);
    return this;
  }

  removeListener(event: string | symbol, listener: (...args: unknown[]) => void): this {
    return this.off(event, listener);
  }

  emit(event: string | symbol, ...args: unknown[]): boolean {
    return this.#emitter?.emit(event, ...args) ?? false;
  }

  listenerCount(event: string | symbol): number {
    return this.#emitter?.listenerCount(event) ?? 0;
  }

  write(chunk: unknown, ...rest: unknown[]): boolean {
    logText(typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk as Uint8Array));
    const done = rest.find((x) => typeof x === "function") as (() => void) | undefined;
    done?.();
    return true;
  }

  /** Ends nothing (the job's log goes on): a stream piped in may call it when it ends. */
  end(chunk?: unknown, ...rest: unknown[]): this {
    if (chunk !== undefined && typeof chunk !== "function") this.write(chunk);
    const done = [chunk, ...rest].find((x) => typeof x === "function") as (() => void) | undefined;
    done?.();
    return this;
  }
}

/**
 * `process.exit` (or `Deno.exit`) in an action would end this worker silently and leave its
 * job waiting for its timeout: tell the host instead, which fails the job at once and
 * replaces the worker, and stop the action here.
 */
function captureExit(): void {
  const exit = (code?: unknown): never => {
    // The host ends this worker when the exit comes from its running job; an exit while none
    // runs (a timer an ended job left) it ignores, as the worker goes on: only then may jobs
    // sent behind still start here.
    if (behind.running > 0) behind.exited = true;
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
  handle(parseHostMessage(event.data));
};

/** One message of the host (a `batch`: each of its messages, in order). */
function handle(message: HostMessage): void {
  switch (message.type) {
    case "init":
      execSlots.slots = message.slots;
      break;
    case "ping":
      send({ type: "pong", id: message.id, runtime: runtimeName() });
      break;
    case "cancel":
      controllers.get(message.id)?.abort(new Error(message.reason));
      break;
    case "run":
      if (message.claim === undefined) start(message.id, message.request);
      else {
        behind.jobs.push({ id: message.id, request: message.request, claim: message.claim });
        startBehind();
      }
      break;
    case "remote-reply": {
      const waiting = calls.get(message.call);
      calls.delete(message.call);
      if (message.ok) waiting?.resolve(message.reply);
      else waiting?.reject(new Error(message.error.message));
      break;
    }
    case "batch":
      for (const inner of message.messages) handle(inner);
      break;
  }
}

/** Runs a job; when it ended (its end sent), the next job sent behind it may start. */
function start(id: number, request: JobRequest): void {
  behind.running++;
  void runJob(id, request).finally(() => {
    behind.running--;
    startBehind();
  });
}

/**
 * Starts the next job sent behind, once none runs: each only if its claim is taken here first
 * (one the host took back is dropped: it runs elsewhere or not at all).
 */
function startBehind(): void {
  while (behind.running === 0 && !behind.exited && behind.jobs.length > 0) {
    const next = behind.jobs.shift()!;
    const turn = takeClaim(next.claim);
    if (turn === "start") start(next.id, next.request);
    else if (turn === "stop") {
      // The host is ending this worker: the jobs sent after this one it takes back too.
      behind.exited = true;
      behind.jobs.length = 0;
    }
  }
}

/** Sends `request` to the host, which runs it on the job's SSH target. */
function remote(id: number, request: RemoteRequest): Promise<RemoteReply> {
  const call = ++nextCall.value;
  return new Promise((resolve, reject) => {
    calls.set(call, { resolve, reject });
    send({ type: "remote", id, call, request });
  });
}

async function runJob(id: number, request: JobRequest): Promise<void> {
  const controller = new AbortController();
  controllers.set(id, controller);
  current.id = id;
  let end: WorkerMessage;
  let job: Job | undefined;
  try {
    // v8.1's noexec: record the action as done, load and run nothing (docs/from-v81.md).
    // A fleet coordinator sends the executor it resolved (docs/fleet.md); it is checked again.
    const executor = request.noexec
      ? { kind: "local" as const }
      : request.executor !== undefined
      ? parseExecutorSpec(request.executor)
      : await jobExecutor(request);
    job = makeJob(id, request, controller.signal, executor);
    if (request.noexec) job.log(`noexec: ${request.action} not executed`);
    const action = request.noexec ? null : await loadAction(request);
    const started = performance.now();
    const value = action ? await action(job) : undefined;
    const millis = performance.now() - started;
    end = { type: "result", id, result: toJson(value), data: job.service.data, millis };
  } catch (error) {
    end = {
      type: "error",
      id,
      error: errorOf(error),
      data: job?.service.data ?? request.service.data,
    };
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

/** What `executor(job)` of a service receives: its read-only view and the repository. */
function executorContext(request: JobRequest, service: JobServiceData) {
  return deepFreeze({
    repo: { ...request.repo },
    service: structuredClone(service),
  });
}

/**
 * An executor link whose `job` (a frozen copy of the service) is made only when its module
 * exports `executor` and asks for it: most actions files export none, and a copy per job and
 * ancestor is most of this worker's work on a run of short jobs.
 */
function executorLink(request: JobRequest, service: JobServiceData, actionsPath: string | null) {
  let job: unknown;
  return {
    name: serviceName(service.role, service.name),
    actionsPath,
    get job() {
      job ??= executorContext(request, service);
      return job;
    },
  };
}

/**
 * An actions module by its path: imported once per worker, the promise kept (a second
 * `import()` of a loaded module still costs a module-map lookup and a URL per call).
 */
function importActions(path: string): Promise<Record<string, unknown>> {
  let module = modules.get(path);
  if (!module) {
    module = import(fileUrlOf(path)) as Promise<Record<string, unknown>>;
    modules.set(path, module);
    // A failed import is tried again by the next job (the file may be fixed meanwhile).
    module.catch(() => modules.delete(path));
  }
  return module;
}

/** The job's executor: the walk up its service's parent chain (docs/executors.md). */
async function jobExecutor(request: JobRequest): Promise<ExecutorSpec> {
  const links: ExecutorLink[] = [
    executorLink(request, request.service, request.actionsPath),
    ...(request.ancestors ?? []).map((a) => executorLink(request, a.service, a.actionsPath)),
  ];
  const { spec } = await resolveExecutor(links, {
    load: importActions,
    pinnedLocal: request.executorLocal === true,
  });
  return spec;
}

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
    const module = await importActions(actionsPath);
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
    text = typeof value === "string" ? JSON.stringify(value) : lazy.util().inspect(value, {
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

function makeJob(
  id: number,
  request: JobRequest,
  signal: AbortSignal,
  executor: ExecutorSpec,
): Job {
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
  const root = request.repo.path;
  const localExec =
    ((command: string, options: ExecOptions = {}) =>
      runCommand(id, command, options, { root, env, signal })) as Job["exec"];
  const files = executor.kind === "ssh"
    ? remoteFiles(
      id,
      { ...executor, knownHosts: lazy.path().join(root, ".ays", "known_hosts") },
      root,
    )
    : localFiles(root);
  const exec = executor.kind === "ssh"
    ? ((command: string, options: ExecOptions = {}) =>
      remoteCommand(id, command, options, {
        target: { ...executor, knownHosts: lazy.path().join(root, ".ays", "known_hosts") },
        env,
        signal,
      })) as Job["exec"]
    : localExec;
  const shown = executor.kind === "ssh"
    ? {
      kind: "ssh" as const,
      host: executor.host,
      ...(executor.port === undefined ? {} : { port: executor.port }),
      ...(executor.user === undefined ? {} : { user: executor.user }),
    }
    : { kind: "local" as const };
  return Object.freeze({
    repo: Object.freeze({ ...request.repo }),
    service: Object.seal(service),
    action: request.action,
    args: request.args ?? {},
    runId: request.runId,
    attempt: request.attempt ?? 1,
    signal,
    log,
    executor: Object.freeze(shown),
    exec,
    ...files,
    local: Object.freeze({ exec: localExec }),
  });
}

type FileApi = Pick<Job, "upload" | "download" | "readFile" | "writeFile">;

function checkMode(options: FileOptions): void {
  const { mode } = options;
  if (mode !== undefined && !(Number.isInteger(mode) && mode >= 0 && mode <= 0o7777)) {
    throw new RangeError(`mode must be permission bits like 0o644, got ${mode}`);
  }
}

function checkPath(path: unknown, what: string): asserts path is string {
  if (typeof path !== "string" || path === "") {
    throw new TypeError(`${what} must be a non-empty path`);
  }
}

/** The file operations on the machine ays runs on (paths relative to the repository root). */
function localFiles(root: string): FileApi {
  const at = (path: string) => lazy.path().resolve(root, path);
  const write = async (path: string, data: string | Uint8Array, options: FileOptions) => {
    checkMode(options);
    await lazy.fs().mkdir(lazy.path().dirname(at(path)), { recursive: true });
    await lazy.fs().writeFile(
      at(path),
      data,
      options.mode === undefined ? {} : { mode: options.mode },
    );
  };
  return {
    upload: async (source, path, options = {}) => {
      checkPath(path, "path");
      if (typeof source === "string") {
        checkMode(options);
        await lazy.fs().mkdir(lazy.path().dirname(at(path)), { recursive: true });
        await lazy.fs().copyFile(at(source), at(path));
        if (options.mode !== undefined) {
          await lazy.fs().chmod(at(path), options.mode);
        }
      } else {
        await write(path, source, options);
      }
    },
    download: async (path, localPath) => {
      checkPath(path, "path");
      checkPath(localPath, "localPath");
      await lazy.fs().mkdir(lazy.path().dirname(at(localPath)), { recursive: true });
      await lazy.fs().copyFile(at(path), at(localPath));
    },
    readFile: (path) => {
      checkPath(path, "path");
      return lazy.fs().readFile(at(path), "utf8");
    },
    writeFile: (path, data, options = {}) => {
      checkPath(path, "path");
      return write(path, data, options);
    },
  };
}

/** The file operations on an SSH target, through the host (local paths: repository root). */
function remoteFiles(id: number, target: SshTarget, root: string): FileApi {
  const put = async (
    remotePath: string,
    body: { localPath?: string; bytes?: Uint8Array },
    options: FileOptions,
  ) => {
    checkPath(remotePath, "path");
    checkMode(options);
    await remote(id, {
      op: "put",
      target,
      remotePath,
      ...body,
      ...(options.mode === undefined ? {} : { mode: options.mode }),
    });
  };
  return {
    upload: (source, path, options = {}) =>
      typeof source === "string"
        ? put(path, { localPath: lazy.path().resolve(root, source) }, options)
        : put(path, { bytes: source }, options),
    download: async (path, localPath) => {
      checkPath(path, "path");
      checkPath(localPath, "localPath");
      const local = lazy.path().resolve(root, localPath);
      await lazy.fs().mkdir(lazy.path().dirname(local), { recursive: true });
      await remote(id, { op: "get", target, remotePath: path, localPath: local });
    },
    readFile: async (path) => {
      checkPath(path, "path");
      const reply = await remote(id, { op: "get", target, remotePath: path });
      return new TextDecoder().decode(
        reply.op === "get" ? reply.bytes ?? new Uint8Array() : new Uint8Array(),
      );
    },
    writeFile: (path, data, options = {}) =>
      put(
        path,
        { bytes: typeof data === "string" ? new TextEncoder().encode(data) : data },
        options,
      ),
  };
}

interface RemoteCommandContext {
  target: SshTarget;
  env: Record<string, string>;
  signal: AbortSignal;
}

/**
 * `job.exec` on an SSH target: the host runs it through the run's connection to the target
 * and streams its output into the job log; a non-zero exit rejects as locally (unless
 * `check: false`), a connection failure rejects with "host unreachable: …".
 */
async function remoteCommand(
  id: number,
  command: string,
  options: ExecOptions,
  context: RemoteCommandContext,
): Promise<ExecResult | number> {
  if (context.signal.aborted) throw context.signal.reason;
  const reply = await remote(id, {
    op: "exec",
    target: context.target,
    command,
    env: { ...context.env, ...options.env },
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    ...(options.input === undefined ? {} : { input: options.input }),
    ...(options.detach ? { detach: true } : {}),
    ...(options.quiet ? { quiet: true } : {}),
  });
  if (reply.op === "detach") return reply.pid;
  const result = (reply as { result: RemoteExecResult }).result;
  if (options.check === false) return result.code;
  if (result.code === 0) return result;
  const tail = result.stderr.trim().split("\n").slice(-5).join("\n");
  const error = new Error(
    `command failed with exit code ${result.code} on ${context.target.host}: ${command}${
      tail ? `\n${tail}` : ""
    }`,
  );
  (error as Error & { result?: ExecResult }).result = result;
  throw error;
}

/** Why a command is not started: the host is ending this worker (its job is over). */
function endingError(command: string): Error {
  return new Error(`command not started, its worker is being ended: ${command}`);
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
  const cwd = lazy.path().resolve(context.root, options.cwd ?? ".");
  if (options.check === false && !options.detach) {
    // Resolves with the exit code, 0 included.
    return runCommand(id, command, { ...options, check: true }, context).then(
      () => 0,
      (error) => {
        const result = (error as { result?: ExecResult }).result;
        if (result) return result.code;
        throw error;
      },
    );
  }
  const env = { ...process.env, ...context.env, ...options.env };
  if (context.signal.aborted) return Promise.reject(context.signal.reason);
  const slots = execSlots.slots;
  if (slots !== undefined && isClosed(slots)) return Promise.reject(endingError(command));
  if (options.detach) {
    const child = lazy.childProcess().spawn("sh", ["-c", command], {
      cwd,
      env,
      detached: true,
      stdio: "ignore",
    });
    child.unref();
    if (child.pid !== undefined) {
      send({ type: "exec", id, pid: child.pid, state: "started", detached: true });
    }
    return new Promise((resolvePid, reject) => {
      child.once("error", reject);
      child.once("spawn", () => resolvePid(child.pid!));
    });
  }
  // Counted as a spawn in progress from before the check of the slots until its pid is in one,
  // so the host, closing them, waits for this pid rather than missing it (`exec_slots.ts`).
  if (slots !== undefined && !beginSpawn(slots)) return Promise.reject(endingError(command));
  let child: import("node:child_process").ChildProcess;
  try {
    child = lazy.childProcess().spawn("sh", ["-c", command], {
      cwd,
      env,
      detached: true,
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
  } catch (error) {
    if (slots !== undefined) endSpawn(slots, { job: id });
    throw error;
  }
  const slot = slots === undefined ? -1 : endSpawn(slots, { job: id, pid: child.pid });
  // Closed while it spawned, and the host's wait ran out (a stalled thread): kill it here too.
  if (slots !== undefined && isClosed(slots) && child.pid !== undefined) killGroups([child.pid]);
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
      if (slots !== undefined) freeSlot(slots, slot);
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
      if (slots !== undefined) freeSlot(slots, slot);
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
