/**
 * Group commit of small writes (docs/runs.md, "Writes of jobs that end together"): the record
 * writes of a job's start or end, and of the jobs that end in the same moment, go to the store
 * in ONE atomic batch — one SQLite transaction, one Redis script call — instead of one each.
 *
 * Each write is a unit (operations plus the guards they depend on) whose promise resolves only
 * once the batch holding it is committed: nothing is reported done before it is durable. While
 * a batch is in flight (a Redis round trip), new units wait and go together in the next one; a
 * unit submitted when none is in flight waits until the current task is done (the other
 * writes of the same moment join it) and then goes. Units keep their order. A unit that touches a
 * key an earlier unit of the group writes or guards waits for the next batch, so each guard is
 * checked against what the units before it wrote. When a merged batch fails a guard, nothing
 * of it was applied and its units are sent again one by one, so only the unit whose guard no
 * longer holds sees the conflict.
 *
 * @module
 */
import { setImmediate } from "node:timers";
import type { BatchGuard, BatchOp, KeyValueStore } from "./driver.ts";

/** Options of {@link WriteGroup}. */
export interface WriteGroupOptions {
  /** Called before every batch (records the layout version on the first write). */
  beforeWrite?: () => Promise<void>;
  /** At most this many operations per batch (default 5,000). */
  maxOps?: number;
}

interface Unit {
  ops: BatchOp[];
  guards: BatchGuard[];
  resolve: (applied: boolean) => void;
  reject: (error: unknown) => void;
}

/** Commits units of writes in groups over one driver. */
export class WriteGroup {
  readonly #driver: Pick<KeyValueStore, "batch">;
  readonly #beforeWrite: () => Promise<void>;
  readonly #maxOps: number;
  #pending: Unit[] = [];
  #flushing = false;

  constructor(driver: Pick<KeyValueStore, "batch">, options: WriteGroupOptions = {}) {
    const { beforeWrite = () => Promise.resolve(), maxOps = 5000 } = options;
    if (!Number.isInteger(maxOps) || maxOps < 1) {
      throw new TypeError(`maxOps must be a whole number ≥ 1, got ${maxOps}`);
    }
    this.#driver = driver;
    this.#beforeWrite = beforeWrite;
    this.#maxOps = maxOps;
  }

  /**
   * Applies `ops` atomically when every guard holds. Resolves true once committed, false when
   * a guard did not hold (nothing of the unit applied); rejects when the store fails.
   */
  submit(ops: readonly BatchOp[], guards: readonly BatchGuard[] = []): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.#pending.push({ ops: [...ops], guards: [...guards], resolve, reject });
      if (!this.#flushing) {
        this.#flushing = true;
        // The other writes of this moment (a job's service and job record, the ends of the
        // other jobs already reported) join first: the batch goes after the current task.
        setImmediate(() => void this.#drain());
      }
    });
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const group = this.#take();
        await this.#commit(group);
      }
    } finally {
      this.#flushing = false;
    }
  }

  /** The next group: units in order until one touches a key the group already touches. */
  #take(): Unit[] {
    const touched = new Set<string>();
    let ops = 0;
    let n = 0;
    for (; n < this.#pending.length; n++) {
      const unit = this.#pending[n];
      const keys = [...unit.guards.map((g) => g.key), ...unit.ops.map((op) => op.key)];
      if (n > 0 && (keys.some((key) => touched.has(key)) || ops + unit.ops.length > this.#maxOps)) {
        break;
      }
      for (const key of keys) touched.add(key);
      ops += unit.ops.length;
    }
    return this.#pending.splice(0, n);
  }

  async #commit(group: Unit[]): Promise<void> {
    try {
      await this.#beforeWrite();
      const applied = await this.#driver.batch(
        group.flatMap((unit) => unit.ops),
        { guards: group.flatMap((unit) => unit.guards) },
      );
      if (applied || group.length === 1) {
        for (const unit of group) unit.resolve(applied);
        return;
      }
    } catch (error) {
      for (const unit of group) unit.reject(error);
      return;
    }
    // A guard of one unit failed and nothing was applied: each on its own now.
    for (const unit of group) await this.#commit([unit]);
  }
}
