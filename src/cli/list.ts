/**
 * `ays list [-r ROLE] [-i INSTANCE] [--json]` (docs/cli.md): the services, sorted by role then name;
 * corrupted records are marked and end the command with exit 4 (docs/store.md).
 *
 * @module
 */
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import {
  type ActorRecord,
  filterNeedsActors,
  listEntry,
  type ServiceListEntry,
  type ServiceSummary,
} from "../model/mod.ts";
import type { CorruptRecordError } from "../store/mod.ts";
import type { CliContext } from "./context.ts";
import { corruptRecordsError, nameFromMirror } from "./corrupt.ts";
import { type FastCommand, textOf } from "./fast_path.ts";
import { type GlobalOptions, globalsOf } from "./global_options.ts";
import { renderList } from "./render.ts";
import {
  type FilterOptions,
  INSTANCE_OPTION,
  ROLE_OPTION,
  selectServices,
} from "./service_filter.ts";
import { printJsonList, withReadSession } from "./session.ts";

/** Adds `ays list` to the program. */
export function registerList(program: CommandUnknownOpts, ctx: CliContext): void {
  program.command("list").description("list the services (filters -r, -i)")
    .option(...ROLE_OPTION)
    .option(...INSTANCE_OPTION)
    .action((options, command) => listServices(ctx, globalsOf(command, ctx.io.env), options));
}

/** `ays list` on the fast path (src/cli/fast_path.ts): the same options, the same action. */
export const LIST_FAST: FastCommand = {
  options: [ROLE_OPTION[0], INSTANCE_OPTION[0]],
  run: (ctx, globals, values) =>
    listServices(ctx, globals, {
      role: textOf(values, "role"),
      instance: textOf(values, "instance"),
    }),
};

/** Lists the services `options` select. */
async function listServices(
  ctx: CliContext,
  globals: GlobalOptions,
  options: FilterOptions,
): Promise<void> {
  const select = (services: ServiceSummary[], actors: readonly ActorRecord[]) =>
    selectServices(services, { ...options, actors }).map(listEntry);
  await withReadSession(ctx, globals, {
    read: async (session) => {
      // Summaries: list shows no data, so none is decoded (docs/store.md). The actors only
      // tell whether a role no service has is still known: read only for such a -r.
      const scan = await session.store.scanServiceSummaries();
      const actors = filterNeedsActors(scan.services, options)
        ? await session.store.loadActors()
        : [];
      const entries = select(scan.services, actors);
      // A corrupted record cannot say its role or instance: it is listed whatever the
      // filters, so that it is never silently missing.
      const corrupt = await nameFromMirror(scan.corrupt, session.readMirror);
      print(ctx, entries, { json: session.globals.json, corrupt });
      if (corrupt.length > 0) throw corruptRecordsError(corrupt);
    },
    // A store never written: no services and no actors (the same filters' checks apply).
    none: () => Promise.resolve(print(ctx, select([], []), { json: globals.json })),
  });
}

/** Prints the list: JSON, or the table with the corrupted records' names. */
function print(
  ctx: CliContext,
  entries: readonly ServiceListEntry[],
  options: { json: boolean; corrupt?: readonly CorruptRecordError[] },
): void {
  const { json, corrupt = [] } = options;
  if (json) printJsonList(ctx, entries);
  else {
    ctx.io.stdout(renderList(entries, { corrupt: corrupt.map((e) => e.service ?? e.recordKey) }));
  }
}
