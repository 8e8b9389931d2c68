/**
 * `ays init [PATH] [--git [URL]]` and its v8.1 alias `ays create_repo -p PATH -g URL`
 * (docs/cli.md): make a repository and record it in the registry of `ays repos`.
 *
 * @module
 */
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { resolve } from "node:path";
import { initRepo, readRepoConfig, registerRepo, repoNameOf } from "../repo/mod.ts";
import type { CliContext } from "./context.ts";
import { globalsOf } from "./global_options.ts";
import { printJson, warner } from "./session.ts";

/** Makes the repository, registers it and prints what was made. */
async function runInit(
  command: CommandUnknownOpts,
  ctx: CliContext,
  path: string | undefined,
  git: boolean | string | undefined,
): Promise<void> {
  const globals = globalsOf(command, ctx.io.env);
  const target = resolve(ctx.io.cwd, path ?? ".");
  const result = await initRepo(target, {
    git: git !== undefined && git !== false,
    origin: typeof git === "string" ? git : undefined,
  });
  const name = repoNameOf(result.path, await readRepoConfig(result.path));
  const registered = await registerRepo({ name, path: result.path }, { env: ctx.io.env });
  registered.warnings.forEach(warner(ctx, globals));
  if (globals.json) {
    printJson(ctx, { name, path: result.path, git: result.git });
  } else if (!globals.quiet) {
    ctx.io.stdout(
      `created ays repository '${name}' in ${result.path}${result.git ? " (with git)" : ""}\n`,
    );
  }
}

/** Adds `ays init` and its alias `ays create_repo` to the program. */
export function registerInit(program: CommandUnknownOpts, ctx: CliContext): void {
  program
    .command("init")
    .description("make an ays repository (in PATH, default the current folder)")
    .argument("[path]", "folder to make the repository in; created if missing, else must be empty")
    .option("--git [url]", "also run git init, and add URL as the remote origin")
    .action(async (path, options, command) => {
      await runInit(command, ctx, path, options.git);
    });
  program
    .command("create_repo")
    .description("make an ays repository (v8.1 spelling of 'ays init')")
    .option("-p, --path <path>", "folder to make the repository in (default the current folder)")
    .option("-g, --git <url>", "run git init and add URL as the remote origin")
    .action(async (options, command) => {
      await runInit(command, ctx, options.path, options.git);
    });
}
