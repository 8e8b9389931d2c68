/**
 * `ays list [-r ROLE] [-i INSTANCE] [--json]` (docs/cli.md): the services, sorted by role then name.
 *
 * @module
 */
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { listEntry } from "../model/mod.ts";
import type { CliContext } from "./context.ts";
import { renderList } from "./render.ts";
import { INSTANCE_OPTION, ROLE_OPTION, selectServices } from "./service_filter.ts";
import { printJson, withSession } from "./session.ts";

/** Adds `ays list` to the program. */
export function registerList(program: CommandUnknownOpts, ctx: CliContext): void {
  program.command("list").description("list the services (filters -r, -i)")
    .option(...ROLE_OPTION)
    .option(...INSTANCE_OPTION)
    .action(async (options, command) => {
      await withSession(ctx, command, {}, async (session) => {
        const [all, actors] = await Promise.all([
          session.store.loadServices(),
          session.store.loadActors(),
        ]);
        const services = selectServices(all, { ...options, actors });
        const entries = services.map(listEntry);
        if (session.globals.json) printJson(ctx, entries);
        else ctx.io.stdout(renderList(entries));
      });
    });
}
