/**
 * ays' own records as Cap'n Proto messages (docs/capnp.md, "ays' own models"), with the structs of `schemas/ays.capnp`
 * (kept parsed in `ays_schema_model.ts`, generated from it: the binary needs no file and parses nothing). The store calls
 * {@link encodeRecord} / {@link decodeRecord}; service data is encoded with the actor's own
 * schema ({@link actorDataCodec}) and kept inside the service record as Data.
 *
 * @module
 */
import {
  type ActionRecord,
  type ActionSettings,
  type ActionState,
  type ActorConfig,
  type ActorRecord,
  type EventFilter,
  type FieldSpec,
  fromStorable,
  type HrdType,
  type JobRecord,
  type JobState,
  parseServiceName,
  type RunRecord,
  type RunState,
  serviceName,
  type ServiceRecord,
  type ServiceSummary,
  toStorable,
} from "../model/mod.ts";
import { AYS_SCHEMA_MODEL } from "./ays_schema_model.ts";
import { compileCodec, type StructCodec } from "./codec.ts";
import { parseCapnp } from "./parse.ts";

/** The repository record (not in `types.ts`: only the store keeps it). */
export interface RepositoryRecord {
  name: string;
  path: string;
  /** Epoch milliseconds. */
  createdAt: number;
  /** The store layout version that wrote it. */
  layoutVersion: number;
}

/**
 * A service as stored: like {@link ServiceRecord} but `data` is the message encoded with the
 * actor's schema (see {@link actorDataCodec}).
 */
export type StoredService = Omit<ServiceRecord, "data"> & { data: Uint8Array };

/** A stored service without its actions and event filters ({@link decodeServiceHead}). */
export type ServiceHead = Omit<StoredService, "actions" | "eventFilters">;

/** The record of each kind, as {@link encodeRecord} takes it and {@link decodeRecord} gives it. */
export interface RecordKinds {
  repository: RepositoryRecord;
  actor: ActorRecord;
  service: StoredService;
  run: RunRecord;
  job: JobRecord;
}

/** A kind of record the store keeps. */
export type RecordKind = keyof RecordKinds;

const STRUCT_OF: Record<RecordKind, string> = {
  repository: "Repository",
  actor: "Actor",
  service: "Service",
  run: "Run",
  job: "Job",
};

type Obj = Record<string, unknown>;

/** The codecs compiled so far: each when first used (`ays list` needs two of the six). */
const codecs = new Map<RecordKind | "summary" | "head", StructCodec>();

/** What both the summary and the head read of a service record: its name and links. */
const LINKS_PICK = {
  key: true,
  instance: true,
  actor: true,
  parent: true,
  producers: true,
  consumers: true,
  changed: true,
} as const;

/** What {@link decodeServiceSummary} reads of a service record. */
const SUMMARY_PICK = { ...LINKS_PICK, actions: { name: true, state: true } } as const;

/** What {@link decodeServiceHead} reads of a service record: all but its actions and filters. */
const HEAD_PICK = { ...LINKS_PICK, data: true } as const;

/** The codec of a record struct (or the service summary), compiled on first use. */
function codecOf(kind: RecordKind | "summary" | "head"): StructCodec {
  const known = codecs.get(kind);
  if (known) return known;
  // Generated from the schema text (`ays_schema_model.ts`): parsing it cost every start-up.
  const file = AYS_SCHEMA_MODEL;
  const codec = kind === "summary" || kind === "head"
    ? compileCodec(file, {
      struct: "Service",
      data: "bytes",
      nulls: true,
      pick: kind === "summary" ? SUMMARY_PICK : HEAD_PICK,
    })
    : compileCodec(file, { struct: STRUCT_OF[kind], data: "bytes", nulls: true });
  codecs.set(kind, codec);
  return codec;
}

// Small helpers for the conventions of ays.capnp: absent pointer = null, has-flags.
const text = (v: unknown): string | null => (typeof v === "string" ? v : null);
const texts = (v: unknown): string[] => (Array.isArray(v) ? v as string[] : []);
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v as Obj[] : []);
const num = (v: unknown): number => Number(v ?? 0);
const optionalNumber = (o: Obj, name: string, flag: string): number | null =>
  o[flag] ? num(o[name]) : null;
