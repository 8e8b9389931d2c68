/**
 * Reading a v8.1 repository's checked-in state (`ays restore --from-v81`): the
 * `services/**\/role!instance/` folders that v8.1 wrote with `service.json` (its service model
 * as JSON) and `data.json` (the service's data), nested under their parent's folder. The
 * supported subset is written down in docs/from-v81.md; everything else in those files is
 * ignored.
 *
 * Actors come from the repository's templates (`actorTemplates/`, `AYS_TEMPLATES`), else from
 * v8.1's copy of the template in `actors/<name>/`.
 *
 * @module
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { InputError } from "../errors.ts";
import {
  ACTION_STATES,
  type ActionState,
  type ActorRecord,
  newActionRecord,
  roleOf,
  serviceKey,
  serviceName,
  type ServiceRecord,
  validateData,
} from "../model/mod.ts";
import { loadActor, loadRepoActors } from "./actor.ts";
import type { TemplateInfo } from "./templates.ts";

/** Options of {@link readV81Repository}. */
export interface ReadV81Options {
  /** The repository's name, for service keys. */
  repoName: string;
  /** Global template folders (`AYS_TEMPLATES`). */
  globalDirs?: string[];
}

/** What {@link readV81Repository} read. */
export interface V81Content {
  actors: ActorRecord[];
  services: ServiceRecord[];
  /** Things dropped or adjusted on the way (unknown states, data fields not in the schema). */
  warnings: string[];
}

/** A v8.1 reference to another service: `{actorName, serviceName}` (`key` is ignored). */
interface V81Pointer {
  actorName: string;
  serviceName: string;
}

