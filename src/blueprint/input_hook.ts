/**
 * The `input(ctx)` hook of `actions.ts` (docs/blueprints.md): during `ays blueprint`, each new
 * or changed service a blueprint declares whose actor's actions file exports `input` is shown
 * to that function, in a Web Worker with a timeout. What it returns — changed attributes and further
 * services to create and link — is folded into the unit before it is resolved, so it is
 * validated like blueprint input, shown by `--dry-run`, and stored in the same atomic change.
 * Services it asks for are themselves shown to their actor's `input`.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { InputError, type SourceLocation } from "../errors.ts";
import { type ActorRecord, resolveField, roleOf, type ServiceRecord } from "../model/mod.ts";
import { exportedNames } from "../repo/mod.ts";
import { workerSpecifier } from "../runtime.ts";
import type { InputContext, InputServiceView, InputWorkerMessage } from "./input_types.ts";
import type { BlueprintAttribute, BlueprintDoc, BlueprintService } from "./read.ts";

/** Options of {@link applyInputHooks}. */
export interface InputHookOptions {
  /** Every actor of the unit by name. */
  actors: ReadonlyMap<string, ActorRecord>;
  /** The services in the store (shown to `input`, secrets left out). */
  services: readonly ServiceRecord[];
  repo: { name: string; path: string };
  /** How long one `input` call may take (default 30 000 ms). */
  timeoutMs?: number;
}

/** Safety net against hooks that keep asking for services. */
const MAX_GENERATED = 10_000;
const BAD_INSTANCE_CHARS = /[!:/\\\s\p{Cc}]/u;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Calls `input` of one actions file in its own worker; resolves with its answer. */
function callInput(
  actionsPath: string,
  context: InputContext,
  timeoutMs: number,
): Promise<InputWorkerMessage> {
  const worker = new Worker(workerSpecifier("input_worker"), { type: "module" });
  return new Promise((resolve) => {
    const finish = (message: InputWorkerMessage) => {
      clearTimeout(timer);
      worker.terminate();
      resolve(message);
    };
    const timer = setTimeout(
      () => finish({ ok: false, error: `did not return within ${timeoutMs / 1000} s` }),
      timeoutMs,
    );
    worker.onmessage = (event: MessageEvent<InputWorkerMessage>) => finish(event.data);
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault?.();
      finish({ ok: false, error: event.message || "the input worker failed" });
    };
    worker.postMessage({ actionsPath, context });
  });
}

/** The store's services as `input` sees them: no secret values. */
function viewsOf(
  services: readonly ServiceRecord[],
  actors: ReadonlyMap<string, ActorRecord>,
): InputServiceView[] {
  return services.map((service) => {
    const secret = new Set(
      (actors.get(service.actor)?.fields ?? []).filter((f) => f.secret).map((f) => f.camelName),
    );
    const data: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(service.data)) {
      if (!secret.has(key)) data[key] = value;
    }
    return { name: service.name, actor: service.actor, role: service.role, data };
  });
}

/**
 * Whether `input` is due for an entry: its service is not in the store yet, or an attribute
 * the blueprint gives differs from the stored value (an unknown one counts as a change; the
 * resolver reports it).
 */
function isNewOrChanged(
  entry: BlueprintService,
  actor: ActorRecord,
  stored: ReadonlyMap<string, ServiceRecord>,
): boolean {
  const service = stored.get(`${actor.role}!${entry.instance}`);
  if (!service) return true;
  return entry.attributes.some((attribute) => {
    const field = resolveField(actor.fields, attribute.key);
    if (!field) return true;
    const now = service.data[field.camelName];
    const given = Array.isArray(attribute.value) && !field.list
      ? attribute.value.join(",")
      : attribute.value;
    return JSON.stringify(now) !== JSON.stringify(given) && String(now) !== String(given);
  });
}

/** Attributes for generated values, all placed at the blueprint line that caused them. */
function attribute(key: string, value: unknown, at: SourceLocation): BlueprintAttribute {
  return {
    key,
    value,
    keyLocation: at,
    valueLocation: at,
    ...(Array.isArray(value) ? { itemLocations: value.map(() => at) } : {}),
  };
}

/**
 * The actors the unit's service entries name. A function of its own, not a loop of the async
 * {@link applyInputHooks}: the optimizing JIT compiles a long loop of an async function with the
 * function's variables (here: every document) frozen into the compiled code, which then keeps
 * them alive for as long as the code lives — at 100,000 services, 170 MB of documents held
 * through the whole save.
 */
function namedActors(
  docs: readonly BlueprintDoc[],
  actors: ReadonlyMap<string, ActorRecord>,
): Set<ActorRecord> {
  const named = new Set<ActorRecord>();
  for (const doc of docs) {
    for (const entry of doc.services) {
      const actor = actors.get(entry.actor) ?? actors.get(`blueprint.${entry.actor}`);
      if (actor) named.add(actor);
    }
  }
  return named;
}

/**
 * Runs the `input` hooks of the unit's declared services and returns the unit with their
 * results folded in (see the module doc). Throws {@link InputError} at the blueprint line,
 * naming the actions file, when a hook throws, times out or returns something malformed.
 */
