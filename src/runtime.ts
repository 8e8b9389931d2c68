/**
 * The only module that knows which JavaScript runtime runs ays and how it was packaged.
 * Everything else uses web-standard APIs and `node:` built-ins common to Bun and Deno.
 *
 * @module
 */

/**
 * `node:fs` and `node:url`, loaded at their first use (`process.getBuiltinModule`, cached by the
 * runtime): every job worker imports this module, and importing either up front cost each of a
 * run's 20 workers more than the worker's own start (docs/benchmarks.md, "first jobs").
 */
const builtin = {
  fs: () => process.getBuiltinModule("node:fs"),
  url: () => process.getBuiltinModule("node:url"),
};

/** The runtime executing ays. */
export type RuntimeName = "bun" | "deno" | "node";

/** How this copy of ays is packaged, which decides where worker entry points live. */
export type Packaging = "binary" | "bundle" | "source";

/** Which runtime executes this code. */
export function runtimeName(): RuntimeName {
  const g = globalThis as Record<string, unknown>;
  if (typeof g.Bun !== "undefined") return "bun";
  if (typeof g.Deno !== "undefined") return "deno";
  return "node";
}

/**
 * Whether ays runs from the compiled binary (Bun's embedded `$bunfs`), from the esbuild
 * bundle `dist/ays.js`, or from the TypeScript sources.
 */
export function packaging(moduleUrl: string = import.meta.url): Packaging {
  if (moduleUrl.includes("/$bunfs/") || moduleUrl.includes("%24bunfs")) return "binary";
  if (moduleUrl.endsWith(".js")) return "bundle";
  return "source";
}

/**
 * The specifier to pass to `new Worker()` for the worker entry `workers/<name>.ts`.
 *
 * In the compiled binary, Bun embeds extra entry points under their path relative to the
 * project root and resolves a relative specifier against that root; the bundle keeps
 * `dist/workers/<name>.js` beside `dist/ays.js`; from source the file is used as it is.
 */
export function workerSpecifier(name: string, moduleUrl: string = import.meta.url): string {
  switch (packaging(moduleUrl)) {
    case "binary":
      return `./workers/${name}.ts`;
    case "bundle":
      return new URL(`./workers/${name}.js`, moduleUrl).href;
    case "source":
      return new URL(`../workers/${name}.ts`, moduleUrl).href;
  }
}

/**
 * Ends the process. Always explicit: in Deno a terminated worker stuck in a synchronous loop
 * keeps its thread spinning and the process would never exit on its own (docs/development.md). Exiting
 * drops output still queued for a pipe: flush the CLI's io first (`ProcessIo.flush`).
 */
export function exitProcess(code: number): never {
  process.exit(code);
}

/**
 * Replaces the runtime's ways for code to end the process (`process.exit`, and `Deno.exit`
 * under Deno) with `exit`, in the calling worker only: a job worker reports an action's exit
 * to its host instead of ending silently. Under Deno the namespace may refuse the change;
 * `process.exit` is replaced in every runtime.
 */
export function interceptExit(exit: (code?: unknown) => never): void {
  Object.defineProperty(process, "exit", { value: exit, configurable: true, writable: true });
  const deno = (globalThis as Record<string, unknown>).Deno;
  if (typeof deno !== "object" || deno === null) return;
  try {
    Object.defineProperty(deno, "exit", { value: exit, configurable: true, writable: true });
  } catch {
    // A frozen namespace: process.exit is still intercepted.
  }
}

/**
 * The command that starts this same ays with `args`: the binary itself; the bundle or the
 * sources under the runtime running them now (Deno with `run -A` and the project's
 * `deno.json`). A job with `isolation: process` runs in such a child (`ays __job-worker`,
 * docs/runs.md "Memory limits").
 */
