/**
 * Starting {@link ./store_child.ts} with the runtime that runs the tests (Bun or Deno), and
 * reading its JSON event lines.
 *
 * @module
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { runtimeName } from "../../src/runtime.ts";

/** How a child reaches the store under test. */
export type ChildStoreSpec = { kind: "sqlite"; path: string } | { kind: "redis"; url: string };

/** What the child does. */
export type ChildTask =
  & { store: ChildStoreSpec; namespace: string }
  & (
    | { action: "lock"; name: string; holderId: string; ttlMs: number }
    | { action: "pop"; queue: string; holderId: string; leaseMs: number }
    | { action: "batch-block"; count: number }
    | { action: "write-many"; batches: number; size: number }
  );

/** A running child. */
export interface StoreChild {
  pid: number;
  /** Resolves with the first event whose `event` field is `name`. */
  waitFor(name: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** SIGKILL, and wait until it is gone. */
  kill(): Promise<void>;
}

const CHILD = fileURLToPath(new URL("./store_child.ts", import.meta.url));

/** The command line that runs a TypeScript file with the current runtime. */
export function runtimeCommand(file: string, args: string[]): [string, string[]] {
  return runtimeName() === "deno"
    ? [process.execPath, ["run", "-A", file, ...args]]
    : [process.execPath, [file, ...args]];
}

/** Starts a child process doing `task`. */
export function startStoreChild(task: ChildTask): StoreChild {
  const [command, args] = runtimeCommand(CHILD, [JSON.stringify(task)]);
  const child: ChildProcess = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  const events: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  let buffer = "";
  let stderr = "";
  let exited = false;
  child.stdout!.on("data", (chunk) => {
    buffer += String(chunk);
    let newline;
    while ((newline = buffer.indexOf("\n")) !== -1) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (line.trim().startsWith("{")) events.push(JSON.parse(line));
    }
    for (const wake of waiters.splice(0)) wake();
  });
  child.stderr!.on("data", (chunk) => (stderr += String(chunk)));
  const gone = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      for (const wake of waiters.splice(0)) wake();
      resolve();
    })
  );
  return {
    pid: child.pid!,
    async waitFor(name, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (true) {
        const found = events.find((event) => event.event === name);
        if (found) return found;
        if (exited) throw new Error(`store child exited before "${name}": ${stderr}`);
        if (Date.now() > deadline) throw new Error(`store child: no "${name}" event: ${stderr}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
    },
    async kill() {
      if (!exited) child.kill("SIGKILL");
      await gone;
    },
  };
}

/** The pid of a process that has already ended (for "dead holder" cases). */
export function deadPid(): number {
  const result = spawnSync(process.execPath, ["--version"]);
  return result.pid!;
}
