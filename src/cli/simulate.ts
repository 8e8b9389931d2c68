/**
 * `ays simulate` (alias `plan`): the steps and jobs `ays run` would execute, as text, JSON or a
 * graph (`--graph dot|mermaid`). It only reads: nothing is written to the store (v8.1 did).
 *
 * @module
 */
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { InputError } from "../errors.ts";
import { checkServiceFilter } from "../model/mod.ts";
import {
  describeExecutors,
  jobId,
  planRepoRun,
  renderDot,
  renderMermaid,
  renderSteps,
} from "../run/mod.ts";
import type { CliContext } from "./context.ts";
import { printJson, withSession } from "./session.ts";

/** Adds `ays simulate` / `ays plan` to the program. */
export function registerSimulate(program: CommandUnknownOpts, ctx: CliContext): void {
  program
    .command("simulate")
    .alias("plan")
    .description("show the steps and jobs ays run would execute; writes nothing")
    .option("-r, --role <role>", "only services of this role or actor")
    .option("-i, --instance <regex>", "only instances matching this regex (whole name)")
    .option("--action <action>", "show what ays do ACTION would run")
    .option("--force", "with --action: as ays do ACTION --force")
    .option("--graph <format>", "print the graph: dot or mermaid")
    .action(async (options, command) => {
      const graph = options.graph;
      if (graph !== undefined && graph !== "dot" && graph !== "mermaid") {
        throw new InputError(`--graph must be dot or mermaid, not '${graph}'`);
      }
      if (options.force && !options.action) throw new InputError("--force needs --action");
      await withSession(ctx, command, {}, async (session) => {
        const filter = { role: options.role || undefined, instance: options.instance || undefined };
        if (filter.role !== undefined || filter.instance !== undefined) {
          // A typo in -r or -i is exit 2 with a suggestion, not a plan of nothing.
          const [services, actors] = await Promise.all([
            session.store.loadServices(),
            session.store.loadActors(),
          ]);
          checkServiceFilter(services, filter, { actors });
        }
        const { plan, services: byName, actors: actorsByName } = await planRepoRun(
          { store: session.store, driver: session.driver, repo: session.repo },
          {
            scope: {
              role: options.role || undefined,
              instance: options.instance || undefined,
              action: options.action || undefined,
            },
            schedule: options.action ? { force: Boolean(options.force) } : undefined,
          },
        );
        if (graph === "dot") return ctx.io.stdout(renderDot(plan));
        if (graph === "mermaid") return ctx.io.stdout(renderMermaid(plan));
        const planned = new Set(plan.steps.flat().map((job) => job.service));
        const executors = await describeExecutors(
          [...planned].map((name) => byName.get(name)!).filter(Boolean),
          {
            lookup: (name) => byName.get(name),
            actors: (name) => actorsByName.get(name),
            repo: session.repo,
          },
        );
        if (session.globals.json) {
          const reasons = new Map(
            plan.graph.nodes().map((id) => [id, plan.graph.value(id).reason]),
          );
          return printJson(ctx, {
            steps: plan.steps.map((step) =>
              step.map((job) => ({
                service: job.service,
                action: job.action,
                reason: reasons.get(jobId(job)),
                executor: executors.get(job.service) ?? "local",
                waitsFor: plan.graph.dependencies(jobId(job)).map(showJob),
              }))
            ),
            jobs: plan.steps.reduce((n, step) => n + step.length, 0),
          });
        }
        ctx.io.stdout(renderSteps(plan, { executors }));
      });
    });
}

/** `role!instance:action` → `role!instance action`. */
function showJob(id: string): string {
  const i = id.lastIndexOf(":");
  return `${id.slice(0, i)} ${id.slice(i + 1)}`;
}