export function selfCommand(
  args: readonly string[],
  moduleUrl: string = import.meta.url,
): { command: string; args: string[] } {
  const how = packaging(moduleUrl);
  if (how === "binary") return { command: process.execPath, args: [...args] };
  const { fileURLToPath } = builtin.url();
  const main = fileURLToPath(how === "bundle" ? moduleUrl : new URL("./main.ts", moduleUrl));
  if (runtimeName() !== "deno") return { command: process.execPath, args: [main, ...args] };
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno!;
  const config = how === "source"
    ? ["--config", fileURLToPath(new URL("../deno.json", moduleUrl))]
    : [];
  return { command: deno.execPath(), args: ["run", "-A", "--quiet", ...config, main, ...args] };
}

/**
 * Longest write handed to the system at once. Deno's `node:fs` `writeSync` loses count when a
 * non-blocking pipe fills half-way through a write, so Deno writes at most `PIPE_BUF` (4096)
 * bytes at once, which a pipe takes whole or not at all.
 */
function writeChunk(): number {
  return runtimeName() === "deno" ? 4096 : 1 << 20;
}

/**
 * Writes all of `bytes` to standard output (`fd` 1) or standard error (2), without blocking the
 * event loop (a write is done by the runtime's I/O threads): it resolves when the reader has it
 * all, true, or has gone (EPIPE), false. A non-blocking pipe that is full (the parent made it
 * so) is waited for, a millisecond at a time.
 */
export async function writeAll(fd: 1 | 2, bytes: Uint8Array): Promise<boolean> {
  const chunk = writeChunk();
  let done = 0;
  while (done < bytes.length) {
    try {
      done += await writeSome(fd, bytes.subarray(done, Math.min(bytes.length, done + chunk)));
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === "EPIPE") return false;
      if (code !== "EAGAIN") throw error;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }
  return true;
}

/** One write of `bytes` to `fd`: how many bytes were written. */
function writeSome(fd: number, bytes: Uint8Array): Promise<number> {
  return new Promise((resolve, reject) => {
    builtin.fs().write(fd, bytes, 0, bytes.length, null, (error, written) => {
      if (error) reject(error);
      else resolve(written);
    });
  });
}

/** What {@link completeTracingChannel} needs of `node:diagnostics_channel`. */
export interface TracingChannels {
  tracingChannel(name: string): object;
}

/** The five event channels of a `TracingChannel`, as Node names them. */
const TRACE_EVENTS = ["start", "end", "asyncStart", "asyncEnd", "error"] as const;

/**
 * Gives `TracingChannel` (of `node:diagnostics_channel`, passed in so that only its users load
 * it) the `hasSubscribers` getter Node has had since 20.13, when the runtime lacks it — Bun 1.4
 * does (oven-sh/bun#27805). Libraries that skip tracing only when it reads `false` trace every
 * call otherwise: ioredis 6 then builds a trace context for each command, a string copy of every
 * argument, every record of a Redis batch decoded as UTF-8 text for nobody (docs/store.md,
 * "Redis: the cost of a write"). The getter is Node's: true when any of the five event channels
 * has a subscriber, so a tracer that subscribes still sees every command. Does nothing where
 * the getter exists (Node, Deno) or was added already.
 */
export function completeTracingChannel(diagnostics: TracingChannels): void {
  const prototype = Object.getPrototypeOf(diagnostics.tracingChannel("ays:probe")) as
    | object
    | null;
  if (prototype === null || "hasSubscribers" in prototype) return;
  Object.defineProperty(prototype, "hasSubscribers", {
    configurable: true,
    get(this: Record<string, { hasSubscribers?: boolean } | undefined>): boolean {
      return TRACE_EVENTS.some((event) => this[event]?.hasSubscribers === true);
    },
  });
}

/**
 * Collects garbage now, fully, where the runtime allows it (Bun; Deno and Node only when started
 * with `--expose-gc`); otherwise does nothing. For the one moment a large task lets go of most
 * of what it held: Bun's collector sizes what it lets accumulate before its next collection by
 * what was alive at its last full one, so a full collection just after a large structure died
 * lowers the peak of everything that follows (docs/blueprints.md, "Memory").
 */
