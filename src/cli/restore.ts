/**
 * `ays restore`: rebuilds the actors and services of the store from the readable mirror
 * (`actors/`, `services/`), SPEC §2. Secret fields are not in the mirror: they are empty
 * afterwards, and listed.
 *
 * @module
 */
import type { Command } from "@commander-js/extra-typings";
import { openRepo } from "../repo/open.ts";
import { currentHolder } from "../store/holder.ts";
import { openRepositoryStore } from "../store/open.ts";
import { holdRepoLock } from "../store/repo_lock.ts";
import type { CliContext } from "./context.ts";
import { globalsOf } from "./global_options.ts";

/** Adds `ays restore` to the program. */
export function registerRestore(program: Command, ctx: CliContext): void {
  program
    .command("restore")
    .description("rebuild the store's actors and services from the mirror in actors/ and services/")
    .option("--wait", "wait for a run holding the repository lock instead of failing")
    .action(async (options, command) => {
      const globals = globalsOf(command as unknown as Command, ctx.io.env);
      const warn = (text: string) => {
        if (!globals.quiet) ctx.io.stderr(`ays: warning: ${text}\n`);
      };
      const repo = await openRepo(ctx.io.cwd, { repoFlag: globals.repo, env: ctx.io.env });
      repo.warnings.forEach(warn);
      const opened = await openRepositoryStore({
        repoPath: repo.path,
        repoName: repo.name,
        storeFlag: globals.store,
        env: ctx.io.env,
        configStore: repo.config.store,
        mirror: true,
        onMirrorError: (error) => warn(`the mirror was not written: ${String(error)}`),
      });
      try {
        const lock = await holdRepoLock(opened.driver, currentHolder(), {
          wait: Boolean(options.wait),
        });
        try {
          const content = await opened.store.restoreFromMirror(repo.path);
          const emptied = content.emptiedSecrets.map((s) => `${s.service} ${s.field}`);
          if (globals.json) {
            ctx.io.stdout(
              JSON.stringify(
                {
                  actors: content.actors.length,
                  services: content.services.length,
                  emptiedSecrets: content.emptiedSecrets,
                },
                null,
                2,
              ) + "\n",
            );
          } else if (!globals.quiet) {
            ctx.io.stdout(
              `restored ${content.actors.length} actors and ${content.services.length} ` +
                `services into ${opened.location}\n`,
            );
          }
          if (emptied.length > 0) {
            warn(
              `secret fields are not kept in the mirror and are empty now:\n  ${
                emptied.join("\n  ")
              }`,
            );
          }
        } finally {
          await lock.release();
        }
      } finally {
        await opened.driver.close();
      }
    });
}
