/**
 * Applying a unit of blueprints to an in-memory view of a repository's services (docs/blueprints.md):
 * validate every attribute, resolve parents and producers (creating `auto_<n>` services where
 * allowed), link consumers, compare re-applied values, schedule `processChange` for changed data,
 * and apply the `actions:` and `eventfilters:` sections. Nothing is written: the result is a
 * change set the caller stores atomically (or prints, for `--dry-run`). Any problem is an
 * {@link InputError} with `file:line:column`, thrown before anything could be stored.
 *
 * @module
 */
import { formatLocated, InputError, type SourceLocation } from "../errors.ts";
import {
  type ActorRecord,
  checkFieldValue,
  compileNameRegex,
  didYouMean,
  type EventFilter,
  type FieldSpec,
  newActionRecord,
  ownValue,
  resolveField,
  roleEndOf,
  roleOf,
  scheduleAction,
  serviceKey,
  serviceName,
  type ServiceRecord,
  validateData,
} from "../model/mod.ts";
import { collectGarbage } from "../runtime.ts";
import { type GivenValue, GivenValues } from "./given_values.ts";
import type { BlueprintAttribute, BlueprintDoc, BlueprintService } from "./read.ts";

/** Options of {@link applyBlueprints}. */
export interface ApplyOptions {
  /** The repository's name, for service keys. */
  repoName: string;
  /** Every actor of the repository by name. */
  actors: ReadonlyMap<string, ActorRecord>;
  /** Every service in the store now; they are not modified. */
  services: readonly ServiceRecord[];
  /**
   * Given: `services` are heads, without their `actions` and `eventFilters`
   * (`RepoStore.loadServiceHeads`), and this reads one whole. The resolver asks for it only
   * for the services it changes or whose actions or filters it reads.
   */
  wholeService?: (head: ServiceRecord) => ServiceRecord;
  /**
   * Actors whose template is broken or ambiguous, with why: a blueprint naming one (or an
   * `auto` link needing one) fails with that reason at its line.
   */
  unusable?: ReadonlyMap<string, { message: string; location?: SourceLocation }>;
  /**
   * `"v81"`: a named producer that does not exist is dropped with a warning instead of being
   * an error, as v8.1 dropped it silently (docs/from-v81.md).
   */
  compat?: "v81";
  /**
   * Collect garbage once the unit's entries are declared (default false): for a unit over
   * many stored services, whose decoding left garbage the resolve would otherwise pile its own
   * on (docs/blueprints.md, "Memory").
   */
  collectGarbage?: boolean;
}

/** One changed value: `job.args.changes[field]` of `processChange`. */
export interface FieldChange {
  old: unknown;
  new: unknown;
}

/** A service that exists and is changed by the unit. */
export interface UpdatedService {
  /** The service as it is after the unit. */
  service: ServiceRecord;
  /** Changed data fields by camelCase name; empty when only links, actions or filters changed. */
  changes: Record<string, FieldChange>;
}

/** An action the unit scheduled. */
export interface ScheduledAction {
  /** `role!instance`. */
  service: string;
  action: string;
  /**
   * `processChange` gets the changes: `{field: {old, new}}` of its own data, and
   * `{"role!instance": {field: {old, new}}}` of a producer's (docs/blueprints.md).
   */
  args?: { changes: Record<string, FieldChange | Record<string, FieldChange>> };
}

/** What applying a unit would do. */
export interface ChangeSet {
  /** New services in the order they were made (declared ones, then auto-created as needed). */
  created: ServiceRecord[];
  /** Existing services that change, sorted by `role!instance`. */
  updated: UpdatedService[];
  /** Actions that became scheduled, in the order it happened. */
  scheduled: ScheduledAction[];
  /** Things worth saying that are not errors. */
  warnings: string[];
}

/** Safety net against a template set that would auto-create forever. */
const MAX_AUTO_CREATED = 100_000;

/** A declared service: the merged entries of the unit for one `role!instance`. */
interface Declared {
  sname: string;
  actor: ActorRecord;
  instance: string;
  /** Where it was first declared. */
  location: SourceLocation;
  given: GivenValues;
}

