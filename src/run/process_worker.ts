/**
 * A job worker in a child process (`ays __job-worker`, `job_worker_process.ts`) with a memory
 * limit: the worker of a job with `isolation: process` (docs/runs.md, "Memory limits"). It
 * looks like a Web Worker to the pool (`postMessage`, `terminate`, `message`, `error` and
 * `close` events) and speaks the same job protocol, one JSON message per line over the
 * child's standard input and output, so the pool runs it as any other worker.
 *
 * The limit is on the child's resident memory (`VmRSS` of `/proc/PID/status`, every
 * {@link MEMORY_CHECK_MS} ms): neither Bun nor Deno limits a Web Worker's heap, and an address
 * space limit (`RLIMIT_AS`) is no measure of what JSC and V8 use (docs/runs.md). Past the limit
 * the child is killed and the worker ends with a {@link WorkerEndEvent} "out of memory (limit N
 * MiB)"; the pool fails the job with it.
 *
 * The child is ended with SIGTERM, on which it kills the process groups of the commands its
 * worker runs (their `exec` messages may still be in the pipe) and exits; SIGKILL follows after
 * {@link TERMINATE_GRACE_MS} if it has not (docs/runs.md, "Timeouts and process groups").
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { DEFAULT_MEMORY_LIMIT, MIN_MEMORY_LIMIT } from "../hrd/mod.ts";
import { selfCommand } from "../runtime.ts";
import type { HostMessage } from "./job_protocol.ts";
import { EXIT_WORKER_ENDED, EXIT_WORKER_ERROR } from "./job_worker_process.ts";
import { REAL_TIMERS, type Timers } from "../timers.ts";

/** How often the child's memory is read, in milliseconds. */
export const MEMORY_CHECK_MS = 50;

/** How long a child ended with SIGTERM has to kill its commands and exit, before SIGKILL (ms). */
export const TERMINATE_GRACE_MS = 5000;

/** What the pool needs of a worker: a Web Worker, or a {@link ProcessWorker}. */
export interface JobWorker extends EventTarget {
  postMessage(message: HostMessage): void;
  terminate(): void;
  onmessage: ((event: MessageEvent) => void) | null;
  onerror: ((event: ErrorEvent) => void) | null;
}

/** The end of a worker that did not report it in a message, and why. */
export class WorkerEndEvent extends Event {
  /** Why the worker ended, as the job's error says it. */
  readonly reason: string;

  constructor(reason: string) {
    super("close");
    this.reason = reason;
  }
}

/** Options of {@link ProcessWorker}. */
export interface ProcessWorkerOptions {
  /** Bytes of resident memory the child may use (default {@link DEFAULT_MEMORY_LIMIT}). */
  memory?: number;
  /** The command and arguments of the child (default: this ays with `__job-worker`). */
  command?: { command: string; args: string[] };
  /** The timer of the SIGKILL that follows SIGTERM (default the runtime's). */
  timers?: Timers;
}

/** `1 GiB`, `512 MiB`: how a limit reads in "out of memory (limit …)". */
export function formatMemoryLimit(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  if (mib >= 1024 && Number.isInteger(mib / 1024)) return `${mib / 1024} GiB`;
  return `${Number.isInteger(mib) ? mib : mib.toFixed(1)} MiB`;
}

/** Resident memory of process `pid` in bytes, or null when it cannot be read (it ended). */
export function residentMemory(pid: number): number | null {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return null;
  }
  const kib = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return kib ? Number(kib[1]) * 1024 : null;
}

/** A job worker in a child `ays` process with a memory limit. */
export class ProcessWorker extends EventTarget implements JobWorker {
  onmessage: ((event: MessageEvent) => void) | null = null;
  onerror: ((event: ErrorEvent) => void) | null = null;
  readonly #child: ChildProcess;
  readonly #limit: number;
  readonly #watch: ReturnType<typeof setInterval>;
  readonly #timers: Timers;
  /** The SIGKILL armed when the child was sent SIGTERM ({@link TERMINATE_GRACE_MS}). */
  #killTimer: unknown;
  /** The child ended ("exit"; "close" comes once its pipes closed too). */
  #exited = false;
  #stderr = "";
  #outOfMemory = false;
  #terminated = false;
  #peak = 0;

