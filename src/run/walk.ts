/**
 * The eager walker: executes the nodes of a {@link Graph}, starting each one as soon as all
 * of its own dependencies succeeded — not at step barriers — within a concurrency limit, the
 * ready ones with the highest priority (e.g. the longest remaining path) first.
 * A failed node's dependents are skipped (transitively) while unrelated branches go on.
 *
 * The walker knows nothing about jobs or workers: `run` does the work, `onEvent` lets the
 * caller persist each state change; it is awaited before the walk goes on, so a dependent
 * never starts before its dependency's end has been recorded. A node holds its slot of the
 * concurrency limit while it starts and runs, not while its end is recorded: the next ready
 * node starts meanwhile, so its start and that end can be persisted together.
 *
 * @module
 */
import type { Graph } from "./graph.ts";

/** Final state of one node. */
export type NodeState = "ok" | "error" | "skipped" | "cancelled";

/** What `run` gets besides the node's value. */
export interface WalkContext {
  /** The node id. */
  id: string;
  /** Fires when the walk is cancelled: finish or give up soon. */
  signal: AbortSignal;
  /** Fires when the grace period after cancellation is over: stop now (terminate). */
  kill: AbortSignal;
}

/** A state change, reported through {@link WalkOptions.onEvent}. */
export type WalkEvent<T, R> =
  | { type: "start"; id: string; value: T }
  | {
    type: "end";
    id: string;
    value: T;
    state: "ok" | "error" | "cancelled";
    result?: R;
    error?: unknown;
    /** Milliseconds the node ran. */
    millis: number;
  }
  | { type: "skip"; id: string; value: T; state: "skipped" | "cancelled"; reason: string };

/** The outcome of one node. */
export interface NodeOutcome<R> {
  state: NodeState;
  result?: R;
  error?: unknown;
  /** Why a node was skipped or cancelled before it started. */
  reason?: string;
  /** `performance.now()` at start and end, for nodes that ran. */
  startedAt?: number;
  endedAt?: number;
}

/** The outcome of a walk. */
export interface WalkResult<R> {
  /** `ok` when every node is ok; `cancelled` when the signal fired; `error` otherwise. */
  state: "ok" | "error" | "cancelled";
  nodes: Map<string, NodeOutcome<R>>;
}

/** Options of {@link walk}. */
export interface WalkOptions<T, R> {
  /** How many nodes run at once (default 10). */
  concurrency?: number;
  /** Stop starting nodes after the first failure; the not started ones end `skipped`. */
  failFast?: boolean;
  /**
   * Which ready node starts first: the one with the highest priority (e.g. its remaining
   * critical path, `critical_path.ts`); ties, and every node without this option, go in step
   * order, then the graph's order. Read once per node when the walk starts.
   */
  priority?: (id: string) => number;
  /** Cancels the walk: nothing new starts, running nodes get their `signal`. */
  signal?: AbortSignal;
  /** Milliseconds between cancellation and `kill` of the nodes still running (default 10 000). */
  graceMs?: number;
  /** Kills at once (a second Ctrl-C): aborts every running node's `kill`. */
  killSignal?: AbortSignal;
  /**
   * Called for each state change and awaited before the walk goes on. If it throws, nothing
   * new starts, the running nodes finish, and the walk rejects with that error.
   */
  onEvent?: (event: WalkEvent<T, R>) => void | Promise<void>;
}

/** Does the work of one node; a rejection is a failure. */
export type NodeRunner<T, R> = (value: T, context: WalkContext) => Promise<R>;

/** Walks `graph` (acyclic; throws `CycleError` otherwise), running each node with `run`. */
export function walk<T, R>(
  graph: Graph<T>,
  run: NodeRunner<T, R>,
  options: WalkOptions<T, R> = {},
): Promise<WalkResult<R>> {
  return new Walker(graph, run, options).start();
}

interface Running {
  soft: AbortController;
  hard: AbortController;
}

class Walker<T, R> {
  readonly #graph: Graph<T>;
  readonly #run: NodeRunner<T, R>;
  readonly #options: WalkOptions<T, R>;
  readonly #concurrency: number;
  readonly #ids: string[];
  readonly #rank = new Map<string, number>();
  /** Position in start order (priority, then rank): the ready heap's key. */
  readonly #order = new Map<string, number>();
  readonly #byOrder: string[];
  readonly #waiting = new Map<string, number>();
  readonly #ready = new MinHeap();
  readonly #outcomes = new Map<string, NodeOutcome<R>>();
  readonly #running = new Map<string, Running>();
  /** Nodes started and not yet run to their end (the concurrency limit counts these). */
  #inFlight = 0;
  /** Nodes that ran and whose end is being recorded (`onEvent`): they hold no slot. */
  #recording = 0;
  #stopReason: "fail-fast" | "cancelled" | "fatal" | null = null;
  #fatal: unknown = undefined;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  #finishing = false;
  #cancelled = false;
  #killed = false;
  #resolve!: (result: WalkResult<R>) => void;
  #reject!: (error: unknown) => void;

