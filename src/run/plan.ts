/**
 * The planner (docs/runs.md, "Planning"): which actions of which services a run executes, and in which
 * order. Pure: it reads service and actor records and writes nothing.
 *
 * @module
 */
import { InputError } from "../errors.ts";
import {
  type ActionState,
  type ActorRecord,
  DEFAULT_ACTIONS,
  isLifecycleAction,
  ownValue,
  type PlannedJob,
  prerequisitesOf,
  runsJob,
  serviceMatcher,
  serviceName,
  type ServiceRecord,
} from "../model/mod.ts";

export { runsJob };
import { remainingPaths } from "./critical_path.ts";
import { CycleError, Graph } from "./graph.ts";

/** Why a job is part of a run. */
export type PlanReason =
  | "scheduled"
  | "changed"
  | "error"
  | "interrupted"
  | "prerequisite"
  | "producer";

/** A node of the run graph: the job plus why it is there. */
export interface PlannedNode extends PlannedJob {
  reason: PlanReason;
}

/** A planned run: the graph and its layering into steps. */
export interface Plan {
  /** Kahn layers of the graph; each step sorted by service, then action. */
  steps: PlannedJob[][];
  /** Node ids are {@link jobId}s; an edge a → b means a waits for b. */
  graph: Graph<PlannedNode>;
  /**
   * Due default actions the actions file does not export ({@link runsJob}): satisfied without
   * a job, so the run marks them `ok` (in lifecycle order) instead of running them.
   */
  satisfied: PlannedJob[];
  /**
   * Each job's remaining critical path (`critical_path.ts`) by node id: its weight plus the
   * heaviest path of the jobs waiting for it. Among ready jobs the run starts the highest
   * first (docs/runs.md, "Which ready job starts first").
   */
  priority: Map<string, number>;
}

/** Options of {@link planRun}. */
export interface PlanOptions {
  /**
   * `-r`: the role or the full actor name (`node` matches `node.ssh`); the same matcher as
   * scheduling (`serviceMatcher` of `src/model/schedule.ts`), so `ays do` runs what it scheduled.
   */
  role?: string;
  /** `-i`: a regex matched against the whole instance name. */
  instance?: string;
  /** Only take this action (prerequisites and producers' actions still join). */
  action?: string;
  /**
   * Whether a `running` action was left by a dead holder (crashed run). Default: never, so
   * `running` actions are not taken.
   */
  isInterrupted?: (service: ServiceRecord, action: string) => boolean;
  /**
   * How long a job is expected to take (any unit, ≥ 0), for {@link Plan.priority}. Default 1
   * for every job: the remaining path is then counted in jobs.
   */
  weight?: (job: PlannedJob) => number;
}

/** Actions whose order follows the producers (the parent included). */
const PRODUCER_ORDERED = new Set(["init", "install", "start"]);
/** Actions whose order follows the consumers: teardown runs in reverse. */
const CONSUMER_ORDERED = new Set(["stop", "uninstall"]);

/** The graph id of a job: `role!instance:action` (action names contain no `:`). */
export function jobId(job: PlannedJob): string {
  return `${job.service}:${job.action}`;
}

/**
 * Plans a run over `services` (all of the repository's, so producers outside the scope can
 * join) using their `actors`. Throws {@link InputError} for a bad regex or a dependency cycle,
 * whose message prints the cycle.
 */