const splitService = (name: string): Obj => parseServiceName(name) ?? { role: name, instance: "" };
const joinService = (p: Obj): string => serviceName(String(p.role), String(p.instance));

function fieldToCapnp(f: FieldSpec): Obj {
  return {
    name: f.name,
    camelName: f.camelName,
    type: f.type,
    list: f.list,
    defaultJson: f.default === undefined ? null : JSON.stringify(f.default),
    description: f.description ?? null,
    consume: f.consume ?? null,
    parent: f.parent ?? null,
    auto: f.auto,
    optional: f.optional,
    regex: f.regex ?? null,
    minval: f.minval ?? 0,
    hasMinval: f.minval !== undefined,
    maxval: f.maxval ?? 0,
    hasMaxval: f.maxval !== undefined,
    singlechoice: f.singlechoice ?? null,
    multichoice: f.multichoice ?? null,
    secret: f.secret,
    aliases: f.aliases,
    ask: f.ask,
    location: f.location
      ? { file: f.location.file, line: f.location.line ?? 0, column: f.location.column ?? 0 }
      : null,
  };
}

function fieldFromCapnp(o: Obj): FieldSpec {
  const spec: FieldSpec = {
    name: String(o.name),
    camelName: String(o.camelName),
    type: String(o.type) as HrdType,
    list: Boolean(o.list),
    auto: Boolean(o.auto),
    optional: Boolean(o.optional),
    secret: Boolean(o.secret),
    aliases: texts(o.aliases),
    ask: Boolean(o.ask),
  };
  if (typeof o.defaultJson === "string") spec.default = JSON.parse(o.defaultJson);
  if (typeof o.description === "string") spec.description = o.description;
  if (o.consume) {
    const c = o.consume as Obj;
    spec.consume = { roles: texts(c.roles), min: num(c.min), max: num(c.max) };
  }
  if (typeof o.parent === "string") spec.parent = o.parent;
  if (typeof o.regex === "string") spec.regex = o.regex;
  if (o.hasMinval) spec.minval = num(o.minval);
  if (o.hasMaxval) spec.maxval = num(o.maxval);
  if (Array.isArray(o.singlechoice)) spec.singlechoice = texts(o.singlechoice);
  if (Array.isArray(o.multichoice)) spec.multichoice = texts(o.multichoice);
  if (o.location) {
    const l = o.location as Obj;
    spec.location = { file: String(l.file ?? "") };
    if (num(l.line)) spec.location.line = num(l.line);
    if (num(l.column)) spec.location.column = num(l.column);
  }
  return spec;
}

function configToCapnp(c: ActorConfig): Obj {
  return {
    recurring: Object.entries(c.recurring).map(([action, r]) => ({
      action,
      period: r.period,
      log: r.log,
    })),
    actions: Object.entries(c.actions).map(([action, s]) => ({
      action,
      timeout: s.timeout ?? 0,
      hasTimeout: s.timeout !== undefined,
      retries: s.retries ?? 0,
      hasRetries: s.retries !== undefined,
      retryDelay: s.retryDelay ?? 0,
      hasRetryDelay: s.retryDelay !== undefined,
      deps: s.deps ?? null,
      producers: s.producers ?? false,
      hasProducers: s.producers !== undefined,
      isolation: s.isolation ?? null,
      memory: s.memory ?? 0,
    })),
    flists: Object.entries(c.flists).map(([key, value]) => ({ key, value })),
    events: Object.entries(c.events).map(([key, value]) => ({ key, value })),
    executor: c.executor ?? null,
    worker: c.worker ?? null,
  };
}

function configFromCapnp(o: Obj | null): ActorConfig {
  const config: ActorConfig = { recurring: {}, actions: {}, flists: {}, events: {} };
  if (!o) return config;
  for (const r of list(o.recurring)) {
    config.recurring[String(r.action)] = { period: num(r.period), log: Boolean(r.log) };
  }
  for (const a of list(o.actions)) {
    const s: Partial<ActionSettings> = {};
    if (a.hasTimeout) s.timeout = num(a.timeout);
    if (a.hasRetries) s.retries = num(a.retries);
    if (a.hasRetryDelay) s.retryDelay = num(a.retryDelay);
    if (Array.isArray(a.deps)) s.deps = texts(a.deps);
    if (a.hasProducers) s.producers = Boolean(a.producers);
    if (a.isolation === "pool" || a.isolation === "job" || a.isolation === "process") {
      s.isolation = a.isolation;
    }
    if (num(a.memory) > 0) s.memory = num(a.memory);
    config.actions[String(a.action)] = s;
  }
  for (const kv of list(o.flists)) config.flists[String(kv.key)] = String(kv.value ?? "");
  for (const kv of list(o.events)) config.events[String(kv.key)] = String(kv.value ?? "");
  if (o.executor === "local") config.executor = "local";
  if (typeof o.worker === "string") config.worker = o.worker;
  return config;
}

