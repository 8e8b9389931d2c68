/**
 * The dependency graph the dashboard draws (docs/dashboard.md, "The graph"): the planner's own
 * graph of a run (`planRun`), as JSON. The browser lays it out with dagre; a large graph is cut
 * to its first `limit` jobs in step order, so the page stays usable at 1,000 services.
 *
 * @module
 */
import { ownValue, type ServiceRecord } from "../model/mod.ts";
import type { Plan, PlanReason } from "../run/mod.ts";

/** One job of the graph. */
export interface GraphNode {
  /** `role!instance:action`, as the planner names it. */
  id: string;
  service: string;
  action: string;
  /** Why the planner took it. */
  reason: PlanReason;
  /** Its step (0-based Kahn layer). */
  step: number;
  /** The action's state now (`new`, `ok`, `error`…). */
  state: string;
}

/** An edge: `from` waits for `to`. */
export interface GraphEdge {
  from: string;
  to: string;
}

/** What `GET /ui/api/repos/{name}/graph` answers. */
export interface GraphView {
  /** Jobs in the whole plan. */
  total: number;
  /** Whether only the first `limit` jobs (in step order) are given. */
  truncated: boolean;
  limit: number;
  steps: number;
  nodes: GraphNode[];
  /** Only edges between the given nodes. */
  edges: GraphEdge[];
}

/** The largest `limit` the API accepts: dagre in a browser stays under a few seconds. */
export const MAX_GRAPH_NODES = 2000;

/** Options of {@link graphView}. */
export interface GraphViewOptions {
  /** At most this many nodes; default 300, at most {@link MAX_GRAPH_NODES}. */
  limit?: number;
}

/** The JSON of a plan's graph; `services` give each action's current state. */
export function graphView(
  plan: Plan,
  services: ReadonlyMap<string, ServiceRecord>,
  options: GraphViewOptions = {},
): GraphView {
  const { limit = 300 } = options;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_GRAPH_NODES) {
    throw new RangeError(`graphView: limit must be an integer 1–${MAX_GRAPH_NODES}, not ${limit}`);
  }
  const nodes: GraphNode[] = [];
  let total = 0;
  plan.steps.forEach((step, index) => {
    for (const job of step) {
      total++;
      if (nodes.length >= limit) continue;
      const id = `${job.service}:${job.action}`;
      const service = services.get(job.service);
      const state = (service && ownValue(service.actions, job.action)?.state) ?? "new";
      nodes.push({
        id,
        service: job.service,
        action: job.action,
        reason: plan.graph.value(id).reason,
        step: index,
        state,
      });
    }
  });
  const shown = new Set(nodes.map((node) => node.id));
  const edges: GraphEdge[] = [];
  for (const node of nodes) {
    for (const to of plan.graph.dependencies(node.id)) {
      if (shown.has(to)) edges.push({ from: node.id, to });
    }
  }
  return {
    total,
    truncated: total > nodes.length,
    limit,
    steps: plan.steps.length,
    nodes,
    edges,
  };
}