/** The view being changed: services by `role!instance`, cloned before their first change. */
class View {
  readonly byName = new Map<string, ServiceRecord>();
  readonly originals = new Map<string, ServiceRecord>();
  readonly created: ServiceRecord[] = [];
  /** The `role!instance` of each of {@link created}, in the same order. */
  readonly createdSnames: string[] = [];
  readonly createdNames = new Set<string>();
  readonly changes = new Map<string, Record<string, FieldChange>>();
  /** Consumers as sets while building, written back at the end. */
  readonly consumerSets = new Map<string, Set<string>>();
  /**
   * Instance names by role, each once, in the order indexed: arrays, not sets, for a name is
   * looked up by its service name in {@link byName}; a Set per role cost a hashing per service.
   */
  readonly #roleNames = new Map<string, string[]>();
  /** Sorted copies of {@link #roleNames}, made when asked, dropped when the role grows. */
  readonly #sorted = new Map<string, string[]>();
  /** Stored services still read as heads (`ApplyOptions.wholeService`), by `role!instance`. */
  readonly #heads = new Set<string>();
  readonly #whole: ((head: ServiceRecord) => ServiceRecord) | undefined;

  constructor(
    services: readonly ServiceRecord[],
    whole?: (head: ServiceRecord) => ServiceRecord,
  ) {
    this.#whole = whole;
    for (const service of services) this.#index(service);
    if (whole) { for (const sname of this.byName.keys()) this.#heads.add(sname); }
  }

  #index(service: ServiceRecord, sname = serviceName(service.role, service.name)): void {
    this.byName.set(sname, service);
    let names = this.#roleNames.get(service.role);
    if (!names) this.#roleNames.set(service.role, names = []);
    names.push(service.name);
    if (this.#sorted.size > 0) this.#sorted.delete(service.role);
  }

  get(sname: string): ServiceRecord | undefined {
    return this.byName.get(sname);
  }

  /** Whether there is a service `role!instance` (stored or created). */
  has(sname: string): boolean {
    return this.byName.has(sname);
  }

  /**
   * The service with its actions and event filters: a stored service read as a head is read
   * whole now (and from then on).
   */
  whole(sname: string): ServiceRecord | undefined {
    const service = this.byName.get(sname);
    if (!service || !this.#heads.delete(sname)) return service;
    const record = this.#whole!(service);
    this.byName.set(sname, record);
    return record;
  }

  /** The service, cloned on its first change so the caller's record stays as it was. */
  mutable(sname: string): ServiceRecord {
    // A service the unit creates is its own already (and never a head).
    if (this.createdNames.has(sname)) return this.byName.get(sname)!;
    const service = this.whole(sname)!;
    if (this.originals.has(sname)) return service;
    const copy = copyJson(service);
    this.originals.set(sname, service);
    this.byName.set(sname, copy);
    return copy;
  }

  /** A new service; `sname` is its `role!instance` when the caller has it (one string each). */
  add(service: ServiceRecord, sname = serviceName(service.role, service.name)): void {
    this.#index(service, sname);
    this.created.push(service);
    this.createdSnames.push(sname);
    this.createdNames.add(sname);
  }

  /** Instances of a role, sorted by name; cached until the role gets a new service. */
  instancesOf(role: string): readonly string[] {
    let sorted = this.#sorted.get(role);
    if (!sorted) {
      sorted = [...(this.#roleNames.get(role) ?? [])].sort(compareText);
      this.#sorted.set(role, sorted);
    }
    return sorted;
  }

  consumers(sname: string): Set<string> {
    let set = this.consumerSets.get(sname);
    if (!set) {
      set = new Set(this.byName.get(sname)!.consumers);
      this.consumerSets.set(sname, set);
    }
    return set;
  }
}

/**
 * A deep copy of a JSON-like value (records, their data): plain objects and arrays copied
 * member by member, anything else (a Date, bytes) by `structuredClone`. Several times faster
 * than `structuredClone` for the small records of an apply, where it ran once per service.
 */
function copyJson<T>(value: T): T {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map(copyJson) as T;
  if (Object.getPrototypeOf(value) !== Object.prototype) return structuredClone(value);
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    copy[key] = copyJson((value as Record<string, unknown>)[key]);
  }
  return copy as T;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Whether two JSON-like values are equal. */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((item, i) => same(item, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = Object.keys(ao);
  return keys.length === Object.keys(bo).length && keys.every((key) => same(ao[key], bo[key]));
}

/** Whether a field links to other services. */
function isRelation(field: FieldSpec): boolean {
  return field.parent !== undefined || field.consume !== undefined;
}

/**
 * The field an attribute key names: any spelling {@link resolveField} accepts, or — for a
 * parent or producer — the target's role.
 */
function fieldFor(actor: ActorRecord, attribute: BlueprintAttribute): FieldSpec {
  const direct = resolveField(actor.fields, attribute.key);
  if (direct) return direct;
  const byRole = actor.fields.filter((field) =>
    field.parent === attribute.key || field.consume?.roles.includes(attribute.key)
  );
  if (byRole.length === 1) return byRole[0];
  if (byRole.length > 1) {
    throw new InputError(
      `'${attribute.key}' is ambiguous for actor '${actor.name}': fields ${
        byRole.map((f) => f.name).join(", ")
      } all link to role '${attribute.key}'; use the field's name`,
      { location: attribute.keyLocation },
    );
  }
  const known = actor.fields.map((f) => f.name).join(", ") || "none";
  const near = didYouMean(attribute.key, actor.fields.flatMap((f) => [f.name, f.camelName]));
  throw new InputError(
    `unknown attribute '${attribute.key}' for actor '${actor.name}'${near} (fields: ${known})`,
    { location: attribute.keyLocation },
  );
}

/** Instance names given for a relation field: one name or a list of names. */
function namesOf(given: GivenValue): string[] {
  const { value, attribute } = given;
  const items = Array.isArray(value) ? value : [value];
  return items.map((item, index) => {
    if (typeof item === "string" && item.length > 0) return item;
    if (typeof item === "number") return String(item);
    throw new InputError(
      `${given.field.camelName}: expected an instance name${
        given.field.consume ? " or a list of instance names" : ""
      }, got ${JSON.stringify(item)}`,
      { location: attribute.itemLocations?.[index] ?? attribute.valueLocation },
    );
  });
}

/** Where the `index`-th name of a given relation value is. */
function nameLocation(given: GivenValue, index: number): SourceLocation {
  return given.attribute.itemLocations?.[index] ?? given.attribute.valueLocation;
}

/** Checks a plain (non-relation) value and returns what to store. */
function checkedValue(given: GivenValue): unknown {
  const check = checkFieldValue(given.field, given.value);
  if (check.ok) return check.value;
  const item = /^\[(\d+)\]: /.exec(check.message);
  const location = item
    ? given.attribute.itemLocations?.[Number(item[1])] ?? given.attribute.valueLocation
    : given.attribute.valueLocation;
  const sep = check.message.startsWith("[") ? "" : ": ";
  throw new InputError(`${given.field.camelName}${sep}${check.message}`, { location });
}

/** The data value of a relation field holding these instance names. */
function relationValue(field: FieldSpec, names: string[]): unknown {
  if (field.list) return names;
  return names.join(",");
}

/**
 * Applies a unit of blueprints (docs/blueprints.md) to the services in `options.services` and returns
 * what would change. `docs` are applied in the order given (the caller sorts files by name).
 * Throws {@link InputError} (with `file:line:column`) for unknown actors or attributes, bad
 * values, missing or ambiguous parents, missing or too many producers, the same
 * `role!instance` from two actors, and parent cycles.
 */
export function applyBlueprints(
  docs: readonly BlueprintDoc[],
  options: ApplyOptions,
): ChangeSet {
  const view = new View(options.services, options.wholeService);
  const warnings: string[] = docs.flatMap((doc) => doc.warnings);
  const scheduled: ScheduledAction[] = [];
  const declared = collectDeclared(docs, options, view);
  if (options.collectGarbage) collectGarbage();

  // Per actor, once: the data of a service given nothing, and each action's period.
  const defaults = new Map<string, Record<string, unknown>>();
  const periods = new Map<string, [string, number][]>();
  const makeService = (actor: ActorRecord, instance: string): ServiceRecord => {
    let data = defaults.get(actor.name);
    if (!data) defaults.set(actor.name, data = validateData(actor.fields, {}));
    let actionPeriods = periods.get(actor.name);
    if (!actionPeriods) {
      actionPeriods = actor.actionNames.map((name) => [
        name,
        actor.config.recurring[name]?.period ?? 0,
      ]);
      periods.set(actor.name, actionPeriods);
    }
    const actions: ServiceRecord["actions"] = {};
    for (const [name, period] of actionPeriods) actions[name] = newActionRecord(period);
    return {
      key: serviceKey(options.repoName, actor.role, instance),
      name: instance,
      actor: actor.name,
      role: actor.role,
      parent: null,
      producers: {},
      consumers: [],
      data: copyJson(data),
      changed: false,
      actions,
      eventFilters: [],
    };
  };

  // Declared services that do not exist yet are created first, so that any service of the unit
  // can refer to any other, whatever the order of files and entries.
  for (const entry of declared) {
    if (!view.get(entry.sname)) view.add(makeService(entry.actor, entry.instance), entry.sname);
  }

  // Plain values. A service the unit creates is its own record: changed in place.
  for (const entry of declared) {
    const isNew = view.createdNames.has(entry.sname);
    const own = isNew ? view.get(entry.sname)! : undefined;
    for (const given of entry.given.values()) {
      if (isRelation(given.field) || given.value === null) continue;
      const value = checkedValue(given);
      const current = own ?? view.get(entry.sname)!;
      const key = given.field.camelName;
      if (same(current.data[key], value)) continue;
      const service = own ?? view.mutable(entry.sname);
      if (!isNew) recordChange(view, entry.sname, key, service.data[key], value);
      service.data[key] = value;
    }
  }

  // Links: declared services in unit order, then whatever they auto-create.
  const queue: { sname: string; declared?: Declared }[] = declared.map((entry) => ({
    sname: entry.sname,
    declared: entry,
  }));
  const autoCreate = (actorName: string, at: SourceLocation, why: string): string => {
    const actor = options.actors.get(actorName);
    const unusable = options.unusable?.get(actorName);
    if (unusable) throw unusableError(actorName, unusable, at);
    if (!actor) {
      throw new InputError(
        `cannot auto-create ${why}: there is no actor named '${actorName}' to create it from`,
        { location: at },
      );
    }
    const role = actor.role;
    if (view.created.length > MAX_AUTO_CREATED) {
      throw new InputError(`auto-creating ${why} goes on without end (check 'auto' links)`, {
        location: at,
      });
    }
    let n = 0;
    while (view.has(serviceName(role, `auto_${n}`))) n++;
    const service = makeService(actor, `auto_${n}`);
    const sname = serviceName(role, service.name);
    view.add(service, sname);
    queue.push({ sname });
    return sname;
  };
  const dropMissing = options.compat === "v81"
    ? (message: string, at: SourceLocation) =>
      warnings.push(formatLocated(`compat v81: ${message}; dropped, as v8.1 did`, at))
    : undefined;
  for (let i = 0; i < queue.length; i++) {
    resolveLinks(queue[i].sname, queue[i].declared, view, options.actors, autoCreate, dropMissing);
  }

  checkParentCycles(declared, view);

  // Consumers back into the records.
  for (const [sname, set] of view.consumerSets) {
    const list = [...set].sort(compareText);
    if (!same(view.get(sname)!.consumers, list)) view.mutable(sname).consumers = list;
  }

  // Changed data schedules processChange with the changes.
  for (const [sname, changes] of view.changes) {
    const service = view.mutable(sname);
    service.changed = true;
    if (!service.actions.processChange) continue;
    const outcome = scheduleAction(service, "processChange", { force: true });
    view.byName.set(sname, outcome.service);
    if (outcome.scheduled || outcome.reason === "already-scheduled") {
      scheduled.push({ service: sname, action: "processChange", args: { changes } });
    }
  }

  scheduleConsumerChanges(view, scheduled);

  applyActions(docs, view, scheduled, warnings);
  applyEventFilters(docs, view, warnings);

  const created = view.createdSnames.map((sname) => view.get(sname)!);
  const updated: UpdatedService[] = [];
  for (const [sname, original] of view.originals) {
    const service = view.get(sname)!;
    if (same(service, original)) continue;
    updated.push({ service, changes: view.changes.get(sname) ?? {} });
  }
  updated.sort((a, b) =>
    compareText(
      serviceName(a.service.role, a.service.name),
      serviceName(b.service.role, b.service.name),
    )
  );
  return { created, updated, scheduled, warnings };
}

/** Records a data change of an existing service. */
/**
 * Changes reach consumers (docs/blueprints.md, "Changes reach consumers"): every installed
 * consumer of a service whose data changed gets `processChange`, with `args.changes` naming
 * the producer (`{"redis!main": {port: {old, new}}}`); the planner runs it after the
 * producer's own `processChange`.
 */
function scheduleConsumerChanges(view: View, scheduled: ScheduledAction[]): void {
  for (const [producer, changes] of view.changes) {
    for (const consumer of view.get(producer)?.consumers ?? []) {
      const service = view.whole(consumer);
      if (!service?.actions.processChange || service.actions.install?.state !== "ok") continue;
      const outcome = scheduleAction(view.mutable(consumer), "processChange", { force: true });
      view.byName.set(consumer, outcome.service);
      if (outcome.scheduled || outcome.reason === "already-scheduled") {
        scheduled.push({
          service: consumer,
          action: "processChange",
          args: { changes: { [producer]: structuredClone(changes) } },
        });
      }
    }
  }
}

function recordChange(
  view: View,
  sname: string,
  field: string,
  oldValue: unknown,
  newValue: unknown,
): void {
  let changes = view.changes.get(sname);
  if (!changes) view.changes.set(sname, changes = {});
  const earlier = changes[field];
  changes[field] = { old: earlier ? earlier.old : copyJson(oldValue), new: newValue };
}

/** Merges the unit's `actor__instance` entries by service, checking actors and attributes. */
function collectDeclared(
  docs: readonly BlueprintDoc[],
  options: ApplyOptions,
  view: View,
): Declared[] {
  const declared = new Map<string, Declared>();
  // The fields of one entry and their attributes (side by side), emptied for each entry: an
  // entry sets a few fields, searched faster than hashed, and a map per entry was 100,000 maps
  // of garbage.
  const fieldsHere: FieldSpec[] = [];
  const attributesHere: BlueprintAttribute[] = [];
  // The entries of a large unit name a few actors and keys, each thousands of times: each
  // actor (with its role) and each key's field is looked up once. What fails is not kept, so
  // every entry that names it fails as the first did.
  const actorsNamed = new Map<string, { actor: ActorRecord; role: string }>();
  const fieldsByKey = new Map<ActorRecord, Map<string, FieldSpec>>();
  for (const doc of docs) {
    for (const entry of doc.services) {
      let named = actorsNamed.get(entry.actor);
      if (!named) {
        const found = actorFor(entry, options);
        actorsNamed.set(entry.actor, named = { actor: found, role: roleOf(found.name) });
      }
      const { actor, role } = named;
      let fields = fieldsByKey.get(actor);
      if (!fields) fieldsByKey.set(actor, fields = new Map());
      const sname = serviceName(role, entry.instance);
      const stored = view.get(sname);
      if (stored && stored.actor !== actor.name) {
        throw new InputError(
          `service ${sname} already exists from actor '${stored.actor}'; '${entry.actor}__${entry.instance}' would be the same service`,
          { location: entry.location },
        );
      }
      let target = declared.get(sname);
      if (target && target.actor.name !== actor.name) {
        throw new InputError(
          `'${entry.actor}__${entry.instance}' and '${target.actor.name}__${target.instance}' (${
            formatAt(target.location)
          }) are the same service ${sname}`,
          { location: entry.location },
        );
      }
      // An entry of a service not declared before has nothing to compare its values with.
      const first = !target;
      if (!target) {
        target = {
          sname,
          actor,
          instance: entry.instance,
          location: entry.location,
          given: new GivenValues(),
        };
        declared.set(sname, target);
      }
      fieldsHere.length = 0;
      attributesHere.length = 0;
      for (const attribute of entry.attributes) {
        let field = fields.get(attribute.key);
        if (!field) fields.set(attribute.key, field = fieldFor(actor, attribute));
        const twice = fieldsHere.indexOf(field);
        if (twice !== -1) {
          const other = attributesHere[twice].key;
          throw new InputError(
            `'${other}' and '${attribute.key}' both set field ${field.camelName}`,
            { location: attribute.keyLocation },
          );
        }
        fieldsHere.push(field);
        attributesHere.push(attribute);
        const earlier = first ? undefined : target.given.get(field);
        if (earlier && !same(earlier.value, attribute.value)) {
          throw new InputError(
            `${sname}: field ${field.camelName} is given two different values, here and at ${
              formatAt(earlier.attribute.valueLocation)
            }`,
            { location: attribute.valueLocation },
          );
        }
        target.given.set(field, attribute);
      }
    }
  }
  return [...declared.values()];
}

function formatAt(location: SourceLocation): string {
  return [location.file, location.line, location.column].filter((part) => part !== undefined)
    .join(":");
}

/**
 * The actor a blueprint entry names: `<actor>`, else v8.1's fallback `blueprint.<actor>`
 * (docs/blueprints.md). An unusable template is an error with its reason.
 */
function actorFor(entry: BlueprintService, options: ApplyOptions): ActorRecord {
  const direct = options.actors.get(entry.actor);
  const fallback = `blueprint.${entry.actor}`;
  for (const name of direct ? [entry.actor] : [entry.actor, fallback]) {
    const unusable = options.unusable?.get(name);
    if (unusable) throw unusableError(name, unusable, entry.location);
  }
  const actor = direct ?? options.actors.get(fallback);
  if (actor) return actor;
  throw unknownActor(entry, options.actors);
}

/**
 * The error for using an unusable actor: at the template's problem when it has a place (the
 * blueprint line named in the message), else at the blueprint line.
 */
function unusableError(
  name: string,
  unusable: { message: string; location?: SourceLocation },
  usedAt: SourceLocation,
): InputError {
  if (!unusable.location) {
    return new InputError(`actor '${name}' cannot be used: ${unusable.message}`, {
      location: usedAt,
    });
  }
  return new InputError(
    `${unusable.message} (the template of actor '${name}', used at ${formatAt(usedAt)})`,
    { location: unusable.location },
  );
}

function unknownActor(
  entry: BlueprintService,
  actors: ReadonlyMap<string, ActorRecord>,
): InputError {
  const names = [...actors.keys()].sort(compareText);
  const near = names.filter((name) => roleOf(name) === roleOf(entry.actor));
  const typo = didYouMean(entry.actor, names);
  const hint = typo !== ""
    ? typo
    : near.length > 0
    ? ` (did you mean ${near.join(", ")}?)`
    : names.length === 0
    ? " (the repository has no actor templates)"
    : "";
  return new InputError(`unknown actor '${entry.actor}'${hint}`, { location: entry.location });
}

/** Links a service to its parent and producers (docs/blueprints.md). */
function resolveLinks(
  sname: string,
  declared: Declared | undefined,
  view: View,
  actors: ReadonlyMap<string, ActorRecord>,
  /** Creates an `auto_<n>` service of the actor named (a dotted name links its role). */
  autoCreate: (actorName: string, at: SourceLocation, why: string) => string,
  /** When set, a named producer that does not exist is reported here and left out. */
  dropMissing?: (message: string, at: SourceLocation) => void,
): void {
  const current = view.get(sname)!;
  const isNew = view.createdNames.has(sname);
  // A service the unit creates stays this record (it is changed in place): no lookups.
  const own = isNew ? current : undefined;
  const fields = (declared?.actor ?? actors.get(current.actor))?.fields ?? [];
  const at = declared?.location ?? { file: "<auto>" };
  let parent = current.parent;
  const producers: Record<string, string[]> = copyJson(current.producers);
  let touched = false;

  for (const field of fields) {
    if (!isRelation(field)) continue;
    const given = declared?.given.get(field);
    const named = given && given.value !== null ? namesOf(given) : undefined;
    if (!named && !isNew) continue;
    touched = true;
    if (field.parent !== undefined) {
      const role = field.parent;
      let target: string | null;
      if (named) {
        if (named.length !== 1) {
          throw new InputError(
            `${field.camelName}: a service has one parent, got ${named.length}`,
            {
              location: given!.attribute.valueLocation,
            },
          );
        }
        target = serviceName(role, named[0]);
        if (!view.get(target)) {
          throw new InputError(
            `parent ${target} of ${sname} does not exist (not in the store, not in the blueprints)${
              didYouMean(named[0], view.instancesOf(role))
            }`,
            { location: nameLocation(given!, 0) },
          );
        }
      } else {
        const candidates = view.instancesOf(role).filter((name) =>
          serviceName(role, name) !== sname
        );
        if (candidates.length === 1) target = serviceName(role, candidates[0]);
        else if (candidates.length > 1) {
          throw new InputError(
            `${sname} needs a parent of role '${role}' and ${candidates.length} exist (${
              candidates.slice(0, 5).join(", ")
            }${candidates.length > 5 ? ", …" : ""}): name one with '${field.name}:'`,
            { location: at },
          );
        } else if (field.auto) {
          target = autoCreate(field.parentActor ?? role, at, `the parent of ${sname}`);
        } else if (field.optional) {
          target = null;
        } else {
          throw new InputError(
            `${sname} needs a parent of role '${role}' and none exists (declare one, or mark '${field.name}' auto or optional)`,
            { location: at },
          );
        }
      }
      const oldParent = parent;
      parent = target;
      if (oldParent && oldParent !== target) removeProducer(producers, oldParent);
      if (target) addProducer(producers, target);
      setData(view, sname, field, target === null ? "" : target.slice(role.length + 1), own);
      continue;
    }
    const consume = field.consume!;
    const linked: string[] = [];
    if (named) {
      if (named.length > consume.max) {
        throw new InputError(
          `${field.camelName}: ${named.length} producers given, at most ${consume.max} allowed`,
          { location: given!.attribute.valueLocation },
        );
      }
      for (let index = 0; index < named.length; index++) {
        const name = named[index];
        // The first role with a service of this name, and how many have one (one, mostly).
        let target: string | undefined;
        let found = 0;
        for (const role of consume.roles) {
          const candidate = serviceName(role, name);
          if (!view.get(candidate)) continue;
          found++;
          target ??= candidate;
        }
        if (found === 0 && dropMissing) {
          dropMissing(
            `producer '${name}' of ${sname} does not exist (no ${
              consume.roles.map((role) => serviceName(role, name)).join(" or ")
            })`,
            nameLocation(given!, index),
          );
          continue;
        }
        if (found === 0) {
          throw new InputError(
            `producer '${name}' of ${sname} does not exist (no ${
              consume.roles.map((role) => serviceName(role, name)).join(" or ")
            } in the store or the blueprints)${
              didYouMean(name, consume.roles.flatMap((role) => view.instancesOf(role)))
            }`,
            { location: nameLocation(given!, index) },
          );
        }
        if (found > 1) {
          const matches = consume.roles.filter((role) => view.get(serviceName(role, name)));
          throw new InputError(
            `producer '${name}' of ${sname} is ambiguous: ${
              matches.map((role) => serviceName(role, name)).join(" and ")
            } both exist`,
            { location: nameLocation(given!, index) },
          );
        }
        if (!linked.includes(target!)) linked.push(target!);
      }
    }
    if (linked.length < consume.min) {
      for (const role of consume.roles) {
        for (const name of view.instancesOf(role)) {
          if (linked.length >= consume.min) break;
          const target = serviceName(role, name);
          if (target !== sname && !linked.includes(target)) linked.push(target);
        }
      }
    }
    while (linked.length < consume.min) {
      if (!field.auto) {
        throw new InputError(
          `${sname} needs at least ${consume.min} producer(s) of role ${
            consume.roles.join(" or ")
          } for '${field.name}' and ${linked.length} exist (declare them, or mark the field auto)`,
          { location: given?.attribute.valueLocation ?? at },
        );
      }
      linked.push(
        autoCreate(
          consume.actors?.[0] ?? consume.roles[0],
          given?.attribute.valueLocation ?? at,
          `a producer of ${sname}`,
        ),
      );
    }
    // This field's links replace what it linked before.
    const before = fieldLinks(own ?? view.get(sname)!, field);
    for (const old of before) if (!linked.includes(old)) removeProducer(producers, old);
    for (const target of linked) addProducer(producers, target);
    setData(view, sname, field, relationValue(field, linked.map(instanceOf)), own);
  }
  if (!touched) return;
  if (parent) addProducer(producers, parent);
  const service = own ?? view.get(sname)!;
  const oldTargets = Object.values(service.producers).flat();
  const newTargets = Object.values(producers).flat();
  for (const old of oldTargets) {
    if (!newTargets.includes(old) && view.get(old)) view.consumers(old).delete(sname);
  }
  for (const target of newTargets) view.consumers(target).add(sname);
  if (service.parent !== parent || !same(service.producers, producers)) {
    const mutable = own ?? view.mutable(sname);
    mutable.parent = parent;
    mutable.producers = producers;
  }
}

/** The services a relation field links to now, from the service's data. */
function fieldLinks(service: ServiceRecord, field: FieldSpec): string[] {
  const value = service.data[field.camelName];
  const names = Array.isArray(value)
    ? value.map(String)
    : typeof value === "string" && value.length > 0
    ? value.split(",")
    : [];
  const roles = field.consume?.roles ?? (field.parent ? [field.parent] : []);
  const links: string[] = [];
  for (const name of names) {
    for (const role of roles) {
      const sname = serviceName(role, name);
      if ((service.producers[role] ?? []).includes(sname)) links.push(sname);
    }
  }
  return links;
}

/** Where the role of a stored `role!instance` name ends (`roleEndOf`); a bad name is a bug. */
function roleEnd(sname: string): number {
  const at = roleEndOf(sname);
  if (at < 0) throw new TypeError(`not a service name: ${sname}`);
  return at;
}

/** The instance part of a stored `role!instance` name. */
function instanceOf(sname: string): string {
  return sname.slice(roleEnd(sname) + 1);
}

function addProducer(producers: Record<string, string[]>, sname: string): void {
  const role = sname.slice(0, roleEnd(sname));
  const list = producers[role] ??= [];
  if (!list.includes(sname)) {
    list.push(sname);
    list.sort(compareText);
  }
}

function removeProducer(producers: Record<string, string[]>, sname: string): void {
  const role = sname.slice(0, roleEnd(sname));
  const list = producers[role];
  if (!list) return;
  const next = list.filter((item) => item !== sname);
  if (next.length === 0) delete producers[role];
  else producers[role] = next;
}

/**
 * Sets a data field, recording the change for existing services; `own` is the record of a
 * service the unit creates (changed in place, no change recorded).
 */
function setData(
  view: View,
  sname: string,
  field: FieldSpec,
  value: unknown,
  own: ServiceRecord | undefined,
): void {
  const current = own ?? view.get(sname)!;
  if (same(current.data[field.camelName], value)) return;
  const service = own ?? view.mutable(sname);
  if (!own) recordChange(view, sname, field.camelName, service.data[field.camelName], value);
  service.data[field.camelName] = value;
}

/** A parent chain that comes back to where it started is an error (docs/blueprints.md). */
function checkParentCycles(declared: readonly Declared[], view: View): void {
  const done = new Set<string>();
  for (const entry of declared) {
    // Most services have no parent: their walk ends where it starts, without a path to keep,
    // nor a place in `done` (a walk reaching one ends there in one step anyway).
    if ((view.get(entry.sname)?.parent ?? null) === null) continue;
    const path: string[] = [];
    const onPath = new Set<string>();
    let at: string | null = entry.sname;
    while (at && !done.has(at)) {
      if (onPath.has(at)) {
        const cycle = [...path.slice(path.indexOf(at)), at];
        const culprit = declared.find((d) => cycle.includes(d.sname) && parentGiven(d)) ?? entry;
        const given = parentGiven(culprit);
        throw new InputError(`parent cycle: ${cycle.join(" → ")}`, {
          location: given?.attribute.valueLocation ?? culprit.location,
        });
      }
      onPath.add(at);
      path.push(at);
      at = view.get(at)?.parent ?? null;
    }
    for (const name of path) done.add(name);
  }
}

function parentGiven(entry: Declared): GivenValue | undefined {
  for (const given of entry.given.values()) if (given.field.parent !== undefined) return given;
  return undefined;
}

/** The `actions:` sections, in unit order. */
function applyActions(
  docs: readonly BlueprintDoc[],
  view: View,
  scheduled: ScheduledAction[],
  warnings: string[],
): void {
  const all = () => [...view.byName.keys()].sort(compareText);
  for (const doc of docs) {
    for (const entry of doc.actions) {
      const actorRe = entry.actor === undefined ? undefined : compileNameRegex(entry.actor);
      const serviceRe = entry.service === undefined ? undefined : compileNameRegex(entry.service);
      const matched = all().filter((sname) => {
        const service = view.get(sname)!;
        return (!actorRe || actorRe.test(service.actor)) &&
          (!serviceRe || serviceRe.test(service.name));
      });
      if (matched.length === 0) {
        warnings.push(`${formatAt(entry.location)}: this actions entry matches no service`);
        continue;
      }
      for (const action of entry.actions) {
        const having = matched.filter((sname) =>
          ownValue(view.whole(sname)!.actions, action) !== undefined
        );
        if (having.length === 0) {
          const actors = [...new Set(matched.map((s) => view.get(s)!.actor))].sort(compareText);
          throw new InputError(
            `no matching service has an action '${action}' (actors: ${actors.join(", ")})`,
            { location: entry.actionLocation },
          );
        }
        for (const sname of having) {
          const service = view.whole(sname)!;
          if (entry.recurring !== undefined) {
            if (service.actions[action].period !== entry.recurring) {
              view.mutable(sname).actions[action].period = entry.recurring;
            }
            // As in v8.1, `recurring:` also schedules the action (its first run); 0 only turns
            // the recurrence off (docs/blueprints.md).
            if (entry.recurring === 0) continue;
          }
          const current = view.whole(sname)!;
          // A dry check first, so that services this does not change are not copied.
          if (scheduleAction(current, action, { force: entry.force }).service === current) continue;
          const outcome = scheduleAction(view.mutable(sname), action, { force: entry.force });
          view.byName.set(sname, outcome.service);
          if (outcome.scheduled) scheduled.push({ service: sname, action });
        }
      }
    }
  }
}

/** The `eventfilters:` sections: each entry is stored on the services it matches. */
function applyEventFilters(docs: readonly BlueprintDoc[], view: View, warnings: string[]): void {
  for (const doc of docs) {
    for (const { filter, location } of doc.eventFilters) {
      const actorRe = filter.actor === undefined ? undefined : compileNameRegex(filter.actor);
      const serviceRe = filter.service === undefined ? undefined : compileNameRegex(filter.service);
      let matches = 0;
      for (const sname of [...view.byName.keys()].sort(compareText)) {
        const service = view.get(sname)!;
        if (actorRe && !actorRe.test(service.actor)) continue;
        if (serviceRe && !serviceRe.test(service.name)) continue;
        matches++;
        if (view.whole(sname)!.eventFilters.some((known) => same(known, filter))) continue;
        const copy: EventFilter = { ...filter };
        view.mutable(sname).eventFilters.push(copy);
      }
      if (matches === 0) {
        warnings.push(`${formatAt(location)}: this eventfilter matches no service`);
      }
    }
  }
}
