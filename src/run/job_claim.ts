/**
 * The claim of a job handed to a busy worker ahead of its turn (docs/job_protocol.md, "A job
 * sent behind another"): one 32-bit cell in memory the host and the worker share, taken with
 * one atomic compare-and-swap by whichever side comes first — the worker as it starts the job
 * ({@link takeClaim}), the host as it takes the job back ({@link withdrawClaim}: the job ahead
 * timed out, the worker is ending, the job was cancelled while it waited). Exactly one of the
 * two wins, so a job taken back never started in that worker and can run elsewhere, and a job
 * the worker took is never run a second time.
 *
 * @module
 */

/** Not taken yet. */
const WAITING = 0;
/** The worker started the job. */
const TAKEN = 1;
/** The host took it back (cancelled while it waited): the worker skips it and goes on. */
const WITHDRAWN = 2;
/**
 * The host took it back because it is ending the worker: the worker skips it and starts no
 * job sent after it either (the host takes those back next, in their order; without this
 * stop the worker could take a later one between two of the host's withdrawals).
 */
const STOPPED = 3;

/** A claim cell: an `Int32Array` of one element over a `SharedArrayBuffer`. */
export type JobClaim = Int32Array;

/** A new claim, waiting. */
export function newClaim(): JobClaim {
  return new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
}

/** Whether `value` can be a claim (one element over shared memory). */
export function isClaim(value: unknown): value is JobClaim {
  return value instanceof Int32Array && value.length === 1 &&
    value.buffer instanceof SharedArrayBuffer;
}

/**
 * The worker's side, as the job's turn comes: `"start"` when it took the claim first;
 * `"skip"` when the host took the job back (it runs elsewhere or not at all); `"stop"` when
 * the host took it back to end this worker: start nothing more.
 */
export function takeClaim(claim: JobClaim): "start" | "skip" | "stop" {
  const was = Atomics.compareExchange(claim, 0, WAITING, TAKEN);
  return was === WAITING ? "start" : was === STOPPED ? "stop" : "skip";
}

/** Options of {@link withdrawClaim}. */
export interface WithdrawOptions {
  /** The host is ending the worker: it must start no later job either (default false). */
  stop?: boolean;
}

/**
 * The host's side: true when the job is (now or already) taken back and will not start in
 * that worker; false when the worker started it first.
 */
export function withdrawClaim(claim: JobClaim, options: WithdrawOptions = {}): boolean {
  const { stop = false } = options;
  return Atomics.compareExchange(claim, 0, WAITING, stop ? STOPPED : WITHDRAWN) !== TAKEN;
}