export async function applyInputHooks(
  docs: readonly BlueprintDoc[],
  options: InputHookOptions,
): Promise<BlueprintDoc[]> {
  const { actors, services, repo, timeoutMs = 30_000 } = options;
  if (!(timeoutMs > 0)) throw new TypeError(`timeoutMs must be positive, not ${timeoutMs}`);
  const hooked = new Map<string, string | null>();
  const hookOf = async (actor: ActorRecord): Promise<string | null> => {
    const path = actor.actionsPath;
    if (!path || !/\.(ts|js)$/.test(path)) return null;
    if (!hooked.has(path)) {
      const source = await readFile(path, "utf8").catch(() => "");
      hooked.set(path, exportedNames(source).includes("input") ? path : null);
    }
    return hooked.get(path)!;
  };
  // Most units name no actor with a hook: then there is nothing to run, copy or index.
  let anyHook = false;
  for (const actor of namedActors(docs, actors)) if (await hookOf(actor)) anyHook = true;
  if (!anyHook) return [...docs];
  const stored = new Map(services.map((s) => [`${s.role}!${s.name}`, s]));
  let views: InputServiceView[] | undefined;
  const out: BlueprintDoc[] = [];
  let generated = 0;
  for (const doc of docs) {
    const queue: BlueprintService[] = doc.services.map((entry) => ({ ...entry }));
    for (let i = 0; i < queue.length; i++) {
      const entry = queue[i];
      const actor = actors.get(entry.actor) ?? actors.get(`blueprint.${entry.actor}`);
      if (!actor) continue; // the resolver reports the unknown actor
      const actionsPath = await hookOf(actor);
      if (!actionsPath || !isNewOrChanged(entry, actor, stored)) continue;
      views ??= viewsOf(services, actors);
      const sname = `${actor.role}!${entry.instance}`;
      const fail: (message: string) => never = (message) => {
        throw new InputError(`${actionsPath}: input() of ${sname}: ${message}`, {
          location: entry.location,
        });
      };
      const context: InputContext = {
        service: {
          name: entry.instance,
          actor: actor.name,
          role: actor.role,
          args: Object.fromEntries(entry.attributes.map((a) => [a.key, a.value])),
        },
        repo: { name: repo.name, path: repo.path, services: views },
      };
      const answer = await callInput(actionsPath, context, timeoutMs);
      if (!answer.ok) return fail(answer.error);
      const result = answer.result;
      if (result === null) continue;
      if (!isObject(result)) {
        fail(`expected { args?, services? } or nothing, got ${JSON.stringify(result)}`);
      }
      for (const key of Object.keys(result)) {
        if (key !== "args" && key !== "services") {
          fail(`unknown key '${key}' (expected args, services)`);
        }
      }
      if (result.args !== undefined) {
        if (!isObject(result.args)) fail("args must be an object");
        const args = result.args as Record<string, unknown>;
        entry.attributes = [
          ...entry.attributes.filter((a) => !Object.hasOwn(args, a.key)),
          ...Object.entries(args).map(([key, value]) => attribute(key, value, entry.location)),
        ];
      }
      if (result.services === undefined) continue;
      if (!Array.isArray(result.services)) fail("services must be a list");
      (result.services as unknown[]).forEach((item, index) => {
        const where = `services[${index}]`;
        if (!isObject(item)) return fail(`${where} must be an object`);
        for (const key of Object.keys(item)) {
          if (!["actor", "instance", "args", "parent", "producers"].includes(key)) {
            fail(
              `${where}: unknown key '${key}' (expected actor, instance, args, parent, producers)`,
            );
          }
        }
        const { actor: name, instance, args = {}, parent, producers = {} } = item;
        if (typeof name !== "string" || !actors.has(name)) {
          fail(`${where}: unknown actor ${JSON.stringify(name)}`);
        }
        if (typeof instance !== "string" || instance === "" || BAD_INSTANCE_CHARS.test(instance)) {
          fail(`${where}: bad instance name ${JSON.stringify(instance)}`);
        }
        if (!isObject(args)) fail(`${where}: args must be an object`);
        if (parent !== undefined && (typeof parent !== "string" || parent === "")) {
          fail(`${where}: parent must be 'role!instance' or an instance name`);
        }
        if (!isObject(producers)) fail(`${where}: producers must be an object of role: names`);
        const attributes = Object.entries(args as Record<string, unknown>).map(([key, value]) =>
          attribute(key, value, entry.location)
        );
        const target = actors.get(name as string)!;
        const parentField = target.fields.find((f) => f.parent !== undefined);
        if (typeof parent === "string") {
          if (!parentField) fail(`${where}: actor ${name} has no parent field`);
          const bang = parent.indexOf("!");
          attributes.push(
            attribute(
              parentField!.name,
              bang === -1 ? parent : parent.slice(bang + 1),
              entry.location,
            ),
          );
        }
        for (const [role, names] of Object.entries(producers as Record<string, unknown>)) {
          const ok = typeof names === "string" ||
            (Array.isArray(names) && names.every((n) => typeof n === "string"));
          if (!ok) fail(`${where}: producers.${role} must be an instance name or a list of them`);
          attributes.push(attribute(roleOf(role), names, entry.location));
        }
        if (++generated > MAX_GENERATED) fail("input() hooks keep asking for services");
        queue.push({
          actor: name as string,
          instance: instance as string,
          location: entry.location,
          attributes,
        });
      });
    }
    out.push({ ...doc, services: queue });
  }
  return out;
}
