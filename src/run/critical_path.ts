/**
 * Critical-path weights of a graph (docs/runs.md, "Which ready job starts first"): for every
 * node, the longest path from it to the end of the graph — its own weight plus the heaviest
 * remaining path of the nodes that wait for it. A walker that starts the ready nodes with the
 * longest remaining path first finishes a graph with one long chain beside many short jobs
 * close to the chain's length, where arrival order leaves the chain for last.
 *
 * Pure: the weights come from the caller (the planner uses the recorded durations of each
 * action's last jobs, `job_durations.ts`).
 *
 * @module
 */
import type { Graph } from "./graph.ts";

/** Options of {@link remainingPaths}. */
export interface RemainingPathsOptions {
  /** The graph's Kahn layers when the caller has them already (`graph.layers()`). */
  layers?: readonly (readonly string[])[];
}

/**
 * The remaining path of every node of `graph` (acyclic; throws `CycleError` otherwise), by
 * id: `weight(id) + max(remaining of its dependents)`. A weight that is not a finite number
 * ≥ 0 is refused with a TypeError.
 */
export function remainingPaths<T>(
  graph: Graph<T>,
  weight: (id: string, value: T) => number,
  options: RemainingPathsOptions = {},
): Map<string, number> {
  const { layers = graph.layers() } = options;
  const remaining = new Map<string, number>();
  // Kahn layers go dependencies first: the last layer's nodes have no dependents.
  for (let i = layers.length - 1; i >= 0; i--) {
    for (const id of layers[i]) {
      const own = weight(id, graph.value(id));
      if (!Number.isFinite(own) || own < 0) {
        throw new TypeError(`the weight of ${id} must be a finite number ≥ 0, got ${own}`);
      }
      let longest = 0;
      for (const dependent of graph.dependentsUnsorted(id)) {
        longest = Math.max(longest, remaining.get(dependent)!);
      }
      remaining.set(id, own + longest);
    }
  }
  return remaining;
}
