/**
 * `ays validate [--compat v81]` (docs/cli.md, docs/blueprints.md#validating-a-repository): checks
 * the repository's templates, actions files and blueprints without writing anything, lists every
 * problem with its `file:line:column`, and exits 2 when there is one.
 *
 * @module
 */
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { existsSync } from "node:fs";
import { validateRepository, type ValidationReport } from "../blueprint/mod.ts";
import { ExitCode, formatLocated, InputError } from "../errors.ts";
import type { ActorRecord, ServiceRecord } from "../model/mod.ts";
import { globalTemplateDirs, type OpenedRepo, openRepo } from "../repo/mod.ts";
import { openRepositoryStore, resolveStoreUrl, sqlitePathOf, storeKindOf } from "../store/mod.ts";
import type { CliContext } from "./context.ts";
import { excerptFor } from "./excerpt.ts";
import { type GlobalOptions, globalsOf } from "./global_options.ts";
import { printJson, warner } from "./session.ts";

/** The `--compat` mode: `v81`, or none. */
function compatOf(mode: string | undefined): "v81" | undefined {
  if (mode === undefined || mode === "v81") return mode;
  throw new InputError(`--compat: unknown mode '${mode}' (expected v81)`);
}

/**
 * The store's actors and services, read-only: none when the repository's SQLite file does not
 * exist yet (opening it would create it); the mirror is never written.
 */
async function storedRecords(
  ctx: CliContext,
  globals: GlobalOptions,
  repo: OpenedRepo,
): Promise<{ actors: ActorRecord[]; services: ServiceRecord[]; store: boolean }> {
  const { url } = resolveStoreUrl({
    repoPath: repo.path,
    flag: globals.store,
    env: ctx.io.env,
    config: { store: repo.config.store },
  });
  if (storeKindOf(url) === "sqlite" && !existsSync(sqlitePathOf(url, repo.path))) {
    return { actors: [], services: [], store: false };
  }
  const opened = await openRepositoryStore({
    repoPath: repo.path,
    repoName: repo.name,
    defaultName: repo.config.name === undefined,
    storeFlag: globals.store,
    env: ctx.io.env,
    configStore: repo.config.store,
    mirror: false,
  });
  try {
    const [actors, services] = await Promise.all([
      opened.store.loadActors(),
      opened.store.loadServices(),
    ]);
    return { actors, services, store: true };
  } finally {
    await opened.driver.close();
  }
}

/** `N things` with the plural when N is not 1. */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** The one-line summary of a report. */
function summaryOf(report: ValidationReport): string {
  const checked = `${count(report.templates, "template")}, ${
    count(report.actionsFiles, "actions file")
  }, ${count(report.blueprints, "blueprint")}`;
  return report.problems.length === 0
    ? `valid: ${checked}`
    : `${count(report.problems.length, "problem")} in ${checked}`;
}

/** Adds `ays validate` to the program. */
export function registerValidate(program: CommandUnknownOpts, ctx: CliContext): void {
  program
    .command("validate")
    .description(
      "check templates, actions files and blueprints without writing anything; exit 2 listing every problem",
    )
    .option(
      "--compat <mode>",
      "v81: resolve as v8.1 did and list each thing it would have done silently; default: the compat of .ays/config.yaml",
    )
    .action(async (options, command) => {
      const globals = globalsOf(command, ctx.io.env);
      const warn = warner(ctx, globals);
      // Read-only: the registry of `ays repos` is not written either.
      const repo = await openRepo(ctx.io.cwd, {
        repoFlag: globals.repo,
        env: ctx.io.env,
        noRegister: true,
      });
      repo.warnings.forEach(warn);
      const compat = compatOf(options.compat ?? repo.config.compat);
      const stored = await storedRecords(ctx, globals, repo);
      const report = await validateRepository(repo.path, {
        repoName: repo.name,
        globalDirs: globalTemplateDirs(ctx.io.env),
        compat,
        services: stored.services,
        storedActors: stored.actors,
      });
      if (report.problems.length > 0) ctx.exitCode = ExitCode.badInput;
      if (globals.json) {
        printJson(ctx, {
          valid: report.problems.length === 0,
          compat: compat ?? null,
          store: stored.store,
          templates: report.templates,
          actionsFiles: report.actionsFiles,
          blueprints: report.blueprints,
          problems: report.problems,
          warnings: report.warnings,
        });
        return;
      }
      report.warnings.forEach(warn);
      for (const problem of report.problems) {
        ctx.io.stderr(
          `ays: ${problem.kind}: ${formatLocated(problem.message, problem.location)}\n`,
        );
        ctx.io.stderr(excerptFor(problem.location, ctx.io.cwd));
      }
      if (!globals.quiet || report.problems.length > 0) {
        ctx.io.stdout(`${summaryOf(report)}\n`);
      }
    });
}
