/**
 * `ays destroy --yes` (docs/cli.md): removes all of the repository's state — every record in the
 * store (actors, services, runs, jobs, logs, sources) and the mirror folders `actors/` and
 * `services/`. Templates, blueprints and `.ays/config.yaml` stay, so `ays blueprint` starts
 * over from them.
 *
 * @module
 */
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import type { CliContext } from "./context.ts";
import { confirm } from "./confirm.ts";
import { printJson, withSession } from "./session.ts";

/** Adds `ays destroy` to the program. */
export function registerDestroy(program: CommandUnknownOpts, ctx: CliContext): void {
  program
    .command("destroy")
    .description(
      "remove all repository state from the store and the mirror (templates and blueprints stay)",
    )
    .option("-y, --yes", "really destroy (required unless --ask)")
    .option("--ask", "ask before destroying (on a terminal)")
    .option("--wait", "wait for a run holding the repository lock instead of failing")
    .action(async (options, command) => {
      await withSession(
        ctx,
        command,
        { write: true, wait: Boolean(options.wait), rebuild: true },
        async (session) => {
          const ok = await confirm(
            ctx.io,
            `destroy all state of repository ${session.repo.name} (store ${session.location}, actors/, services/)`,
            { yes: options.yes, ask: options.ask },
          );
          if (!ok) {
            ctx.io.stderr("ays: nothing destroyed\n");
            return;
          }
          const { services, actors } = await session.store.destroyAll();
          if (session.globals.json) printJson(ctx, { repo: session.repo.name, services, actors });
          else if (!session.globals.quiet) {
            ctx.io.stdout(
              `destroyed repository ${session.repo.name}: ${services} services, ${actors} actors and all runs removed\n`,
            );
          }
        },
      );
    });
}
