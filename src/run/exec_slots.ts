/**
 * The exec slots of a job worker (docs/job_protocol.md, "The worker's commands"): memory the host
 * and the worker share, where the worker keeps the process group of every `job.exec` command it
 * runs, so the host can kill them when it ends the worker — including those it has not heard of
 * yet. The worker's `exec` message of a command may still be on its way (or unread) when a job
 * times out or is killed; the slots are written the moment `spawn()` returns.
 *
 * Layout: an `Int32Array` over a `SharedArrayBuffer`: two header cells, `closed` and `spawning`
 * (how many spawns are in progress), then {@link EXEC_SLOTS} slots of `[job, pid]` (pid 0: free).
 * The worker alone fills the slots; the host closes them, reads them and, once it killed their
 * groups, empties them.
 *
 * The close is race-free through the two header cells, both read and written with `Atomics` (one
 * total order): the worker counts itself in `spawning` and then reads `closed`
 * ({@link beginSpawn}); the host sets `closed` and then waits until `spawning` is 0
 * ({@link closeExecSlots}). So either the worker sees the slots closed and spawns nothing, or
 * the host sees its spawn in progress and waits until the pid is in its slot: no pid appears
 * after the host read the slots.
 *
 * Detached commands (`{detach: true}`) are never stored: they are meant to outlive the job.
 *
 * @module
 */

/** How many commands of one worker the slots hold at once; past it, the `exec` messages only. */
export const EXEC_SLOTS = 1024;

/**
 * How long, at most, {@link closeExecSlots} waits for a spawn in progress (ms): a `fork` and
 * `exec` take well under this; the bound keeps a stalled worker from holding the host.
 */
export const SPAWN_WAIT_MS = 1000;

const CLOSED = 0;
const SPAWNING = 1;
const HEADER = 2;

/** The exec slots: an `Int32Array` over a `SharedArrayBuffer` (layout in the module's doc). */
export type ExecSlots = Int32Array;

/** A command held in a slot. */
export interface ExecEntry {
  /** The id of the job that started it, modulo 2^31 (a job id outgrows an int32 cell). */
  job: number;
  /** The pid of its shell, the leader of its process group. */
  pid: number;
}

/** New exec slots: open, empty. */
export function newExecSlots(): ExecSlots {
  const cells = HEADER + 2 * EXEC_SLOTS;
  return new Int32Array(new SharedArrayBuffer(cells * Int32Array.BYTES_PER_ELEMENT));
}

/** Whether `value` can be exec slots (an `Int32Array` of the layout over shared memory). */
export function isExecSlots(value: unknown): value is ExecSlots {
  return value instanceof Int32Array && value.length === HEADER + 2 * EXEC_SLOTS &&
    value.buffer instanceof SharedArrayBuffer;
}

/**
 * The worker's side, right before it spawns a command: false when the slots are closed (the
 * host is ending the worker): spawn nothing. After true, call {@link endSpawn} once the spawn
 * returned or threw, in every case.
 */
export function beginSpawn(slots: ExecSlots): boolean {
  Atomics.add(slots, SPAWNING, 1);
  if (Atomics.load(slots, CLOSED) === 0) return true;
  doneSpawning(slots);
  return false;
}

/**
 * The worker's side, once the spawn begun with {@link beginSpawn} returned (`pid` undefined when
 * it failed): stores the command in a free slot and ends the spawn. Returns the slot, for
 * {@link freeSlot}, or -1 when nothing was stored (no pid; or every slot taken, and the host
 * learns of the command by its `exec` message alone).
 */
export function endSpawn(slots: ExecSlots, command: { job: number; pid?: number }): number {
  const { job, pid } = command;
  if (!Number.isSafeInteger(job) || job < 0) {
    doneSpawning(slots);
    throw new RangeError(`job must be a non-negative integer, got ${job}`);
  }
  let slot = -1;
  if (pid !== undefined && pid > 0) {
    for (let i = 0; i < EXEC_SLOTS && slot < 0; i++) {
      if (Atomics.load(slots, HEADER + 2 * i + 1) === 0) slot = i;
    }
    if (slot >= 0) {
      // The job first: a slot is taken once its pid is set.
      Atomics.store(slots, HEADER + 2 * slot, job % 2 ** 31);
      Atomics.store(slots, HEADER + 2 * slot + 1, pid);
    }
  }
  doneSpawning(slots);
  return slot;
}

/** The worker's side: the command in `slot` ended, the slot is free (-1: nothing to do). */
export function freeSlot(slots: ExecSlots, slot: number): void {
  if (slot < 0) return;
  if (!Number.isInteger(slot) || slot >= EXEC_SLOTS) {
    throw new RangeError(`slot must be below ${EXEC_SLOTS}, got ${slot}`);
  }
  Atomics.store(slots, HEADER + 2 * slot + 1, 0);
}

/** The commands in the slots now, in slot order. */
export function execEntries(slots: ExecSlots): ExecEntry[] {
  const entries: ExecEntry[] = [];
  for (let i = 0; i < EXEC_SLOTS; i++) {
    const pid = Atomics.load(slots, HEADER + 2 * i + 1);
    if (pid !== 0) entries.push({ job: Atomics.load(slots, HEADER + 2 * i), pid });
  }
  return entries;
}

/** Whether the slots were closed ({@link closeExecSlots}). */
export function isClosed(slots: ExecSlots): boolean {
  return Atomics.load(slots, CLOSED) !== 0;
}

/** Options of {@link closeExecSlots}. */
export interface CloseExecSlotsOptions {
  /** Wait at most this long for a spawn in progress, in ms (default {@link SPAWN_WAIT_MS}). */
  waitMs?: number;
}

/**
 * The host's side, as it ends the worker: closes the slots (the worker spawns no more), waits
 * — blocking, at most `waitMs` — until no spawn is in progress, and returns the commands still
 * in them. `settled` is false when a spawn was still in progress after `waitMs`: its command
 * may be missing.
 */
export function closeExecSlots(
  slots: ExecSlots,
  options: CloseExecSlotsOptions = {},
): { entries: ExecEntry[]; settled: boolean } {
  const { waitMs = SPAWN_WAIT_MS } = options;
  if (!(waitMs >= 0)) throw new RangeError(`waitMs must be >= 0, got ${waitMs}`);
  Atomics.store(slots, CLOSED, 1);
  const deadline = performance.now() + waitMs;
  let spawning = Atomics.load(slots, SPAWNING);
  while (spawning !== 0) {
    const left = deadline - performance.now();
    if (left <= 0) break;
    Atomics.wait(slots, SPAWNING, spawning, left);
    spawning = Atomics.load(slots, SPAWNING);
  }
  return { entries: execEntries(slots), settled: spawning === 0 };
}

/**
 * Closes the slots ({@link closeExecSlots}), sends SIGKILL to the process group of each command
 * in them and empties them; returns their pids. Emptied, because a worker ended is never there
 * to free them, and a second look must not signal pids the system may have handed out again.
 */
export function killExecSlots(slots: ExecSlots, options: CloseExecSlotsOptions = {}): number[] {
  const pids = closeExecSlots(slots, options).entries.map((entry) => entry.pid);
  killGroups(pids);
  for (let i = 0; i < EXEC_SLOTS; i++) Atomics.store(slots, HEADER + 2 * i + 1, 0);
  return pids;
}

/** SIGKILL to each process group; a group that is already gone is fine. */
export function killGroups(groups: Iterable<number>): void {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // Gone already.
    }
  }
}

function doneSpawning(slots: ExecSlots): void {
  Atomics.sub(slots, SPAWNING, 1);
  Atomics.notify(slots, SPAWNING);
}