export function planRun(
  services: Iterable<ServiceRecord>,
  actors: Iterable<ActorRecord>,
  options: PlanOptions = {},
): Plan {
  const byName = new Map<string, ServiceRecord>();
  for (const s of services) byName.set(serviceName(s.role, s.name), s);
  const actorByName = new Map<string, ActorRecord>();
  for (const a of actors) actorByName.set(a.name, a);

  const inScope = serviceMatcher({
    role: options.role || undefined,
    instance: options.instance || undefined,
  });
  const isInterrupted = options.isInterrupted ?? (() => false);

  let rank = new Map<string, number>();
  const graph = new Graph<PlannedNode>({ compare: (a, b) => rank.get(a)! - rank.get(b)! });
  const work: string[] = [];
  const satisfied = new Map<string, PlannedJob>();
  const satisfy = (service: string, action: string) =>
    satisfied.set(`${service}:${action}`, { service, action });

  const take = (service: string, action: string, reason: PlanReason): string => {
    const id = `${service}:${action}`;
    if (!graph.hasNode(id)) {
      graph.addNode(id, { service, action, reason });
      work.push(id);
    }
    return id;
  };

  // Seeds: the actions that are due, within the scope.
  for (const [name, svc] of byName) {
    if (!inScope(svc)) continue;
    for (const [action, record] of Object.entries(svc.actions)) {
      if (options.action !== undefined && action !== options.action) continue;
      const reason = seedReason(svc, action, record.state, record.period, isInterrupted);
      if (!reason) continue;
      const actor = actorByName.get(svc.actor);
      if (runsJob(actor, action)) {
        take(name, action, reason);
        continue;
      }
      // Nothing to run: what it needs still runs, and the action itself is satisfied.
      satisfy(name, action);
      const deps = jobPrerequisites(svc, actor, action, (passed) => satisfy(name, passed));
      for (const dep of deps) take(name, dep, "prerequisite");
    }
  }

  // Closure: prerequisites on the same service, then the producers' same action.
  while (work.length > 0) {
    const id = work.pop()!;
    const node = graph.value(id);
    const svc = byName.get(node.service)!;
    const actor = actorByName.get(svc.actor);
    const passed = (dep: string) => satisfy(node.service, dep);
    for (const dep of jobPrerequisites(svc, actor, node.action, passed)) {
      graph.addEdge(id, take(node.service, dep, "prerequisite"));
    }
    // Uninstalling a started service stops it first, whatever `deps:` says (docs/runs.md).
    if (
      node.action === "uninstall" && stateOf(svc, "start") === "ok" &&
      runsJob(actor, "stop") && joins(stateOf(svc, "stop"))
    ) {
      graph.addEdge(id, take(node.service, "stop", "prerequisite"));
    }
    if (followsProducers(actor, node.action)) {
      for (const producer of producersOf(svc)) {
        const psvc = byName.get(producer);
        // A dangling link or a producer without this (custom) action orders nothing.
        const pactor = actorByName.get(psvc?.actor ?? "");
        if (!psvc || !hasAction(psvc, pactor, node.action)) continue;
        // A default action the producer's file does not export is satisfied without a job.
        if (!runsJob(pactor, node.action)) continue;
        if (!joins(stateOf(psvc, node.action))) continue;
        graph.addEdge(id, take(producer, node.action, "producer"));
      }
    }
  }

  // v8.1's order for every other action: it waits for the producers' same action when that
  // is in the run too (without pulling it in, as init/install/start do) — docs/runs.md.
  for (const id of graph.nodes()) {
    const node = graph.value(id);
    const svc = byName.get(node.service)!;
    const actor = actorByName.get(svc.actor);
    if (CONSUMER_ORDERED.has(node.action) || followsProducers(actor, node.action)) continue;
    if (actor && ownValue(actor.config.actions, node.action)?.producers === false) continue;
    for (const producer of producersOf(svc)) {
      const pid = `${producer}:${node.action}`;
      if (pid !== id && graph.hasNode(pid)) graph.addEdge(id, pid);
    }
  }

  // Teardown order: only between jobs already in the run (a consumer's stop does not join).
  for (const id of graph.nodes()) {
    const node = graph.value(id);
    if (!CONSUMER_ORDERED.has(node.action)) continue;
    for (const consumer of byName.get(node.service)!.consumers) {
      const cid = `${consumer}:${node.action}`;
      if (cid !== id && graph.hasNode(cid)) graph.addEdge(id, cid);
    }
  }

  // A consumer's processChange runs after its producers' in the same run (changes reach
  // consumers, docs/blueprints.md); it does not pull them in.
  for (const id of graph.nodes()) {
    const node = graph.value(id);
    if (node.action !== "processChange") continue;
    for (const producer of producersOf(byName.get(node.service)!)) {
      const pid = `${producer}:processChange`;
      if (pid !== id && graph.hasNode(pid)) graph.addEdge(id, pid);
    }
  }

  rank = rankNodes(graph);
  let layers: string[][];
  try {
    layers = graph.layers();
  } catch (error) {
    if (error instanceof CycleError) {
      throw new InputError(`dependency cycle: ${error.cycle.map(showId).join(" → ")}`, {
        cause: error,
      });
    }
    throw error;
  }
  const steps = layers.map((layer) =>
    layer.map((id) => {
      const node = graph.value(id);
      return { service: node.service, action: node.action };
    })
  );
  const weight = options.weight ?? (() => 1);
  const priority = remainingPaths(graph, (_id, node) => weight(node), { layers });
  return { steps, graph, satisfied: sortJobs([...satisfied.values()]), priority };
}

