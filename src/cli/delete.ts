/**
 * `ays delete [ROLE!INSTANCE] [-r] [-i] --yes` (docs/cli.md): removes the chosen services with
 * their children and undoes the links other services had to them, in one atomic save.
 *
 * @module
 */
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { InputError } from "../errors.ts";
import { planDelete, serviceKey, serviceName } from "../model/mod.ts";
import type { CliContext } from "./context.ts";
import { corruptRecordsError, corruptService, nameFromMirror } from "./corrupt.ts";
import { confirm } from "./confirm.ts";
import { INSTANCE_OPTION, parseTarget, ROLE_OPTION, selectServices } from "./service_filter.ts";
import { printJson, withSession } from "./session.ts";

/** Adds `ays delete` to the program. */
export function registerDelete(program: CommandUnknownOpts, ctx: CliContext): void {
  program
    .command("delete")
    .description("remove services with their children; links to them are undone")
    .argument("[service]", "ROLE!INSTANCE (or ROLE:INSTANCE)")
    .option(...ROLE_OPTION)
    .option(...INSTANCE_OPTION)
    .option("-y, --yes", "really delete (required unless --ask)")
    .option("--ask", "ask before deleting (on a terminal)")
    .option("--wait", "wait for a run holding the repository lock instead of failing")
    .action(async (target, options, command) => {
      if (target === undefined && options.role === undefined && options.instance === undefined) {
        throw new InputError(
          "name the services to delete (ROLE!INSTANCE, -r, -i); 'ays destroy' removes everything",
        );
      }
      await withSession(
        ctx,
        command,
        { write: true, wait: Boolean(options.wait) },
        async (session) => {
          const { store } = session;
          const scan = await store.scanServices();
          const all = scan.services;
          // A service whose record is corrupted can still be deleted by its name (its key is
          // derived from it), with its children and the links to it (docs/store.md).
          const wanted = target === undefined ? undefined : parseTarget(target);
          const broken = wanted && corruptService(scan.corrupt, store.repoName, wanted);
          const others = scan.corrupt.filter((e) => e.recordKey !== broken?.recordKey);
          if (others.length > 0) {
            session.warn(
              corruptRecordsError(await nameFromMirror(others, session.readMirror)).message,
            );
          }
          const roots = wanted && broken
            ? [serviceName(wanted.role, wanted.instance)]
            : selectServices(all, {
              target,
              role: options.role,
              instance: options.instance,
              required: true,
            }).map((s) => serviceName(s.role, s.name));
          const actors = new Map((await store.loadActors()).map((a) => [a.name, a]));
          const plan = planDelete(all, roots, { actors });
          const brokenKeys = wanted && broken
            ? [serviceKey(store.repoName, wanted.role, wanted.instance)]
            : [];
          const names = [
            ...(broken ? [roots[0]] : []),
            ...plan.deleted.map((s) => serviceName(s.role, s.name)),
          ];
          const ok = await confirm(
            ctx.io,
            `delete ${names.length} service${names.length === 1 ? "" : "s"} (${
              names.slice(0, 10).join(", ")
            }${names.length > 10 ? ", …" : ""})`,
            { yes: options.yes, ask: options.ask },
          );
          if (!ok) {
            ctx.io.stderr("ays: nothing deleted\n");
            return;
          }
          await store.save({
            services: plan.updated,
            deleteServices: [...brokenKeys, ...plan.deleted.map((s) => s.key)],
          });
          plan.warnings.forEach(session.warn);
          const unlinked = plan.updated.map((s) => serviceName(s.role, s.name));
          if (session.globals.json) printJson(ctx, { deleted: names, unlinked });
          else if (!session.globals.quiet) {
            for (const name of names) ctx.io.stdout(`deleted ${name}\n`);
            for (const name of unlinked) ctx.io.stdout(`unlinked ${name}\n`);
          }
        },
      );
    });
}