  constructor(graph: Graph<T>, run: NodeRunner<T, R>, options: WalkOptions<T, R>) {
    this.#graph = graph;
    this.#run = run;
    this.#options = options;
    this.#concurrency = Math.max(1, options.concurrency ?? 10);
    // The ready queue prefers the higher priority, then earlier steps, then the graph's order:
    // deterministic.
    this.#ids = graph.layers().flat();
    this.#ids.forEach((id, i) => this.#rank.set(id, i));
    this.#byOrder = startOrder(this.#ids, options.priority);
    this.#byOrder.forEach((id, i) => this.#order.set(id, i));
  }

  start(): Promise<WalkResult<R>> {
    const promise = new Promise<WalkResult<R>>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    for (const id of this.#ids) {
      const n = this.#graph.dependencyCount(id);
      this.#waiting.set(id, n);
      if (n === 0) this.#ready.push(this.#order.get(id)!);
    }
    const { signal, killSignal } = this.#options;
    signal?.addEventListener("abort", this.#onCancel);
    killSignal?.addEventListener("abort", this.#onKill);
    if (signal?.aborted) this.#onCancel();
    if (killSignal?.aborted) this.#onKill();
    this.#pump();
    return promise;
  }

  #onCancel = (): void => {
    if (this.#stopReason !== "fatal") this.#stopReason = "cancelled";
    this.#cancelled = true;
    for (const r of this.#running.values()) r.soft.abort(new Error("cancelled"));
    this.#armGrace();
    this.#pump();
  };

  #onKill = (): void => {
    if (this.#stopReason !== "fatal") this.#stopReason = "cancelled";
    this.#cancelled = true;
    this.#killed = true;
    for (const r of this.#running.values()) {
      r.soft.abort(new Error("cancelled"));
      r.hard.abort(new Error("killed"));
    }
    this.#pump();
  };

  /** Starts the grace period once, when there is something running to wait for. */
  #armGrace(): void {
    if (this.#graceTimer === undefined && !this.#killed && this.#running.size > 0) {
      this.#graceTimer = setTimeout(this.#onKill, this.#options.graceMs ?? 10_000);
    }
  }

  #pump(): void {
    while (
      this.#stopReason === null && this.#inFlight < this.#concurrency && this.#ready.size > 0
    ) {
      const id = this.#byOrder[this.#ready.pop()];
      if (this.#outcomes.has(id)) continue;
      this.#inFlight++;
      void this.#execute(id);
    }
    if (
      this.#inFlight === 0 && this.#recording === 0 &&
      (this.#ready.size === 0 || this.#stopReason !== null)
    ) {
      void this.#finish();
    }
  }

  async #execute(id: string): Promise<void> {
    const value = this.#graph.value(id);
    const control: Running = { soft: new AbortController(), hard: new AbortController() };
    let released = false;
    try {
      await this.#emit({ type: "start", id, value });
      this.#running.set(id, control);
      // Cancelled while its start was being recorded: it runs, but knows at once.
      if (this.#cancelled) {
        control.soft.abort(new Error("cancelled"));
        if (this.#killed) control.hard.abort(new Error("killed"));
        this.#armGrace();
      }
      const startedAt = performance.now();
      let outcome: NodeOutcome<R>;
      try {
        const result = await this.#run(value, {
          id,
          signal: control.soft.signal,
          kill: control.hard.signal,
        });
        outcome = { state: "ok", result, startedAt, endedAt: performance.now() };
      } catch (error) {
        const state = control.soft.signal.aborted ? "cancelled" : "error";
        outcome = { state, error, startedAt, endedAt: performance.now() };
      }
      this.#running.delete(id);
      this.#outcomes.set(id, outcome);
      if (outcome.state === "error" && this.#options.failFast && this.#stopReason === null) {
        this.#stopReason = "fail-fast";
      }
      // The node no longer runs: its slot goes to the next ready node now, whose start is
      // recorded together with this end (one write instead of two in a row) — unless a
      // dependent this end makes ready would start before that node: the slot waits for it.
      // Its dependents still wait until this end is recorded.
      const recorded = this.#emit({
        type: "end",
        id,
        value,
        state: outcome.state as "ok" | "error" | "cancelled",
        result: outcome.result,
        error: outcome.error,
        millis: outcome.endedAt! - outcome.startedAt!,
      });
      if (!this.#unblocksFirst(id, outcome.state)) {
        this.#inFlight--;
        this.#recording++;
        released = true;
        this.#pump();
      }
      await recorded;
      if (outcome.state === "ok") {
        for (const dependent of this.#graph.dependentsUnsorted(id)) {
          const left = this.#waiting.get(dependent)! - 1;
          this.#waiting.set(dependent, left);
          if (left === 0) this.#ready.push(this.#order.get(dependent)!);
        }
      } else if (outcome.state === "error") {
        await this.#skipDependents(id);
      }
    } catch (error) {
      // onEvent failed: the caller can no longer record what happens, so stop.
      this.#running.delete(id);
      if (!this.#outcomes.has(id)) this.#outcomes.set(id, { state: "error", error });
      if (this.#stopReason !== "fatal") {
        this.#stopReason = "fatal";
        this.#fatal = error;
      }
    } finally {
      if (released) this.#recording--;
      else this.#inFlight--;
      this.#pump();
    }
  }

