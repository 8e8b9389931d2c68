/**
 * The executor of a fleet job (docs/fleet.md, "A job's executor on the fleet"): the walk up the
 * service's parent chain of docs/executors.md, done by the coordinator — where the actions
 * files of the job's ancestors are — and sent to the worker as the resolved spec
 * (`JobRequest.executor`), so a worker needs no copy of the ancestors' templates and runs the
 * job's commands where the spec says: on its own machine, or on an SSH target over a master
 * connection the worker holds.
 *
 * @module
 */
import { pathToFileURL } from "node:url";
import { type ExecutorLink, type ExecutorSpec, LOCAL, resolveExecutor } from "../executor/mod.ts";
import { serviceName } from "../model/mod.ts";
import type { JobRequest, JobServiceData } from "../run/mod.ts";

/** Options of {@link resolveFleetExecutor}. */
export interface ResolveFleetExecutorOptions {
  /** Imports an actions file (default: a dynamic import of its absolute path). */
  load?: (path: string) => Promise<Record<string, unknown>>;
}

function importActions(path: string): Promise<Record<string, unknown>> {
  return import(pathToFileURL(path).href) as Promise<Record<string, unknown>>;
}

/**
 * A `load` for {@link resolveFleetExecutor} that imports each actions file once: a dynamic
 * `import()` of a module already loaded still costs more than the rest of the walk, and a
 * coordinator walks for every job. A failed import is not kept (the runtime's own module
 * cache may still remember it).
 */
export function actionsLoader(): (path: string) => Promise<Record<string, unknown>> {
  const modules = new Map<string, Promise<Record<string, unknown>>>();
  return (path) => {
    let module = modules.get(path);
    if (!module) {
      module = importActions(path);
      modules.set(path, module);
      module.catch(() => modules.delete(path));
    }
    return module;
  };
}

/** What `executor(job)` receives: the service's read-only view and the repository. */
function context(request: JobRequest, service: JobServiceData): unknown {
  return Object.freeze({
    repo: Object.freeze({ name: request.repo.name, path: request.repo.path }),
    service: Object.freeze(structuredClone(service)),
  });
}

/**
 * The executor of `request`'s job (its actions files at their paths on this machine). Throws
 * the walk's Error (`executor() of node!n1 (…) failed: …`) when an `executor` throws or
 * returns something that is not an executor: the job fails with it, as in a local run.
 */
export async function resolveFleetExecutor(
  request: JobRequest,
  options: ResolveFleetExecutorOptions = {},
): Promise<ExecutorSpec> {
  const { load = importActions } = options;
  if (typeof load !== "function") {
    throw new TypeError("resolveFleetExecutor: load must be a function");
  }
  // v8.1's noexec loads nothing (docs/from-v81.md): the worker runs no command for it.
  if (request.noexec || request.executorLocal === true) return LOCAL;
  const own = request.service;
  const chain: [string, string | null, JobServiceData][] = [
    [serviceName(own.role, own.name), request.actionsPath, own],
    ...(request.ancestors ?? []).map((a): [string, string | null, JobServiceData] => [
      serviceName(a.service.role, a.service.name),
      a.actionsPath,
      a.service,
    ]),
  ];
  // Every fleet job passes here: the service views are copied only for the one service whose
  // file exports `executor` (most jobs have none), then the walk of docs/executors.md calls
  // it, with its checks and messages.
  for (const [name, actionsPath, service] of chain) {
    if (!actionsPath || /\.py$/.test(actionsPath)) continue;
    const module = await load(actionsPath);
    if (!Object.hasOwn(module, "executor")) continue;
    const link: ExecutorLink = { name, actionsPath, job: context(request, service) };
    const { spec } = await resolveExecutor([link], { load: () => Promise.resolve(module) });
    return spec;
  }
  return LOCAL;
}