/** Why a service's action is due, or null when it is not. */
function seedReason(
  svc: ServiceRecord,
  action: string,
  state: ActionState,
  period: number,
  isInterrupted: (service: ServiceRecord, action: string) => boolean,
): PlanReason | null {
  if (period > 0) {
    // Recurring actions belong to the daemon; a run takes them only when scheduled by hand.
    return state === "scheduled" ? "scheduled" : null;
  }
  switch (state) {
    case "scheduled":
    case "changed":
      return state;
    case "error":
      // A failed explicit action stays failed until `ays do` asks for it again (which
      // schedules it); only failed lifecycle actions are retried by every run.
      return retriedByRuns(action) ? state : null;
    case "running":
      return isInterrupted(svc, action) ? "interrupted" : null;
    default:
      return null;
  }
}

/**
 * Whether a plain run retries the action when it failed: the lifecycle actions, and
 * `processChange`, which `ays blueprint` (not the user) schedules. A failed explicit action
 * (`backup`, `setkey`, …) runs again only when `ays do` asks for it (docs/runs.md).
 */
function retriedByRuns(action: string): boolean {
  return isLifecycleAction(action) || action === "processChange";
}

/** A prerequisite or producer action joins the run unless it is done or switched off. */
function joins(state: ActionState): boolean {
  return state !== "ok" && state !== "disabled";
}

function stateOf(svc: ServiceRecord, action: string): ActionState {
  return ownValue(svc.actions, action)?.state ?? "new";
}

function hasAction(svc: ServiceRecord, actor: ActorRecord | undefined, action: string): boolean {
  return Object.hasOwn(svc.actions, action) || DEFAULT_ACTIONS.includes(action) ||
    (actor?.actionNames.includes(action) ?? false);
}

/**
 * The prerequisites of `action` on the same service that join the run: those not `ok` or
 * `disabled`; one satisfied without a job ({@link runsJob}) is passed through, its own
 * prerequisites taking its place. Throws for a `deps:` entry naming an unknown action.
 */
function jobPrerequisites(
  svc: ServiceRecord,
  actor: ActorRecord | undefined,
  action: string,
  onPassed: (action: string) => void,
): string[] {
  const out: string[] = [];
  const seen = new Set<string>([action]);
  const visit = (of: string) => {
    for (const dep of prerequisitesOf(actor, of)) {
      if (!hasAction(svc, actor, dep)) {
        throw new InputError(`actor ${svc.actor}: action ${of} depends on unknown action ${dep}`);
      }
      if (seen.has(dep)) {
        // A cycle through a job-less action: keep the edge, so the planner reports the cycle.
        if (runsJob(actor, dep) && joins(stateOf(svc, dep)) && !out.includes(dep)) out.push(dep);
        continue;
      }
      seen.add(dep);
      if (!joins(stateOf(svc, dep))) continue;
      if (runsJob(actor, dep)) out.push(dep);
      else {
        onPassed(dep);
        visit(dep);
      }
    }
  };
  visit(action);
  return out;
}

function followsProducers(actor: ActorRecord | undefined, action: string): boolean {
  return PRODUCER_ORDERED.has(action) ||
    (actor !== undefined && ownValue(actor.config.actions, action)?.producers === true);
}

/** Producers of every role plus the parent, without duplicates. */
function producersOf(svc: ServiceRecord): string[] {
  const out = new Set<string>();
  if (svc.parent) out.add(svc.parent);
  for (const names of Object.values(svc.producers)) for (const n of names) out.add(n);
  return [...out];
}

