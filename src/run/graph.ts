/**
 * A small directed acyclic graph with values on its nodes, after Terraform's `internal/dag`:
 * the graph knows nothing about plans or execution; the planner builds one and the walker
 * walks one.
 *
 * An edge `addEdge(a, b)` means "a depends on b": b must finish before a starts.
 *
 * @module
 */

/** Options of {@link Graph}. */
export interface GraphOptions {
  /**
   * Orders nodes inside a layer and the ready queue of a walk; default: by id. Must be a
   * total order so that layering is deterministic.
   */
  compare?: (a: string, b: string) => number;
}

/** A directed graph of string ids with a value per node; edges point from a node to a dependency. */
export class Graph<T> {
  readonly #values = new Map<string, T>();
  readonly #deps = new Map<string, Set<string>>();
  readonly #dependents = new Map<string, Set<string>>();
  readonly #compare: (a: string, b: string) => number;

  constructor(options: GraphOptions = {}) {
    this.#compare = options.compare ?? compareStrings;
  }

  /** The order used for layers and ready queues. */
  get compare(): (a: string, b: string) => number {
    return this.#compare;
  }

  /** Number of nodes. */
  get size(): number {
    return this.#values.size;
  }

  /** Adds a node, or replaces the value of an existing one. */
  addNode(id: string, value: T): void {
    this.#values.set(id, value);
    if (!this.#deps.has(id)) {
      this.#deps.set(id, new Set());
      this.#dependents.set(id, new Set());
    }
  }

  /** Whether the node exists. */
  hasNode(id: string): boolean {
    return this.#values.has(id);
  }

  /** The value of a node; throws when it does not exist. */
  value(id: string): T {
    if (!this.#values.has(id)) throw new Error(`graph: no node ${id}`);
    return this.#values.get(id) as T;
  }

  /** Records that `from` depends on `to`; both nodes must exist. A self-edge is a cycle. */
  addEdge(from: string, to: string): void {
    const deps = this.#deps.get(from);
    const dependents = this.#dependents.get(to);
    if (!deps) throw new Error(`graph: no node ${from}`);
    if (!dependents) throw new Error(`graph: no node ${to}`);
    deps.add(to);
    dependents.add(from);
  }

  /** Whether `from` depends directly on `to`. */
  hasEdge(from: string, to: string): boolean {
    return this.#deps.get(from)?.has(to) ?? false;
  }

  /** Node ids in insertion order. */
  nodes(): string[] {
    return [...this.#values.keys()];
  }

  /** Every edge as `[from, to]` (from depends on to), sorted. */
  edges(): [string, string][] {
    const out: [string, string][] = [];
    for (const from of this.sortedNodes()) {
      for (const to of this.dependencies(from)) out.push([from, to]);
    }
    return out;
  }

  /** Direct dependencies of a node, sorted. */
  dependencies(id: string): string[] {
    return [...(this.#deps.get(id) ?? [])].sort(this.#compare);
  }

  /** Direct dependents of a node (the nodes that depend on it), sorted. */
  dependents(id: string): string[] {
    return [...(this.#dependents.get(id) ?? [])].sort(this.#compare);
  }

  /** Number of direct dependencies, without sorting. */
  dependencyCount(id: string): number {
    return this.#deps.get(id)?.size ?? 0;
  }

  /** Direct dependents without sorting, for hot loops. */
  dependentsUnsorted(id: string): Iterable<string> {
    return this.#dependents.get(id) ?? [];
  }

  /** Every node that depends on `id`, directly or not (not including `id`). */
  transitiveDependents(id: string): Set<string> {
    const seen = new Set<string>();
    const stack = [id];
    while (stack.length > 0) {
      for (const next of this.dependentsUnsorted(stack.pop()!)) {
        if (!seen.has(next)) {
          seen.add(next);
          stack.push(next);
        }
      }
    }
    return seen;
  }

  /**
   * One cycle as a path that starts and ends with the same node (`[a, b, a]`: a depends on b,
   * b depends on a), or null when the graph is acyclic. Deterministic: the search visits
   * nodes and dependencies in sorted order.
   */
  findCycle(): string[] | null {
    const WHITE = 0, GREY = 1, BLACK = 2;
    const color = new Map<string, number>();
    for (const start of this.sortedNodes()) {
      if ((color.get(start) ?? WHITE) !== WHITE) continue;
      // Iterative DFS so long chains do not exhaust the call stack.
      const path: string[] = [start];
      const iters: string[][] = [this.dependencies(start)];
      color.set(start, GREY);
      while (path.length > 0) {
        const pending = iters[iters.length - 1];
        if (pending.length === 0) {
          color.set(path.pop()!, BLACK);
          iters.pop();
          continue;
        }
        const next = pending.shift()!;
        const c = color.get(next) ?? WHITE;
        if (c === GREY) {
          return [...path.slice(path.indexOf(next)), next];
        }
        if (c === WHITE) {
          color.set(next, GREY);
          path.push(next);
          iters.push(this.dependencies(next));
        }
      }
    }
    return null;
  }

  /**
   * Kahn's algorithm: layer 0 holds the nodes without dependencies, layer n the nodes whose
   * dependencies are all in earlier layers. Each layer is sorted. Throws {@link CycleError}
   * when the graph has a cycle.
   */
  layers(): string[][] {
    const remaining = new Map<string, number>();
    let current: string[] = [];
    for (const [id, deps] of this.#deps) {
      remaining.set(id, deps.size);
      if (deps.size === 0) current.push(id);
    }
    const layers: string[][] = [];
    let placed = 0;
    while (current.length > 0) {
      current.sort(this.#compare);
      layers.push(current);
      placed += current.length;
      const next: string[] = [];
      for (const id of current) {
        for (const dependent of this.dependentsUnsorted(id)) {
          const left = remaining.get(dependent)! - 1;
          remaining.set(dependent, left);
          if (left === 0) next.push(dependent);
        }
      }
      current = next;
    }
    if (placed !== this.#values.size) {
      throw new CycleError(this.findCycle() ?? []);
    }
    return layers;
  }

  /** Node ids sorted with the graph's order. */
  sortedNodes(): string[] {
    return this.nodes().sort(this.#compare);
  }
}

/** The graph has a cycle; `cycle` is the path, first node repeated at the end. */
export class CycleError extends Error {
  /** The cycle as a path: `[a, b, a]`. */
  readonly cycle: string[];

  constructor(cycle: string[]) {
    super(`dependency cycle: ${cycle.join(" → ")}`);
    this.name = "CycleError";
    this.cycle = cycle;
  }
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
