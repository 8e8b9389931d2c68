/**
 * `ays list [-r ROLE] [-i INSTANCE] [--json]` (SPEC §9): the services, sorted by role then name.
 *
 * @module
 */
import type { Command } from "@commander-js/extra-typings";
import { listEntry } from "../model/views.ts";
import type { CliContext } from "./context.ts";
import { renderList } from "./render.ts";
import { INSTANCE_OPTION, ROLE_OPTION, selectServices } from "./service_filter.ts";
import { printJson, withSession } from "./session.ts";

/** Adds `ays list` to the program. */
export function registerList(program: Command, ctx: CliContext): void {
  program.command("list").description("list the services (filters -r, -i)")
    .option(...ROLE_OPTION)
    .option(...INSTANCE_OPTION)
    .action(async (options, command) => {
      await withSession(ctx, command as unknown as Command, {}, async (session) => {
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