function fail(message: string, file: string): never {
  throw new InputError(message, { location: { file } });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

function pointerOf(value: unknown, what: string, file: string): V81Pointer {
  if (!isObject(value) || !text(value.actorName) || !text(value.serviceName)) {
    fail(`${what}: expected {actorName, serviceName}, got ${JSON.stringify(value)}`, file);
  }
  return { actorName: value.actorName as string, serviceName: value.serviceName as string };
}

async function readJson(file: string): Promise<unknown> {
  let source: string;
  try {
    source = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") fail("missing", file);
    throw error;
  }
  try {
    return JSON.parse(source);
  } catch (error) {
    return fail(`not JSON: ${(error as Error).message}`, file);
  }
}

/** Every folder under `services/` that holds a `service.json`, in path order. */
async function serviceFolders(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (folder: string, depth: number) => {
    if (depth > 64) fail("services nest too deep (a symlink loop?)", folder);
    const entries = (await readdir(folder, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0
    );
    if (entries.some((e) => e.name === "service.json" && e.isFile())) found.push(folder);
    for (const entry of entries) {
      if (entry.isDirectory() && !entry.name.startsWith(".")) {
        await walk(join(folder, entry.name), depth + 1);
      }
    }
  };
  if ((await stat(root).catch(() => null))?.isDirectory()) await walk(root, 0);
  return found;
}

/** The actor of each name: the templates', else v8.1's copy in `actors/<name>/`. */
async function actorsFor(
  repoPath: string,
  names: Set<string>,
  globalDirs: string[] | undefined,
): Promise<Map<string, ActorRecord>> {
  const templates = await loadRepoActors(repoPath, { globalDirs, tolerant: true });
  const actors = new Map<string, ActorRecord>();
  for (const name of names) {
    const fromTemplate = templates.actors.get(name);
    if (fromTemplate) {
      actors.set(name, fromTemplate);
      continue;
    }
    const broken = templates.unusable.get(name);
    if (broken) {
      throw new InputError(`actor '${name}' cannot be used: ${broken.message}`, {
        location: broken.location,
      });
    }
    const template = await templateAt(join(repoPath, "actors", name), name);
    if (!template) {
      throw new InputError(
        `actor '${name}' has no template (actorTemplates/, AYS_TEMPLATES) and no actors/${name}/`,
      );
    }
    actors.set(name, (await loadActor(template)).actor);
  }
  return actors;
}

/** A template folder read directly (v8.1's `actors/<name>/` is not under `actorTemplates/`). */
async function templateAt(folder: string, name: string): Promise<TemplateInfo | null> {
  const has = async (file: string) =>
    (await stat(join(folder, file)).catch(() => null))?.isFile() ? join(folder, file) : null;
  if (!(await stat(folder).catch(() => null))?.isDirectory()) return null;
  const actionsTs = await has("actions.ts") ?? await has("actions.js");
  return {
    name,
    path: folder,
    source: "repo" as const,
    schemaHrd: await has("schema.hrd"),
    schemaCapnp: null,
    actions: actionsTs,
    actionsPy: actionsTs ? null : await has("actions.py"),
    actorConfig: await has("actor.yaml") ?? await has("actor.hrd"),
  };
}

/**
 * Reads the services of a v8.1 repository at `repoPath` (see the module doc) into records,
 * linked as v8.1 had them. Throws {@link InputError} naming the file for anything malformed,
 * an actor without a template, data its schema refuses, or a link to a service that is not
 * there. Writes nothing.
 */
export async function readV81Repository(
  repoPath: string,
  options: ReadV81Options,
): Promise<V81Content> {
  const { repoName, globalDirs } = options;
  if (typeof repoName !== "string" || repoName === "") {
    throw new TypeError("readV81Repository needs a repoName");
  }
  const warnings: string[] = [];
  const folders = await serviceFolders(join(repoPath, "services"));
  const models: { file: string; folder: string; model: Record<string, unknown> }[] = [];
  for (const folder of folders) {
    const file = join(folder, "service.json");
    const model = await readJson(file);
    if (!isObject(model)) fail("expected a JSON object (v8.1's service model)", file);
    if (!text(model.name) || !text(model.actorName)) {
      fail("needs 'name' and 'actorName'", file);
    }
    models.push({ file, folder, model });
  }
  const actors = await actorsFor(
    repoPath,
    new Set(models.map((m) => m.model.actorName as string)),
    globalDirs,
  );

  const services = new Map<string, ServiceRecord>();
  const shown = (file: string) => relative(repoPath, file);
  for (const { file, folder, model } of models) {
    const actor = actors.get(model.actorName as string)!;
    const name = model.name as string;
    const sname = serviceName(actor.role, name);
    if (services.has(sname)) fail(`service ${sname} is defined twice`, shown(file));
    const dataFile = join(folder, "data.json");
    const raw = (await stat(dataFile).catch(() => null)) ? await readJson(dataFile) : {};
    if (!isObject(raw)) fail("expected a JSON object", shown(dataFile));
    const known = new Set(actor.fields.flatMap((f) => [f.name, f.camelName]));
    const input: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(raw)) {
      if (known.has(key)) input[key] = value;
      else {warnings.push(
          `${shown(dataFile)}: field '${key}' is not in the schema of ${actor.name}; dropped`,
        );}
    }
    const data = validateData(actor.fields, input, { file: shown(dataFile) });
    const actions: ServiceRecord["actions"] = {};
    for (const action of actor.actionNames) {
      actions[action] = newActionRecord(actor.config.recurring[action]?.period ?? 0);
    }
    for (const entry of Array.isArray(model.actions) ? model.actions : []) {
      if (!isObject(entry) || !text(entry.name)) continue;
      const action = entry.name as string;
      if (!Object.hasOwn(actions, action)) {
        warnings.push(
          `${shown(file)}: action '${action}' is not an action of ${actor.name}; dropped`,
        );
        continue;
      }
      const spelled = String(entry.state);
      const state: ActionState | undefined = (ACTION_STATES as readonly string[]).includes(spelled)
        ? spelled as ActionState
        : undefined;
      if (state === undefined) {
        warnings.push(
          `${shown(file)}: action '${action}' has state ${
            JSON.stringify(entry.state)
          }; kept as new`,
        );
      } else {
        // A v8.1 job cannot be running any more: it is due again.
        actions[action].state = state === "running" ? "scheduled" : state;
      }
      if (typeof entry.period === "number" && entry.period > 0) {
        actions[action].period = entry.period;
      }
    }
    services.set(sname, {
      key: serviceKey(repoName, actor.role, name),
      name,
      actor: actor.name,
      role: actor.role,
      parent: null,
      producers: {},
      consumers: [],
      data,
      changed: false,
      actions,
      eventFilters: [],
    });
    const link = (pointer: V81Pointer, what: string): string => {
      const target = serviceName(roleOf(pointer.actorName), pointer.serviceName);
      if (
        !models.some((m) =>
          roleOf(m.model.actorName as string) === roleOf(pointer.actorName) &&
          m.model.name === pointer.serviceName
        )
      ) {
        fail(`${what} ${target} of ${sname} is not in services/`, shown(file));
      }
      return target;
    };
    const service = services.get(sname)!;
    if (isObject(model.parent) && text(model.parent.serviceName)) {
      service.parent = link(pointerOf(model.parent, "parent", shown(file)), "parent");
    }
    for (const entry of Array.isArray(model.producers) ? model.producers : []) {
      const target = link(pointerOf(entry, "producers[]", shown(file)), "producer");
      const role = target.slice(0, target.indexOf("!"));
      const list = service.producers[role] ??= [];
      if (!list.includes(target)) list.push(target);
    }
    if (service.parent) {
      const role = service.parent.slice(0, service.parent.indexOf("!"));
      const list = service.producers[role] ??= [];
      if (!list.includes(service.parent)) list.push(service.parent);
    }
  }
  // Consumers follow from the producers, whatever v8.1's consumer lists said.
  for (const [sname, service] of services) {
    for (const target of Object.values(service.producers).flat()) {
      const producer = services.get(target)!;
      if (!producer.consumers.includes(sname)) producer.consumers.push(sname);
    }
  }
  for (const service of services.values()) service.consumers.sort();
  const used = new Set([...services.values()].map((s) => s.actor));
  return {
    actors: [...actors.values()].filter((a) => used.has(a.name)),
    services: [...services.values()],
    warnings,
  };
}