  /**
   * Whether the end of `id` makes a dependent ready that goes before every node ready now
   * (or there is none ready): the slot is then kept for it.
   */
  #unblocksFirst(id: string, state: NodeState): boolean {
    if (state !== "ok") return false;
    const next = this.#ready.peek();
    for (const dependent of this.#graph.dependentsUnsorted(id)) {
      if (this.#waiting.get(dependent) !== 1) continue;
      if (next === undefined || this.#order.get(dependent)! < next) return true;
    }
    return false;
  }

  async #skipDependents(id: string): Promise<void> {
    const skipped = [...this.#graph.transitiveDependents(id)]
      .filter((d) => !this.#outcomes.has(d))
      .sort((a, b) => this.#rank.get(a)! - this.#rank.get(b)!);
    const reason = `dependency ${id} failed`;
    for (const d of skipped) this.#outcomes.set(d, { state: "skipped", reason });
    for (const d of skipped) {
      await this.#emit({
        type: "skip",
        id: d,
        value: this.#graph.value(d),
        state: "skipped",
        reason,
      });
    }
  }

  async #finish(): Promise<void> {
    if (this.#finishing) return;
    this.#finishing = true;
    clearTimeout(this.#graceTimer);
    this.#options.signal?.removeEventListener("abort", this.#onCancel);
    this.#options.killSignal?.removeEventListener("abort", this.#onKill);
    const cancelled = this.#cancelled;
    const state: "skipped" | "cancelled" = cancelled ? "cancelled" : "skipped";
    const reason = cancelled
      ? "run cancelled"
      : this.#stopReason === "fail-fast"
      ? "fail-fast: an earlier job failed"
      : "run stopped";
    try {
      for (const id of this.#ids) {
        if (this.#outcomes.has(id)) continue;
        this.#outcomes.set(id, { state, reason });
        if (this.#stopReason !== "fatal") {
          await this.#emit({ type: "skip", id, value: this.#graph.value(id), state, reason });
        }
      }
    } catch (error) {
      if (this.#stopReason !== "fatal") {
        this.#stopReason = "fatal";
        this.#fatal = error;
      }
    }
    if (this.#stopReason === "fatal") {
      this.#reject(this.#fatal);
      return;
    }
    let overall: WalkResult<R>["state"] = cancelled ? "cancelled" : "ok";
    if (!cancelled) {
      for (const o of this.#outcomes.values()) if (o.state !== "ok") overall = "error";
    }
    this.#resolve({ state: overall, nodes: this.#outcomes });
  }

  async #emit(event: WalkEvent<T, R>): Promise<void> {
    if (this.#options.onEvent) await this.#options.onEvent(event);
  }
}

/**
 * The ids in the order ready nodes start: higher priority first, then the given order (a
 * stable sort). Without priorities, the given order.
 */
function startOrder(ids: readonly string[], priority?: (id: string) => number): string[] {
  if (!priority) return [...ids];
  const keyed = ids.map((id, i) => {
    const p = priority(id);
    if (typeof p !== "number" || Number.isNaN(p)) {
      throw new TypeError(`the priority of ${id} must be a number, got ${String(p)}`);
    }
    return { id, i, p };
  });
  keyed.sort((a, b) => b.p - a.p || a.i - b.i);
  return keyed.map((k) => k.id);
}

/** A binary min-heap of numbers (positions in start order). */
class MinHeap {
  readonly #items: number[] = [];

  get size(): number {
    return this.#items.length;
  }

  /** The smallest number, without taking it (undefined when empty). */
  peek(): number | undefined {
    return this.#items[0];
  }

  push(n: number): void {
    const a = this.#items;
    a.push(n);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p] <= a[i]) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }

  pop(): number {
    const a = this.#items;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < a.length && a[l] < a[m]) m = l;
        if (r < a.length && a[r] < a[m]) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }
}
