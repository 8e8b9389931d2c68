/**
 * `ays noexec --enable|--disable|--show`: v8.1's switch under which runs record actions as
 * done without executing them (`noexec: true` in `.ays/config.yaml`; docs/from-v81.md).
 *
 * @module
 */
import type { Command } from "@commander-js/extra-typings";
import { InputError } from "../errors.ts";
import { findRepo, readRepoConfig, writeRepoSetting } from "../repo/mod.ts";
import type { CliContext } from "./context.ts";
import { globalsOf } from "./global_options.ts";
import { printJson } from "./session.ts";

/** Adds `ays noexec` to the program. */
export function registerNoexec(program: Command, ctx: CliContext): void {
  program
    .command("noexec")
    .description("v8.1's noexec: runs record actions as done without executing them")
    .option("--enable", "switch noexec on for this repository")
    .option("--disable", "switch noexec off")
    .option("--show", "print whether noexec is on (the default)")
    .action(async (options, command) => {
      const chosen = [options.enable, options.disable, options.show].filter(Boolean).length;
      if (chosen > 1) throw new InputError("give one of --enable, --disable, --show");
      const globals = globalsOf(command as unknown as Command, ctx.io.env);
      const repo = await findRepo(ctx.io.cwd, { repoFlag: globals.repo });
      let on: boolean;
      if (options.enable || options.disable) {
        const config = await writeRepoSetting(repo.path, {
          key: "noexec",
          value: options.enable ? true : undefined,
        });
        on = config.noexec === true;
      } else {
        on = (await readRepoConfig(repo.path)).noexec === true;
      }
      if (globals.json) printJson(ctx, { noexec: on });
      else if (!globals.quiet) {
        ctx.io.stdout(`noexec is ${on ? "on: actions are recorded as done, not run" : "off"}\n`);
      }
    });
}
