/**
 * Which executor a job uses (docs/executors.md): that of the nearest service among itself and
 * its ancestors (the parent chain) whose actions file exports `executor(job)`, called with that
 * service's view; none: the local machine. An actor pinned with `executor: local` runs its own
 * jobs locally whatever its ancestors say. The same walk serves the job worker and
 * `ays show`/`ays simulate`; only how an actions file is loaded differs.
 *
 * @module
 */
import { type ExecutorSpec, ExecutorSpecError, LOCAL, parseExecutorSpec } from "./spec.ts";

/** One service of the walk: the job's own first, then its parent, its parent's parent, … */
export interface ExecutorLink {
  /** `role!instance`, for messages. */
  name: string;
  /** Absolute path of the service's actions file, or null. */
  actionsPath: string | null;
  /** What `executor(job)` receives as `job` (the service's view, the repository). */
  job: unknown;
}

/** Options of {@link resolveExecutor}. */
export interface ResolveExecutorOptions {
  /** Imports an actions file (the worker's dynamic import, or the CLI's). */
  load: (path: string) => Promise<Record<string, unknown>>;
  /** The job's own actor is pinned to the local machine (`executor: local`). */
  pinnedLocal?: boolean;
}

/** The executor of a job and the service it came from (null: no service defines one). */
export interface ResolvedExecutor {
  spec: ExecutorSpec;
  from: string | null;
}

/**
 * Walks `links` (the job's service first) to the first actions file exporting `executor` and
 * returns what it gives. Throws an Error naming the service when `executor` throws or returns
 * something that is not an executor.
 */
export async function resolveExecutor(
  links: readonly ExecutorLink[],
  options: ResolveExecutorOptions,
): Promise<ResolvedExecutor> {
  const { load, pinnedLocal = false } = options;
  if (typeof load !== "function") throw new TypeError("resolveExecutor: load must be a function");
  if (pinnedLocal) return { spec: LOCAL, from: null };
  for (const link of links) {
    if (!link.actionsPath || /\.py$/.test(link.actionsPath)) continue;
    const module = await load(link.actionsPath);
    const fn = Object.hasOwn(module, "executor") ? module.executor : undefined;
    if (fn === undefined) continue;
    if (typeof fn !== "function") {
      throw new Error(`${link.actionsPath}: export executor is not a function`);
    }
    let value: unknown;
    try {
      value = await fn(link.job);
    } catch (error) {
      throw new Error(
        `executor() of ${link.name} (${link.actionsPath}) failed: ${(error as Error)?.message}`,
        { cause: error },
      );
    }
    try {
      return { spec: parseExecutorSpec(value), from: link.name };
    } catch (error) {
      if (!(error instanceof ExecutorSpecError)) throw error;
      throw new Error(`executor() of ${link.name} (${link.actionsPath}): ${error.message}`);
    }
  }
  return { spec: LOCAL, from: null };
}