/** Orders jobs by service, then by lifecycle order of the action. */
function sortJobs(jobs: PlannedJob[]): PlannedJob[] {
  const actionRank = (a: string) => {
    const i = DEFAULT_ACTIONS.indexOf(a);
    return i === -1 ? DEFAULT_ACTIONS.length : i;
  };
  return jobs.sort((a, b) =>
    a.service < b.service
      ? -1
      : a.service > b.service
      ? 1
      : actionRank(a.action) - actionRank(b.action)
  );
}

/** Sorts once by service, then lifecycle order of the action, and numbers the nodes. */
function rankNodes(graph: Graph<PlannedNode>): Map<string, number> {
  const ids = graph.nodes();
  const actionRank = (a: string) => {
    const i = DEFAULT_ACTIONS.indexOf(a);
    return i === -1 ? DEFAULT_ACTIONS.length : i;
  };
  const keyed = ids.map((id) => {
    const node = graph.value(id);
    return { id, service: node.service, action: node.action, ar: actionRank(node.action) };
  });
  keyed.sort((a, b) =>
    a.service < b.service
      ? -1
      : a.service > b.service
      ? 1
      : a.ar - b.ar || (a.action < b.action ? -1 : a.action > b.action ? 1 : 0)
  );
  const rank = new Map<string, number>();
  keyed.forEach((k, i) => rank.set(k.id, i));
  return rank;
}

/** `role!name:action` → `role!name action`, as users read it. */
function showId(id: string): string {
  const i = id.lastIndexOf(":");
  return `${id.slice(0, i)} ${id.slice(i + 1)}`;
}

/**
 * The plan as Graphviz `dot`: one node per job, an arrow from each job to the jobs that wait
 * for it (the direction work flows), and the jobs of a step on the same rank.
 */
export function renderDot(plan: Plan): string {
  const q = (s: string) => JSON.stringify(s);
  const lines = ["digraph ays_run {", "  rankdir=LR;", '  node [shape=box, fontname="monospace"];'];
  plan.steps.forEach((step, i) => {
    lines.push(`  subgraph step_${i + 1} {`, "    rank=same;");
    for (const job of step) {
      lines.push(`    ${q(jobId(job))} [label=${q(`${job.service}\n${job.action}`)}];`);
    }
    lines.push("  }");
  });
  for (const [from, to] of plan.graph.edges()) lines.push(`  ${q(to)} -> ${q(from)};`);
  lines.push("}");
  return lines.join("\n") + "\n";
}

/** The plan as a Mermaid flowchart, steps as subgraphs, arrows in the direction work flows. */
export function renderMermaid(plan: Plan): string {
  const short = new Map<string, string>();
  const lines = ["flowchart LR"];
  const label = (s: string) => s.replaceAll('"', "#quot;");
  plan.steps.forEach((step, i) => {
    lines.push(`  subgraph step${i + 1} ["step ${i + 1}"]`);
    for (const job of step) {
      const n = `n${short.size}`;
      short.set(jobId(job), n);
      lines.push(`    ${n}["${label(`${job.service} ${job.action}`)}"]`);
    }
    lines.push("  end");
  });
  for (const [from, to] of plan.graph.edges()) {
    lines.push(`  ${short.get(to)} --> ${short.get(from)}`);
  }
  return lines.join("\n") + "\n";
}

/**
 * The plan as text for `ays simulate`: one `step N` line, then one indented line per job with
 * why it is in the run (`scheduled`, `prerequisite`, …).
 */
export function renderSteps(
  plan: Plan,
  options: { executors?: ReadonlyMap<string, string> } = {},
): string {
  const { executors } = options;
  if (plan.steps.length === 0) return "nothing to do\n";
  const lines: string[] = [];
  plan.steps.forEach((step, i) => {
    lines.push(`step ${i + 1}`);
    for (const job of step) {
      // A job that runs elsewhere than here says where (docs/executors.md).
      const where = executors?.get(job.service) ?? "local";
      const on = where === "local" ? "" : `  on ${where}`;
      lines.push(`  ${job.service} ${job.action}  (${plan.graph.value(jobId(job)).reason})${on}`);
    }
  });
  return lines.join("\n") + "\n";
}
