/**
 * `ays blueprint [FILE…] [--dry-run] [--archive]` (docs/blueprints.md): applies all active blueprints of
 * the repository (or the files given) as one atomic unit under the repository lock.
 *
 * @module
 */
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { resolve } from "node:path";
import {
  applyBlueprintUnit,
  blueprintDiff,
  describeChangeSet,
  readBlueprintFiles,
  renderDiff,
  summarizeChangeSet,
} from "../blueprint/mod.ts";
import { InputError } from "../errors.ts";
import { type ActorRecord, roleOf, serviceName } from "../model/mod.ts";
import { globalTemplateDirs } from "../repo/mod.ts";
import type { CliContext } from "./context.ts";
import { printJson, withSession } from "./session.ts";

/** The `--compat` mode: `v81`, or none. */
function compatOf(mode: string | undefined): "v81" | undefined {
  if (mode === undefined || mode === "v81") return mode;
  throw new InputError(`--compat: unknown mode '${mode}' (expected v81)`);
}

/** Adds `ays blueprint` to the program. */
export function registerBlueprint(program: CommandUnknownOpts, ctx: CliContext): void {
  program
    .command("blueprint")
    .description(
      "apply the active blueprints (or FILEs) as one unit: create and update services, schedule actions",
    )
    .argument(
      "[files...]",
      "blueprint files (or folders of them) to apply instead of blueprints/*.yaml",
    )
    .option("--dry-run", "print what would be created, changed and scheduled; write nothing")
    .option("--archive", "rename the applied files to _<name> afterwards")
    .option("--reveal", "show secret values in the --dry-run / --json output")
    .option("--wait", "wait for a run holding the repository lock instead of failing")
    .option("-r, --role <role>", "apply only the service entries of this role or actor")
    .option("-i, --instance <instance>", "apply only the service entries of this instance")
    .option(
      "--compat <mode>",
      "v81: apply as v8.1 did (missing producers dropped…), one warning each; default: the compat of .ays/config.yaml",
    )
    .action(async (files, options, command) => {
      const dryRun = Boolean(options.dryRun);
      await withSession(
        ctx,
        command,
        { write: !dryRun, wait: Boolean(options.wait) },
        async (session) => {
          const given = files.length > 0 ? files.map((f) => resolve(ctx.io.cwd, f)) : undefined;
          // The dry run is a diff against what the store holds now.
          const stored = dryRun ? await session.store.loadServices() : [];
          const applied = await applyBlueprintUnit(session.store, {
            repoPath: session.repo.path,
            files: given,
            relativeTo: given ? ctx.io.cwd : session.repo.path,
            globalDirs: globalTemplateDirs(ctx.io.env),
            dryRun,
            archive: Boolean(options.archive),
            compat: compatOf(options.compat ?? session.repo.config.compat),
            only: options.role === undefined && options.instance === undefined
              ? undefined
              : { role: options.role, instance: options.instance },
          });
          [...applied.warnings, ...applied.changes.warnings].forEach(session.warn);
          const summaryOptions = { actors: applied.actors, reveal: Boolean(options.reveal) };
          const diff = dryRun
            ? blueprintDiff(applied.changes, {
              ...summaryOptions,
              stored,
              declared: given ? undefined : await declaredServices(applied.files, applied.actors),
            })
            : undefined;
          if (session.globals.json) {
            printJson(ctx, {
              dryRun,
              files: applied.files,
              ...summarizeChangeSet(applied.changes, summaryOptions),
              ...(diff ? { diff } : {}),
              newActors: applied.newActors.map((actor) => actor.name),
              archived: applied.archived,
            });
            return;
          }
          if (session.globals.quiet) return;
          if (applied.files.length === 0) {
            ctx.io.stdout("no active blueprints in blueprints/: nothing to do\n");
            return;
          }
          if (diff) {
            const color = session.globals.color && ctx.io.isTTY;
            for (const actor of applied.newActors) ctx.io.stdout(`add actor ${actor.name}\n`);
            ctx.io.stdout(renderDiff(diff, { color }));
          } else {
            const lines = describeChangeSet(
              { ...applied.changes, warnings: [] },
              summaryOptions,
            );
            lines.unshift(...applied.newActors.map((actor) => `add actor ${actor.name}`));
            ctx.io.stdout(lines.join("\n") + "\n");
          }
          const { created, updated, scheduled } = applied.changes;
          const counts =
            `${created.length} created, ${updated.length} updated, ${scheduled.length} scheduled`;
          const unit = `${applied.files.length} blueprint${applied.files.length === 1 ? "" : "s"}`;
          ctx.io.stdout(
            dryRun
              ? `dry run of ${unit}: ${counts}; nothing written\n`
              : `applied ${unit}: ${counts}\n`,
          );
          for (const path of applied.archived) ctx.io.stdout(`archived as ${path}\n`);
        },
      );
    });
}

/** `role!instance` of every service the blueprint `files` declare (already read once: valid). */
async function declaredServices(
  files: readonly string[],
  actors: ReadonlyMap<string, ActorRecord>,
): Promise<Set<string>> {
  const declared = new Set<string>();
  for (const doc of await readBlueprintFiles(files)) {
    for (const entry of doc.services) {
      const role = actors.get(entry.actor)?.role ?? roleOf(entry.actor);
      declared.add(serviceName(role, entry.instance));
    }
  }
  return declared;
}
