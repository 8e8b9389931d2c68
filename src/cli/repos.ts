/**
 * `ays repos`: the repositories recorded in `$XDG_CONFIG_HOME/ays/repos` (docs/repositories.md).
 *
 * @module
 */
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { readRegistry } from "../repo/mod.ts";
import type { CliContext } from "./context.ts";
import { globalsOf } from "./global_options.ts";
import { printJson } from "./session.ts";

/** Adds `ays repos` to the program. */
export function registerRepos(program: CommandUnknownOpts, ctx: CliContext): void {
  program
    .command("repos")
    .description("list the ays repositories recorded on this machine")
    .action(async (_options, command) => {
      const globals = globalsOf(command, ctx.io.env);
      const entries = await readRegistry({ env: ctx.io.env });
      const rows = await Promise.all(entries.map(async (entry) => ({
        name: entry.name,
        path: entry.path,
        exists: (await stat(join(entry.path, ".ays")).catch(() => null)) !== null,
      })));
      rows.sort((a, b) =>
        a.name < b.name ? -1 : a.name > b.name ? 1 : a.path < b.path ? -1 : a.path > b.path ? 1 : 0
      );
      if (globals.json) {
        printJson(ctx, rows);
        return;
      }
      const width = Math.max(0, ...rows.map((row) => row.name.length));
      for (const row of rows) {
        ctx.io.stdout(
          `${row.name.padEnd(width)}  ${row.path}${row.exists ? "" : "  (missing)"}\n`,
        );
      }
    });
}
