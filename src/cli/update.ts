/**
 * `ays update [-n NAME] [--mark-changed]` (docs/capnp.md, docs/blueprints.md): re-reads the templates and carries
 * their changes to the stored actors and their services (see src/repo/update.ts), in one
 * atomic save.
 *
 * @module
 */
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { InputError } from "../errors.ts";
import { globalTemplateDirs, loadRepoActors, planUpdate } from "../repo/mod.ts";
import type { CliContext } from "./context.ts";
import { printJson, withSession } from "./session.ts";

/** Adds `ays update` to the program. */
export function registerUpdate(program: CommandUnknownOpts, ctx: CliContext): void {
  program
    .command("update")
    .description("re-read the templates; carry schema and action changes to actors and services")
    .option("-n, --name <actor>", "only this actor")
    .option("--mark-changed", "set ok actions of actors whose actions file changed to 'changed'")
    .option(
      "--reset-invalid",
      "reset values the new schema refuses to their defaults (default: refuse the update)",
    )
    .option("--wait", "wait for a run holding the repository lock instead of failing")
    .action(async (options, command) => {
      await withSession(
        ctx,
        command,
        { write: true, wait: Boolean(options.wait) },
        async (session) => {
          const templates = await loadRepoActors(session.repo.path, {
            globalDirs: globalTemplateDirs(ctx.io.env),
          });
          templates.warnings.forEach(session.warn);
          const stored = await session.store.loadActors();
          if (
            options.name !== undefined && !stored.some((a) => a.name === options.name)
          ) {
            const hint = templates.actors.has(options.name)
              ? ": it has no services yet ('ays blueprint' stores it with the first)"
              : "";
            throw new InputError(`no actor '${options.name}' in this repository's store${hint}`);
          }
          const services = await session.store.loadServices();
          const plan = planUpdate(stored, templates.actors, services, {
            names: options.name === undefined ? undefined : [options.name],
            markChanged: Boolean(options.markChanged),
          });
          // A value the new schema refuses would be lost silently; the user decides instead.
          const resets = plan.updates.flatMap((u) => u.reset);
          if (resets.length > 0 && !options.resetInvalid) {
            throw new InputError(
              `the new schema refuses ${resets.length} stored value${
                resets.length === 1 ? "" : "s"
              }; ` +
                `nothing was changed:\n  ${
                  resets.map((r) => `${r.service}: ${r.field} (${r.reason})`).join("\n  ")
                }\nchange those values (blueprint or set them valid) or run 'ays update --reset-invalid' ` +
                `to reset them to their defaults`,
            );
          }
          if (plan.actors.length > 0) {
            await session.store.save({ actors: plan.actors, services: plan.services });
          }
          plan.warnings.forEach(session.warn);
          for (const update of plan.updates) {
            if (update.removedFields.length > 0) {
              session.warn(
                `actor ${update.actor}: fields ${
                  update.removedFields.join(", ")
                } are gone from the schema and were dropped from its services`,
              );
            }
            for (const reset of update.reset) {
              session.warn(
                `${reset.service}: ${reset.field} was reset to its default (${reset.reason})`,
              );
            }
          }
          if (session.globals.json) {
            printJson(ctx, { updated: plan.updates, warnings: plan.warnings });
            return;
          }
          if (session.globals.quiet) return;
          if (plan.updates.length === 0) {
            ctx.io.stdout("every actor is up to date with its template\n");
            return;
          }
          for (const u of plan.updates) {
            const parts = [`changed: ${u.differences.join(", ")}`];
            if (u.addedFields.length) parts.push(`added fields ${u.addedFields.join(", ")}`);
            if (u.removedFields.length) parts.push(`removed fields ${u.removedFields.join(", ")}`);
            if (u.addedActions.length) parts.push(`added actions ${u.addedActions.join(", ")}`);
            if (u.removedActions.length) {
              parts.push(`removed actions ${u.removedActions.join(", ")}`);
            }
            parts.push(`${u.services} service${u.services === 1 ? "" : "s"} updated`);
            if (u.markedChanged) parts.push(`${u.markedChanged} actions marked changed`);
            ctx.io.stdout(`updated actor ${u.actor} (${parts.join("; ")})\n`);
          }
        },
      );
    });
}