const EVENT_KEYS = ["actor", "service", "channel", "cmd", "secret", "action"] as const;

function toCapnp(kind: RecordKind, record: unknown): Obj {
  switch (kind) {
    case "repository":
      return record as Obj;
    case "actor": {
      const a = record as ActorRecord;
      return {
        name: a.name,
        role: a.role,
        templatePath: a.templatePath,
        fields: a.fields.map(fieldToCapnp),
        capnpSchema: a.capnpSchema,
        actionsPath: a.actionsPath,
        actionsHash: a.actionsHash,
        actionNames: a.actionNames,
        config: configToCapnp(a.config),
        exportedActions: a.exported ?? null,
      };
    }
    case "service": {
      const s = record as StoredService;
      // Index loops over `Object.keys`: `Object.entries` and `map` made a pair and a call per
      // item, a fifth of encoding a service record.
      const producers: Obj[] = [];
      const roles = Object.keys(s.producers);
      for (let i = 0; i < roles.length; i++) {
        const names = s.producers[roles[i]];
        const services: Obj[] = new Array(names.length);
        for (let j = 0; j < names.length; j++) services[j] = splitService(names[j]);
        producers.push({ role: roles[i], services });
      }
      const consumers: Obj[] = new Array(s.consumers.length);
      for (let i = 0; i < s.consumers.length; i++) consumers[i] = splitService(s.consumers[i]);
      const actions: Obj[] = [];
      const names = Object.keys(s.actions);
      for (let i = 0; i < names.length; i++) {
        const a = s.actions[names[i]];
        actions.push({
          name: names[i],
          state: a.state,
          period: a.period,
          lastRun: a.lastRun ?? 0,
          hasLastRun: a.lastRun !== null,
          lastJob: a.lastJob,
          argsJson: a.args === undefined ? null : JSON.stringify(a.args),
        });
      }
      return {
        key: s.key,
        instance: s.name,
        actor: { name: s.actor, role: s.role },
        parent: s.parent === null ? null : splitService(s.parent),
        producers,
        consumers,
        data: s.data,
        changed: s.changed,
        actions,
        eventFilters: s.eventFilters.map((f) =>
          Object.fromEntries(EVENT_KEYS.map((k) => [k, f[k] ?? null]))
        ),
      };
    }
    case "run": {
      const r = record as RunRecord;
      return {
        id: r.id,
        repo: r.repo,
        scope: {
          role: r.scope.role ?? null,
          instance: r.scope.instance ?? null,
          action: r.scope.action ?? null,
        },
        steps: r.steps.map((jobs) => ({ jobs })),
        state: r.state,
        createdAt: r.createdAt,
        startedAt: r.startedAt ?? 0,
        hasStartedAt: r.startedAt !== null,
        endedAt: r.endedAt ?? 0,
        hasEndedAt: r.endedAt !== null,
        holder: r.holder,
      };
    }
    case "job": {
      const j = record as JobRecord;
      return {
        id: j.id,
        runId: j.runId,
        service: j.service,
        action: j.action,
        state: j.state,
        attempts: j.attempts,
        startedAt: j.startedAt ?? 0,
        hasStartedAt: j.startedAt !== null,
        endedAt: j.endedAt ?? 0,
        hasEndedAt: j.endedAt !== null,
        // undefined and null both mean "no result" and read back as null.
        resultJson: j.result === undefined || j.result === null ? null : JSON.stringify(j.result),
        error: j.error === null ? null : { message: j.error.message, stack: j.error.stack ?? null },
        actionsHash: j.actionsHash,
        worker: j.worker ?? null,
      };
    }
  }
}