  constructor(options: ProcessWorkerOptions = {}) {
    super();
    const {
      memory = DEFAULT_MEMORY_LIMIT,
      command = selfCommand(["__job-worker"]),
      timers = REAL_TIMERS,
    } = options;
    if (!Number.isSafeInteger(memory) || memory < MIN_MEMORY_LIMIT) {
      throw new RangeError(`memory limit must be at least 128 MiB, got ${memory} bytes`);
    }
    this.#limit = memory;
    this.#timers = timers;
    this.#child = spawn(command.command, command.args, { stdio: ["pipe", "pipe", "pipe"] });
    this.#child.stdin!.on("error", () => {
      // The child is gone; its end is reported by "close".
    });
    this.#readLines();
    this.#child.stderr!.on("data", (chunk: Uint8Array) => {
      // The tail is enough: the child writes one line before it ends.
      this.#stderr = (this.#stderr + new TextDecoder().decode(chunk)).slice(-4096);
    });
    this.#child.once("error", (error) => this.#ended(`could not start the job process: ${error}`));
    this.#child.once("exit", () => void (this.#exited = true));
    this.#child.once("close", (code, signal) => this.#onClose(code, signal));
    this.#watch = setInterval(() => this.#checkMemory(), MEMORY_CHECK_MS);
  }

  /** The child's pid (undefined when it could not be started). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** The most resident memory seen in the child, in bytes. */
  get peakMemory(): number {
    return this.#peak;
  }

  postMessage(message: HostMessage): void {
    if (this.#terminated || !this.#child.stdin!.writable) return;
    this.#child.stdin!.write(`${JSON.stringify(message)}\n`);
  }

  /**
   * Ends the child and the job it runs: nothing more of it is passed on. SIGTERM, so that it
   * kills its commands' process groups first; SIGKILL after {@link TERMINATE_GRACE_MS}.
   */
  terminate(): void {
    if (this.#terminated) return;
    this.#terminated = true;
    clearInterval(this.#watch);
    this.#stop();
  }

  /** SIGTERM to the child, SIGKILL when it has not ended after the grace. */
  #stop(): void {
    if (this.#exited || this.#killTimer !== undefined) return;
    this.#child.kill("SIGTERM");
    this.#killTimer = this.#timers.set(() => this.#killNow(), TERMINATE_GRACE_MS);
  }

  /**
   * SIGKILL to the child unless it ended (its pid not reaped yet, so not another process's).
   * By pid: Deno's `ChildProcess.kill` sends nothing once it has sent a signal.
   */
  #killNow(): void {
    const pid = this.#child.pid;
    // Its own flag: Deno sets `signalCode` as it sends a signal, before the child ends.
    if (this.#exited || pid === undefined) return;
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Gone already.
    }
  }

  #readLines(): void {
    let pending = "";
    const decoder = new TextDecoder();
    this.#child.stdout!.on("data", (chunk: Uint8Array) => {
      pending += decoder.decode(chunk, { stream: true });
      let newline: number;
      while ((newline = pending.indexOf("\n")) !== -1) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        // Past its memory limit the job has failed: a result it still sends is not passed on.
        if (this.#terminated || this.#outOfMemory) return;
        let data: unknown;
        try {
          data = JSON.parse(line);
        } catch {
          // Not a message: the pool's validation fails the job with a protocol error.
          data = line;
        }
        const event = new MessageEvent("message", { data });
        this.onmessage?.(event);
        this.dispatchEvent(event);
      }
    });
  }

  #checkMemory(): void {
    const pid = this.#child.pid;
    if (pid === undefined || this.#terminated) return;
    const rss = residentMemory(pid);
    if (rss === null) return;
    if (rss > this.#peak) this.#peak = rss;
    if (rss <= this.#limit) return;
    if (this.#outOfMemory) {
      // Still there a reading after the SIGTERM: no more grace, the limit is a bound. Its
      // commands are then killed only if the pool read their messages (docs/runs.md).
      clearInterval(this.#watch);
      this.#killNow();
      return;
    }
    this.#outOfMemory = true;
    // Its worker thread may go on allocating; the child's own thread, which kills the commands
    // and exits on SIGTERM, is free (the job runs in the worker thread) — and has until the
    // next reading, MEMORY_CHECK_MS, to do so.
    this.#stop();
  }

  #onClose(code: number | null, signal: string | null): void {
    this.#exited = true;
    if (this.#killTimer !== undefined) this.#timers.clear(this.#killTimer);
    clearInterval(this.#watch);
    if (this.#outOfMemory) {
      this.#ended(`out of memory (limit ${formatMemoryLimit(this.#limit)})`);
      return;
    }
    if (this.#terminated) return;
    const line = this.#stderr.trim().split("\n").at(-1) ?? "";
    if (code === EXIT_WORKER_ERROR && line.startsWith("worker error: ")) {
      const event = new ErrorEvent("error", { message: line.slice("worker error: ".length) });
      this.onerror?.(event);
      this.dispatchEvent(event);
      return;
    }
    if (code === EXIT_WORKER_ENDED) {
      this.#ended("the action ended its worker");
      return;
    }
    if (/out of memory/i.test(this.#stderr)) {
      // The runtime's own heap limit, before ours (V8 ends the process with this).
      this.#ended("out of memory (the runtime's heap limit)");
      return;
    }
    const how = signal !== null ? `signal ${signal}` : `exit code ${code}`;
    this.#ended(`the job's worker process ended (${how})${line ? `: ${line}` : ""}`);
  }

  #ended(reason: string): void {
    if (this.#terminated) return;
    this.#terminated = true;
    clearInterval(this.#watch);
    this.dispatchEvent(new WorkerEndEvent(reason));
  }
}
