/**
 * Telling whether the holder of a lock or a queue lease is still alive. Only a holder on this
 * host can be checked directly (its pid); one elsewhere is judged by its heartbeat alone.
 *
 * @module
 */
import process from "node:process";
import type { Holder } from "./driver.ts";

/**
 * The host name recorded in holders created here. `node:os` is loaded at this first use (cached
 * by the runtime): imported up front it cost every command's start ≈ 0.5–1 ms, `ays list`
 * included, which never asks (docs/benchmarks.md, "startup").
 */
export function thisHost(): string {
  return process.getBuiltinModule("node:os").hostname();
}

/** A holder for the current process, with a fresh id unless one is given. */
export function currentHolder(id: string = crypto.randomUUID()): Holder {
  return { pid: process.pid, host: thisHost(), id };
}

/** Whether a process with this pid exists on this host (EPERM: it exists, not ours). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}

/** True when `holder` ran on this host and its process is gone: safe to take over at once. */
export function isDeadLocalHolder(holder: Holder): boolean {
  return holder.host === thisHost() && !isProcessAlive(holder.pid);
}