function fromCapnp(kind: RecordKind, o: Obj): unknown {
  switch (kind) {
    case "repository":
      return {
        name: text(o.name) ?? "",
        path: text(o.path) ?? "",
        createdAt: num(o.createdAt),
        layoutVersion: num(o.layoutVersion),
      } satisfies RepositoryRecord;
    case "actor":
      return {
        name: text(o.name) ?? "",
        role: text(o.role) ?? "",
        templatePath: text(o.templatePath) ?? "",
        fields: list(o.fields).map(fieldFromCapnp),
        capnpSchema: text(o.capnpSchema) ?? "",
        actionsPath: text(o.actionsPath),
        actionsHash: text(o.actionsHash),
        actionNames: texts(o.actionNames),
        config: configFromCapnp(o.config as Obj | null),
        ...(o.exportedActions == null ? {} : { exported: texts(o.exportedActions) }),
      } satisfies ActorRecord;
    case "service": {
      const actions: Record<string, ActionRecord> = {};
      for (const a of list(o.actions)) {
        const action: ActionRecord = {
          state: a.state as ActionState,
          period: num(a.period),
          lastRun: optionalNumber(a, "lastRun", "hasLastRun"),
          lastJob: text(a.lastJob),
        };
        if (typeof a.argsJson === "string") action.args = JSON.parse(a.argsJson);
        actions[String(a.name)] = action;
      }
      return {
        ...serviceHeader(o),
        data: (o.data as Uint8Array | null) ?? new Uint8Array(0),
        actions,
        eventFilters: list(o.eventFilters).map((f) => {
          const filter: EventFilter = {};
          for (const k of EVENT_KEYS) if (typeof f[k] === "string") filter[k] = f[k] as string;
          return filter;
        }),
      } satisfies StoredService;
    }
    case "run": {
      const scope = (o.scope ?? {}) as Obj;
      const holder = o.holder as Obj | null;
      const runScope: RunRecord["scope"] = {};
      if (typeof scope.role === "string") runScope.role = scope.role;
      if (typeof scope.instance === "string") runScope.instance = scope.instance;
      if (typeof scope.action === "string") runScope.action = scope.action;
      return {
        id: text(o.id) ?? "",
        repo: text(o.repo) ?? "",
        scope: runScope,
        steps: list(o.steps).map((s) =>
          list(s.jobs).map((j) => ({
            service: text(j.service) ?? "",
            action: text(j.action) ?? "",
          }))
        ),
        state: o.state as RunState,
        createdAt: num(o.createdAt),
        startedAt: optionalNumber(o, "startedAt", "hasStartedAt"),
        endedAt: optionalNumber(o, "endedAt", "hasEndedAt"),
        holder: holder ? { pid: num(holder.pid), host: text(holder.host) ?? "" } : null,
      } satisfies RunRecord;
    }
    case "job": {
      const error = o.error as Obj | null;
      const jobError: JobRecord["error"] = error ? { message: text(error.message) ?? "" } : null;
      if (jobError && typeof error!.stack === "string") jobError.stack = error!.stack;
      return {
        id: text(o.id) ?? "",
        runId: text(o.runId) ?? "",
        service: text(o.service) ?? "",
        action: text(o.action) ?? "",
        state: o.state as JobState,
        attempts: num(o.attempts),
        startedAt: optionalNumber(o, "startedAt", "hasStartedAt"),
        endedAt: optionalNumber(o, "endedAt", "hasEndedAt"),
        result: typeof o.resultJson === "string" ? JSON.parse(o.resultJson) : null,
        error: jobError,
        actionsHash: text(o.actionsHash),
        ...(typeof o.worker === "string" ? { worker: o.worker } : {}),
      } satisfies JobRecord;
    }
  }
}

/** Encodes a record of `kind` as an unpacked capnp message of its struct in `ays.capnp`. */
export function encodeRecord<K extends RecordKind>(kind: K, value: RecordKinds[K]): Uint8Array {
  return codecOf(kind).encode(toCapnp(kind, value));
}

/** Decodes a message written by {@link encodeRecord}. Throws InputError when malformed. */
export function decodeRecord<K extends RecordKind>(kind: K, bytes: Uint8Array): RecordKinds[K] {
  return fromCapnp(kind, codecOf(kind).decode(bytes)) as RecordKinds[K];
}

/**
 * The summary of a service record ({@link ServiceSummary}: what `ays list` shows), reading
 * only those fields of the message. Throws InputError when malformed, as
 * {@link decodeRecord} does; a record whose other fields are damaged may still read.
 */
