/**
 * `ays restore`: rebuilds the actors and services of the store from the readable mirror
 * (`actors/`, `services/`), docs/repositories.md. Secret fields are not in the mirror: they are empty
 * afterwards, and listed.
 *
 * @module
 */
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { globalTemplateDirs, readV81Repository } from "../repo/mod.ts";
import type { CliContext } from "./context.ts";
import { printJson, withSession } from "./session.ts";

/** Adds `ays restore` to the program. */
export function registerRestore(program: CommandUnknownOpts, ctx: CliContext): void {
  program
    .command("restore")
    .description("rebuild the store's actors and services from the mirror in actors/ and services/")
    .option("--wait", "wait for a run holding the repository lock instead of failing")
    .option(
      "--from-v81",
      "import a v8.1 repository instead: services/**/service.json + data.json, actors from templates or actors/",
    )
    .action(async (options, command) => {
      await withSession(
        ctx,
        command,
        { write: true, wait: Boolean(options.wait), rebuild: true },
        async (session) => {
          if (options.fromV81) {
            const imported = await readV81Repository(session.repo.path, {
              repoName: session.store.repoName,
              globalDirs: globalTemplateDirs(ctx.io.env),
            });
            imported.warnings.forEach(session.warn);
            await session.store.replaceAll(imported);
            if (session.globals.json) {
              printJson(ctx, {
                actors: imported.actors.length,
                services: imported.services.length,
                warnings: imported.warnings,
              });
            } else if (!session.globals.quiet) {
              ctx.io.stdout(
                `imported ${imported.actors.length} actors and ${imported.services.length} ` +
                  `services of a v8.1 repository into ${session.location}\n`,
              );
            }
            return;
          }
          const content = await session.store.restoreFromMirror(session.repo.path);
          if (session.globals.json) {
            printJson(ctx, {
              actors: content.actors.length,
              services: content.services.length,
              emptiedSecrets: content.emptiedSecrets,
            });
          } else if (!session.globals.quiet) {
            ctx.io.stdout(
              `restored ${content.actors.length} actors and ${content.services.length} ` +
                `services into ${session.location}\n`,
            );
          }
          const emptied = content.emptiedSecrets.map((s) => `${s.service} ${s.field}`);
          if (emptied.length > 0) {
            session.warn(
              `secret fields are not kept in the mirror and are empty now:\n  ${
                emptied.join("\n  ")
              }`,
            );
          }
        },
      );
    });
}