export function collectGarbage(): void {
  const g = globalThis as { Bun?: { gc(force: boolean): void }; gc?: () => void };
  if (g.Bun) g.Bun.gc(true);
  else if (typeof g.gc === "function") g.gc();
}

/**
 * SHA-256 of `data` (text as UTF-8) in lower-case hex by Bun's own one-shot hasher; undefined
 * on the other runtimes (the caller then uses `node:crypto`). A service key is one digest, made
 * for every service an apply creates: `createHash` builds a hash object and a Buffer for each,
 * about three times the cost (10,000 keys: ~15 ms against ~5 ms).
 */
export function runtimeSha256Hex(data: string | Uint8Array): string | undefined {
  const g = globalThis as {
    Bun?: { SHA256: { hash(data: string | Uint8Array, encoding: "hex"): string } };
  };
  return g.Bun?.SHA256.hash(data, "hex");
}

/** What {@link restartWithEnvironment} uses of `bun:ffi`. */
interface BunFfi {
  dlopen(
    path: string,
    symbols: Record<string, { args: string[]; returns: string }>,
  ): { symbols: { execve(path: unknown, argv: unknown, envp: unknown): number } };
  ptr(view: ArrayBufferView): number;
}

/** A NUL-terminated copy of a text, for C. */
function cText(text: string): Uint8Array {
  return new TextEncoder().encode(`${text}\0`);
}

/**
 * Replaces this process by the same binary with the same arguments and `env` added to its
 * environment (`execve`: same pid, same standard streams, same signals and exit status for
 * whoever waits for it), when ays runs as the compiled binary under Bun on Linux and none of
 * `env`'s variables is set already (a variable set is the caller's choice; it also keeps the
 * new process from restarting again). Returns, doing nothing, everywhere else and whenever the
 * restart cannot be made (the caller goes on as it would have). Call it before anything is
 * opened: nothing of this process survives the call but its open file descriptors.
 *
 * Why: JavaScriptCore reads its options (`BUN_JSC_*`) once, before any code runs, and a
 * compiled binary has no build flag that sets them (docs/development.md, "JavaScriptCore's
 * options"). Costs one more runtime start-up, ≈ 10 ms of CPU.
 */
export function restartWithEnvironment(env: Readonly<Record<string, string>>): void {
  if (runtimeName() !== "bun" || packaging() !== "binary" || process.platform !== "linux") return;
  if (Object.keys(env).some((name) => process.env[name] !== undefined)) return;
  let ffi: BunFfi;
  let libc: ReturnType<BunFfi["dlopen"]>;
  try {
    ffi = (process.getBuiltinModule as (id: string) => unknown)("bun:ffi") as BunFfi;
    libc = ffi.dlopen("libc.so.6", {
      execve: { args: ["ptr", "ptr", "ptr"], returns: "i32" },
    });
  } catch {
    return; // no FFI or no glibc here: run as we are
  }
  // The texts must stay alive until execve has copied them: they are held in `texts`.
  const texts: Uint8Array[] = [];
  const pointers = (list: readonly string[]): BigUint64Array => {
    const array = new BigUint64Array(list.length + 1);
    list.forEach((item, i) => {
      const bytes = cText(item);
      texts.push(bytes);
      array[i] = BigInt(ffi.ptr(bytes));
    });
    return array;
  };
  const path = cText(process.execPath);
  // A compiled binary's own arguments follow its path; `process.argv[1]` is its entry.
  const argv = pointers([process.execPath, ...process.argv.slice(2)]);
  const environment = { ...process.env, ...env };
  const envp = pointers(
    Object.entries(environment).flatMap(([name, value]) =>
      value === undefined ? [] : [`${name}=${value}`]
    ),
  );
  libc.symbols.execve(ffi.ptr(path), ffi.ptr(argv), ffi.ptr(envp));
  // execve returned: it failed (the binary moved away?); run as we are. Using the texts here
  // keeps them alive (not collected) for as long as execve reads them.
  texts.push(path);
}
