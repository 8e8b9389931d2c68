/**
 * The plan of one atomic batch on Redis (docs/store.md, "Redis: the cost of a write"): the
 * client turns a batch's operations into the steps `BATCH_LUA` (`redis_scripts.ts`) applies —
 * runs of sets and runs of deletes, in an order that keeps the operations' meaning — so the
 * script does no bookkeeping per key on the server, whose time every other command waits for.
 *
 * Sets and deletes gather in two runs at once, as long as they touch distinct keys: a delete of a
 * key a gathered set writes ends the run of sets first (`set k, delete k` leaves no `k`), and a
 * set of a key a gathered delete removes ends the run of deletes first (`delete k, set k` leaves
 * `k`). A set's key needs no index entry when a value guard of the batch says it exists (and no
 * delete of the batch came before it): a run rewriting its services; those keys come first in
 * their step, the keys to index last, with their index names.
 *
 * @module
 */
import { InputError } from "../errors.ts";
import type { BatchGuard, BatchOp } from "./driver.ts";

/** What {@link planBatch} gives: the script's keys and arguments after its fixed ones. */
export interface BatchPlan {
  /** The guards' keys, then the steps' keys, each with the namespace prefix. */
  keys: string[];
  /** One letter per guard: `v` holds this value, `n` absent. */
  guardKinds: string;
  /** The steps: `s<keys>/<names to index>` or `d<keys>/0`, one after the other. */
  steps: string;
  /**
   * The values of the `v` guards, then per step its arguments: a set's values (one per key)
   * and the index names of its last keys, a delete's index names (one per key).
   */
  args: (Uint8Array | string)[];
}

/** Options of {@link planBatch}. */
export interface PlanBatchOptions {
  /** The namespace prefix of every key (`ays:<repo>:`). */
  prefix: string;
}

function checkKey(key: string): void {
  if (typeof key !== "string" || key.length === 0 || key.startsWith("~")) {
    throw new InputError(
      `a store key must be a non-empty string not starting with "~", got ${JSON.stringify(key)}`,
    );
  }
}

interface GatheredSet {
  key: string;
  value: Uint8Array;
  /** Not known to exist: its index entry is added unless the key is there already. */
  index: boolean;
}

/**
 * Plans `ops` under `guards` as `BATCH_LUA`'s steps. Refuses (InputError) a key that is empty,
 * not a string, or starts with `~` (the driver's own keys) before anything is sent.
 */
export function planBatch(
  ops: Iterable<BatchOp>,
  guards: readonly BatchGuard[],
  options: PlanBatchOptions,
): BatchPlan {
  const { prefix } = options;
  if (typeof prefix !== "string") throw new TypeError("planBatch needs the namespace prefix");
  const keys: string[] = [];
  const args: (Uint8Array | string)[] = [];
  let guardKinds = "";
  const present = new Set<string>();
  for (const guard of guards) {
    keys.push(prefix + guard.key);
    if (guard.value === null) guardKinds += "n";
    else {
      guardKinds += "v";
      args.push(guard.value);
      present.add(guard.key);
    }
  }
  const steps: string[] = [];
  let sets: GatheredSet[] = [];
  let setKeys = new Set<string>();
  let deletes: string[] = [];
  let deleteKeys = new Set<string>();
  /** Keys a delete of this batch removed: whatever a guard said, a set after it re-creates. */
  const deleted = new Set<string>();
  const flushSets = () => {
    if (sets.length === 0) return;
    let names = 0;
    // Keys known to exist first, then those to index: the script indexes the step's last keys.
    for (const set of sets) {
      if (set.index) continue;
      keys.push(prefix + set.key);
      args.push(set.value);
    }
    for (const set of sets) {
      if (!set.index) continue;
      keys.push(prefix + set.key);
      args.push(set.value);
      names++;
    }
    for (const set of sets) if (set.index) args.push(set.key);
    steps.push(`s${sets.length}/${names}`);
    sets = [];
    setKeys = new Set();
  };
  const flushDeletes = () => {
    if (deletes.length === 0) return;
    for (const key of deletes) keys.push(prefix + key);
    for (const key of deletes) args.push(key);
    steps.push(`d${deletes.length}/0`);
    deletes = [];
    deleteKeys = new Set();
  };
  // Planned before anything is sent: the script is the single atomic step.
  for (const op of ops) {
    checkKey(op.key);
    if (op.op === "set") {
      if (deleteKeys.has(op.key)) flushDeletes();
      const index = !present.has(op.key) || deleted.has(op.key);
      sets.push({ key: op.key, value: op.value, index });
      setKeys.add(op.key);
    } else {
      if (setKeys.has(op.key)) flushSets();
      if (deleteKeys.has(op.key)) continue;
      deletes.push(op.key);
      deleteKeys.add(op.key);
      deleted.add(op.key);
    }
  }
  // What is left gathered touches distinct keys: the order of the two does not matter.
  flushSets();
  flushDeletes();
  return { keys, guardKinds, steps: steps.join(""), args };
}
