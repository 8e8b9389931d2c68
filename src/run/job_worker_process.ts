/**
 * `ays __job-worker`: the child process of a job with `isolation: process` (docs/runs.md,
 * "Memory limits"). It starts one job worker (`workers/job_worker.ts`, the same Web Worker the
 * pool uses) and relays the job protocol (docs/job_protocol.md) between it and the parent, one
 * JSON message per line: host messages come on standard input, worker messages go to standard
 * output. The parent watches this process's memory and kills it past the limit; because the
 * job runs in its own process, that ends this job only.
 *
 * What the worker cannot say in the protocol goes to standard error as one line, and the
 * process ends: `worker error: …` (an uncaught error, exit 70) or `worker ended` (the worker's
 * thread ended on its own, exit 71). When standard input ends, the parent is gone: exit 0 at
 * once, the job with it. SIGTERM (how the parent ends it) ends it too, exit 143.
 *
 * However it ends, it kills the process groups of the commands its worker still runs first: it
 * gives the worker exec slots (`exec_slots.ts`) in an `init` of its own, before any host line,
 * and closes them as it ends — the parent may not have read their `exec` messages yet.
 *
 * @module
 */
import { writeSync } from "node:fs";
import { workerSpecifier } from "../runtime.ts";
import { type HostMessage, parseHostMessage, type WorkerMessage } from "./job_protocol.ts";
import { killExecSlots, newExecSlots } from "./exec_slots.ts";

/** Exit code of the child after an uncaught error in its worker. */
export const EXIT_WORKER_ERROR = 70;
/** Exit code of the child whose worker's thread ended without a message. */
export const EXIT_WORKER_ENDED = 71;
/** Exit code of the child given a line that is not a host message. */
export const EXIT_PROTOCOL = 72;
/** Exit code of the child ended by SIGTERM (128 + 15, as a shell reports it). */
export const EXIT_TERMINATED = 143;

/** Options of {@link serveJobWorker}. */
export interface ServeJobWorkerOptions {
  /** The worker entry (default: `workers/job_worker.ts` of this packaging). */
  specifier?: string;
}

/** The signals on which the child kills its commands and ends (their default would skip that). */
const END_SIGNALS = ["SIGTERM", "SIGINT", "SIGHUP"] as const;

/**
 * Serves the job protocol on standard input and output until standard input ends or the
 * worker fails; resolves with the exit code the process should end with.
 */
export function serveJobWorker(options: ServeJobWorkerOptions = {}): Promise<number> {
  const { specifier = workerSpecifier("job_worker") } = options;
  return new Promise<number>((resolve) => {
    let done = false;
    const slots = newExecSlots();
    const end = (code: number, line?: string) => {
      if (done) return;
      done = true;
      // First, before anything that may throw: nothing else of this end matters as much.
      killExecSlots(slots);
      worker.terminate();
      // Only now: SIGTERM often comes with the end of standard input (Deno's `kill()` closes
      // the child's pipes before it signals), and its default action would end this process
      // before the commands were killed.
      for (const signal of END_SIGNALS) process.off(signal, onTerm);
      try {
        // Synchronous: the process exits right after, and the parent reads this line.
        if (line !== undefined) writeSync(2, `${line.replace(/\s*\n\s*/g, " ")}\n`);
      } catch {
        // The parent closed its end: it is gone, or ending this process.
      }
      resolve(code);
    };
    const onTerm = () => end(EXIT_TERMINATED);
    // Before the worker: no command of it can run while one of these would still end this
    // process without killing them. SIGINT and SIGHUP too: a Ctrl-C or a closed terminal reaches
    // the whole process group, this child included, not only the ays that started it.
    for (const signal of END_SIGNALS) process.on(signal, onTerm);
    const worker = new Worker(specifier, { type: "module" });
    worker.postMessage({ type: "init", id: 0, slots } satisfies HostMessage);
    worker.onmessage = (event: MessageEvent<unknown>) => {
      if (done) return;
      try {
        process.stdout.write(`${JSON.stringify(event.data as WorkerMessage)}\n`);
      } catch {
        // The parent closed its end (EPIPE): it is gone, or ending this process.
        end(0);
      }
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault?.();
      end(EXIT_WORKER_ERROR, `worker error: ${event.message ?? "unknown"}`);
    };
    worker.addEventListener("close", () => end(EXIT_WORKER_ENDED, "worker ended"));
    let pending = "";
    const decoder = new TextDecoder();
    process.stdin.on("data", (chunk: Uint8Array | string) => {
      pending += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
      let newline: number;
      while (!done && (newline = pending.indexOf("\n")) !== -1) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (line.trim() === "") continue;
        try {
          worker.postMessage(parseHostMessage(JSON.parse(line)));
        } catch (error) {
          end(EXIT_PROTOCOL, `job protocol: ${(error as Error).message}`);
        }
      }
    });
    process.stdin.on("end", () => end(0));
    process.stdin.on("error", () => end(0));
    process.stdout.on("error", () => end(0));
  });
}
