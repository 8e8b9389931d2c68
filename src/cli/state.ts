/**
 * `ays state [-r] [-i] [--json]` (docs/blueprints.md): each service's derived state and the state, period
 * and last run of each of its actions.
 *
 * `--json` prints `[{service, key, actor, state, actions: {NAME: {state, period, lastRun,
 * paused?}}}]`, sorted by role then name (`service` is `role!name`); `paused` says why the
 * daemon does not run a recurring action now.
 *
 * @module
 */
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { recurringPause, showEntry } from "../model/mod.ts";
import type { CliContext } from "./context.ts";
import { renderState, stateEntry } from "./render.ts";
import {
  type FilterOptions,
  INSTANCE_OPTION,
  ROLE_OPTION,
  selectServices,
} from "./service_filter.ts";
import { printJson, withSession } from "./session.ts";

/** Adds `ays state` to the program. */
export function registerState(program: CommandUnknownOpts, ctx: CliContext): void {
  program.command("state").description("show the state of each action of the services")
    .option(...ROLE_OPTION)
    .option(...INSTANCE_OPTION)
    .action(async (options, command) => {
      await withSession(ctx, command, {}, async (session) => {
        const [all, actors] = await Promise.all([
          session.store.loadServices(),
          session.store.loadActors(),
        ]);
        const services = selectServices(all, { ...options as FilterOptions, actors });
        // Data is not shown here, so no fields are needed to mask it.
        const actorByName = new Map(actors.map((a) => [a.name, a]));
        const entries = services.map((s) => {
          const entry = stateEntry(showEntry(s, [], { reveal: false }));
          for (const [name, action] of Object.entries(s.actions)) {
            if (!(action.period > 0) || action.state === "disabled") continue;
            const paused = recurringPause(s, actorByName.get(s.actor), name);
            if (paused !== null) entry.actions[name].paused = paused;
          }
          return entry;
        });
        if (session.globals.json) printJson(ctx, entries);
        else ctx.io.stdout(renderState(entries));
      });
    });
}
