/**
 * `ays show [ROLE!INSTANCE] [-r] [-i] [--deep] [--reveal] [--json]` (docs/cli.md): services with
 * their data (secrets masked unless `--reveal`) and actions.
 *
 * `--deep` adds, recursively, the producers of each shown service (the services it depends
 * on; the parent is one) and its children (the services whose parent it is): first the
 * services asked for, then the added ones sorted by role and name, each once.
 *
 * JSON: `ays show ROLE!INSTANCE --json` prints one object; with filters, no argument or
 * `--deep` it prints an array of such objects.
 *
 * @module
 */
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import {
  type ActorRecord,
  didYouMean,
  flatProducers,
  serviceName,
  type ServiceRecord,
  showEntry,
  sortServices,
} from "../model/mod.ts";
import { loadLastJobs, storedExecutors } from "../run/mod.ts";
import { CorruptRecordError } from "../store/mod.ts";
import type { CliContext } from "./context.ts";
import { corruptRecordsError, corruptService, nameFromMirror } from "./corrupt.ts";
import { renderShow } from "./render.ts";
import {
  type FilterOptions,
  INSTANCE_OPTION,
  parseTarget,
  ROLE_OPTION,
  selectServices,
} from "./service_filter.ts";
import { printJson, withSession } from "./session.ts";
import { InputError } from "../errors.ts";

/**
 * The services `--deep` shows: the given ones, then what they depend on — their producers,
 * the producers' producers, and so on — and what depends on them structurally — their
 * children, the children's children, and so on. The two directions are not mixed (a
 * producer's other consumers are not shown).
 */
export function deepServices(
  selected: readonly ServiceRecord[],
  all: readonly ServiceRecord[],
): ServiceRecord[] {
  const byName = new Map(all.map((s) => [serviceName(s.role, s.name), s]));
  const children = new Map<string, string[]>();
  for (const service of all) {
    if (!service.parent) continue;
    const list = children.get(service.parent) ?? [];
    list.push(serviceName(service.role, service.name));
    children.set(service.parent, list);
  }
  const start = selected.map((s) => serviceName(s.role, s.name));
  const seen = new Set(start);
  const added: ServiceRecord[] = [];
  const walk = (next: (name: string) => readonly string[]) => {
    const queue = [...start];
    const visited = new Set(start);
    while (queue.length > 0) {
      for (const name of next(queue.shift()!)) {
        if (visited.has(name) || !byName.has(name)) continue;
        visited.add(name);
        queue.push(name);
        if (!seen.has(name)) {
          seen.add(name);
          added.push(byName.get(name)!);
        }
      }
    }
  };
  walk((name) => {
    const service = byName.get(name);
    return service ? flatProducers(service) : [];
  });
  walk((name) => children.get(name) ?? []);
  return [...selected, ...sortServices(added)];
}

/** Adds `ays show` to the program. */
export function registerShow(program: CommandUnknownOpts, ctx: CliContext): void {
  program
    .command("show")
    .description("show services with their data and actions")
    .argument("[service]", "ROLE!INSTANCE (or ROLE:INSTANCE), or a ROLE: all its services")
    .option("--deep", "also show producers and children, recursively")
    .option("--reveal", "show the values of secret fields")
    .option(...ROLE_OPTION)
    .option(...INSTANCE_OPTION)
    .action(async (given, rawOptions, command) => {
      const options = rawOptions as FilterOptions & { deep?: boolean; reveal?: boolean };
      // `ays show ROLE` (no `!` or `:`): every service of that role or actor.
      let target: string | undefined = given;
      if (given !== undefined && !/[!:]/.test(given)) {
        if (options.role !== undefined && options.role !== given) {
          throw new InputError(`ays show ${given} -r ${options.role}: give the role once`);
        }
        options.role = given;
        target = undefined;
      }
      await withSession(ctx, command, {}, async (session) => {
        const { store } = session;
        let all: ServiceRecord[];
        let actors: Map<string, ActorRecord>;
        let corrupt: CorruptRecordError[] = [];
        if (target !== undefined && !options.deep) {
          const { role, instance } = parseTarget(target);
          const service = await store.loadServiceByName(role, instance).catch((error) => {
            if (!(error instanceof CorruptRecordError)) throw error;
            throw corruptRecordsError([error.named(serviceName(role, instance))]);
          });
          if (!service) {
            const names = (await store.scanServices()).services
              .map((s) => serviceName(s.role, s.name));
            const name = serviceName(role, instance);
            throw new InputError(
              `no service ${name} in this repository${didYouMean(name, names)}`,
            );
          }
          all = [service];
          const actor = await store.loadActor(service.actor);
          actors = new Map(actor ? [[actor.name, actor]] : []);
        } else {
          const scan = await store.scanServices();
          all = scan.services;
          actors = new Map((await store.loadActors()).map((a) => [a.name, a]));
          corrupt = await nameFromMirror(scan.corrupt, session.readMirror);
          const wanted = target === undefined ? undefined : parseTarget(target);
          const broken = wanted && corruptService(corrupt, store.repoName, wanted);
          if (broken) throw corruptRecordsError([broken]);
        }
        let shown = selectServices(all, {
          ...options,
          target,
          required: target !== undefined,
          actors: [...actors.values()],
        });
        if (options.deep) shown = deepServices(shown, all);
        const fieldsOf = (s: ServiceRecord) => actors.get(s.actor)?.fields ?? [];
        const jobs = await loadLastJobs(store, shown);
        const executors = await storedExecutors(store, shown, { all, actors, repo: session.repo });
        const entries = shown.map((s) => ({
          ...showEntry(s, fieldsOf(s), { reveal: options.reveal, jobs }),
          executor: executors.get(serviceName(s.role, s.name)) ?? "local",
        }));
        if (session.globals.json) {
          printJson(ctx, target !== undefined && !options.deep ? entries[0] ?? null : entries);
          if (corrupt.length > 0) throw corruptRecordsError(corrupt);
          return;
        }
        if (entries.length === 0) {
          ctx.io.stdout("no services\n");
          if (corrupt.length > 0) throw corruptRecordsError(corrupt);
          return;
        }
        const childrenOf = new Map<string, string[]>();
        for (const s of all) {
          if (s.parent) {
            childrenOf.set(s.parent, [
              ...(childrenOf.get(s.parent) ?? []),
              serviceName(s.role, s.name),
            ]);
          }
        }
        const blocks = shown.map((s, i) =>
          renderShow(entries[i], {
            fields: fieldsOf(s),
            executor: entries[i].executor,
            children: options.deep || target === undefined
              ? (childrenOf.get(serviceName(s.role, s.name)) ?? []).sort()
              : undefined,
          })
        );
        ctx.io.stdout(blocks.join("\n"));
        if (corrupt.length > 0) throw corruptRecordsError(corrupt);
      });
    });
}