export function decodeServiceSummary(bytes: Uint8Array): ServiceSummary {
  const o = codecOf("summary").decode(bytes);
  const actions: Record<string, { state: ActionState }> = {};
  for (const a of list(o.actions)) actions[String(a.name)] = { state: a.state as ActionState };
  return { ...serviceHeader(o), actions };
}

/**
 * A service record without its actions and event filters ({@link ServiceHead}: what an apply
 * that changes nothing reads of a stored service), reading only those fields of the message.
 * Throws InputError when malformed, as {@link decodeRecord} does.
 */
export function decodeServiceHead(bytes: Uint8Array): ServiceHead {
  const o = codecOf("head").decode(bytes);
  return { ...serviceHeader(o), data: (o.data as Uint8Array | null) ?? new Uint8Array(0) };
}

/** The names and relations of a decoded service message: what its record and summary share. */
function serviceHeader(o: Obj): Omit<ServiceSummary, "actions"> {
  const actor = (o.actor ?? {}) as Obj;
  const producers: Record<string, string[]> = {};
  for (const g of list(o.producers)) producers[String(g.role)] = list(g.services).map(joinService);
  return {
    key: text(o.key) ?? "",
    name: text(o.instance) ?? "",
    actor: text(actor.name) ?? "",
    role: text(actor.role) ?? "",
    parent: o.parent ? joinService(o.parent as Obj) : null,
    producers,
    consumers: list(o.consumers).map(joinService),
    changed: Boolean(o.changed),
  };
}

/** Encoder and decoder of one actor's service data. */
export interface DataCodec {
  /** The validated data (dicts as objects) as a message of the actor's schema. */
  encode(data: Record<string, unknown>): Uint8Array;
  /** A message of the actor's schema back to data (dicts as objects). */
  decode(bytes: Uint8Array): Record<string, unknown>;
}

const dataCodecs = new Map<string, DataCodec>();
/** Per actor object, so loading many services of one actor does not rebuild the cache key. */
const dataCodecsByActor = new WeakMap<
  object,
  { schema: string; fields: readonly FieldSpec[]; codec: DataCodec }
>();

/**
 * The codec of an actor's service data, from its capnp schema text and field specs; compiled
 * once per schema text and field list and then cached.
 */
export function actorDataCodec(
  actor: Pick<ActorRecord, "capnpSchema" | "fields" | "name">,
): DataCodec {
  // Checked against the actor's current schema and fields: an actor object may be updated.
  const known = dataCodecsByActor.get(actor);
  if (known && known.schema === actor.capnpSchema && known.fields === actor.fields) {
    return known.codec;
  }
  const cacheKey = `${actor.capnpSchema}\u0000${
    JSON.stringify(actor.fields.map((f) => [f.camelName, f.type, f.list]))
  }`;
  const cached = dataCodecs.get(cacheKey);
  if (cached) {
    dataCodecsByActor.set(actor, {
      schema: actor.capnpSchema,
      fields: actor.fields,
      codec: cached,
    });
    return cached;
  }
  const codec = compileCodec(parseCapnp(actor.capnpSchema, { file: `${actor.name}/schema.capnp` }));
  const fields = actor.fields;
  const hasDict = fields.some((f) => f.type === "dict");
  const result: DataCodec = {
    encode: (data) => codec.encode(hasDict ? toStorable(fields, data) : data),
    decode: (bytes) => {
      const data = codec.decode(bytes);
      return hasDict ? fromStorable(fields, data) : data;
    },
  };
  dataCodecs.set(cacheKey, result);
  dataCodecsByActor.set(actor, { schema: actor.capnpSchema, fields: actor.fields, codec: result });
  return result;
}

/** A service record with its data encoded by the actor's codec, ready for {@link encodeRecord}. */
export function encodeService(service: ServiceRecord, dataCodec: DataCodec): Uint8Array {
  return encodeRecord("service", { ...service, data: dataCodec.encode(service.data) });
}

/** The inverse of {@link encodeService}. */
export function decodeService(bytes: Uint8Array, dataCodec: DataCodec): ServiceRecord {
  const stored = decodeRecord("service", bytes);
  return { ...stored, data: dataCodec.decode(stored.data) };
}
