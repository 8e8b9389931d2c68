/**
 * The records layer (docs/store.md): a repository's actors, services, runs, jobs, job logs and
 * action sources, kept through any {@link StoreDriver}.
 *
 * The keys are those of `record_keys.ts` (docs/store.md, "Records and keys"); runs, jobs and
 * their logs are kept by `run_records.ts`, offered here through the same methods.
 *
 * Which indexes, and why: a service's key is derived from its name ({@link serviceKey}), so
 * the name needs no index; actor (to carry schema changes to its services) and parent (to
 * delete a service with its children) are indexed; a service's consumers are kept in the
 * service record itself, which serves the producer direction; the state is not indexed,
 * because it changes with every job and every query by state (planning) reads all services
 * anyway — with one bulk query.
 *
 * @module
 */
import { setImmediate } from "node:timers";
import { sha256Hex } from "../digest.ts";
import { InputError, UnavailableError } from "../errors.ts";
import {
  type ActorRecord,
  type JobRecord,
  parseServiceName,
  type RunRecord,
  serviceKey,
  serviceName,
  type ServiceRecord,
  type ServiceSummary,
} from "../model/mod.ts";
import { CorruptRecordError } from "./corrupt_record.ts";
import type { BatchGuard, BatchOp, StoreDriver } from "./driver.ts";
import { loadedActorPaths, storedActorPaths } from "./actor_paths.ts";
import {
  actorMirrorPath,
  actorMirrorText,
  type MirrorContent,
  MirrorWriteError,
  readMirror,
  removeMirror,
  sameMirrorSecrets,
  serviceMirrorText,
  serviceMirrorTexts,
  servicePaths,
  writeMirror,
  writeMirrorFiles,
} from "./mirror.ts";
import type { RepositoryRecord, ServiceHead, StoredService } from "../capnp/mod.ts";
import {
  capnpDataCodec,
  capnpRecordCodec,
  type DataCodecFor,
  type RecordCodec,
  type RecordKind,
  type ServiceDataCodec,
} from "./record_codec.ts";
import {
  ACTOR_PREFIX,
  actorKey,
  DUE_PREFIX,
  hasDueAction,
  INDEX_PREFIX,
  indexKeys,
  indexPrefix,
  JOB_PREFIX,
  jobLogName,
  lastSegment,
  REPO_KEY,
  RUN_PREFIX,
  SERVICE_PREFIX,
  serviceRecordKey,
  sourceKey,
} from "./record_keys.ts";
import { MirrorStage } from "./mirror_stage.ts";
import { buildOpenRunIndex, RunRecords } from "./run_records.ts";
import { WriteGroup } from "./write_group.ts";

/**
 * The layout of the records this version of ays writes (2: with the due index; 3: with the
 * open-runs index).
 */
export const LAYOUT_VERSION = 3;

export { REPO_LOCK, RUN_QUEUE } from "./record_keys.ts";

/** What {@link RepoStore.scanServiceSummaries} read: the summaries and the corrupted records. */
export interface ServiceSummaryScan {
  services: ServiceSummary[];
  corrupt: CorruptRecordError[];
}

/** Options of {@link RepoStore.scanServices} and {@link RepoStore.loadServices}. */
export interface ScanServicesOptions {
  /**
   * Keep the bytes of the services with a due action until their first update (a run's plan:
   * each job's start then needs no read). Off by default: an apply or a long-lived daemon would
   * hold every due service's bytes for nothing.
   */
  keepDue?: boolean;
}

/** What {@link RepoStore.scanServices} read: the decodable services and the corrupted records. */
export interface ServiceScan {
  services: ServiceRecord[];
  corrupt: CorruptRecordError[];
}

/** What {@link RepoStore.loadServiceHeads} read. */
export interface ServiceHeads {
  /**
   * Every service with its names, relations, `changed` and data, but with `actions` and
   * `eventFilters` left out (undefined, whatever the type says): a service whose actions or
   * filters are needed is read whole with {@link ServiceHeads.whole}.
   */
  services: ServiceRecord[];
  /**
   * The whole record of a service of {@link ServiceHeads.services}: a new object, decoded from
   * the bytes the heads were read from. An undecodable record is its
   * {@link CorruptRecordError}.
   */
  whole(service: ServiceRecord): ServiceRecord;
}

/** The repository itself, as recorded in its store (`{name, path, createdAt, layoutVersion}`). */
export type RepoRecord = RepositoryRecord;

export type { StoredService };

/** One step of an older layout to the next; runs before the new version is recorded. */
export interface Migration {
  /** The layout version this step migrates from (to `from + 1`). */
  from: number;
  /** What it does, for messages. */
  describe: string;
  run(driver: StoreDriver, context: MigrationContext): Promise<void>;
}

/** What a {@link Migration} is given besides the driver. */
export interface MigrationContext {
  /** How the store's records become bytes (the store's own codec). */
  records: RecordCodec;
}

/** The migrations from older layouts, in order. Layout 1 is the first. */
export const MIGRATIONS: readonly Migration[] = [
  { from: 1, describe: "build the due index", run: buildDueIndex },
  { from: 2, describe: "build the open-runs index", run: buildOpenRunIndex },
];

/**
 * Layout 1 → 2: one due index entry for each service with an action a run may take
 * (docs/store.md, "The due index"), stale entries removed, in one batch. A corrupted record
 * gets none: it cannot say its states, and replacing or deleting it fixes its entries.
 */
export async function buildDueIndex(
  driver: StoreDriver,
  context: MigrationContext,
): Promise<void> {
  const ops: BatchOp[] = [];
  const wanted = new Set<string>();
  for (const row of await driver.getByPrefix(SERVICE_PREFIX)) {
    let stored: StoredService;
    try {
      stored = context.records.decode("service", row.value) as StoredService;
    } catch {
      continue;
    }
    if (hasDueAction(stored)) wanted.add(DUE_PREFIX + stored.key);
  }
  for (const key of await driver.listKeys(DUE_PREFIX)) {
    if (!wanted.delete(key)) ops.push({ op: "delete", key });
  }
  for (const key of wanted) ops.push({ op: "set", key, value: EMPTY });
  if (ops.length > 0) await driver.batch(ops);
}

/** Options of {@link openRepoStore}. */
export interface RepoStoreOptions {
  /** The repository name: derives service keys. */
  repoName: string;
  /** How records become bytes (default: the Cap'n Proto models of `schemas/ays.capnp`). */
  records?: RecordCodec;
  /** How service data becomes bytes (default: the actor's own capnp schema). */
  dataCodec?: DataCodecFor;
  /** Migrations (default {@link MIGRATIONS}); `layoutVersion` is the version they reach. */
  migrations?: readonly Migration[];
  /** The current layout version (default {@link LAYOUT_VERSION}). */
  layoutVersion?: number;
  /**
   * Keep the readable mirror in this repository folder up to date after every committed
   * change of actors or services. A failure to write it is reported to `onMirrorError`
   * (the store stays the source of truth); without a handler it is thrown.
   */
  mirror?: {
    repoPath: string;
    onMirrorError?: (error: unknown) => void;
    /**
     * A save creating at least this many services writes their new files in the mirror
     * worker beside the commit (`mirror_stage.ts`; default {@link MIRROR_STAGE_FROM}).
     */
    stageFrom?: number;
  };
  /**
   * The repository root: actor paths are stored relative to it and read back absolute
   * (`actor_paths.ts`). Without it they are stored and read as they are.
   */
  repoPath?: string;
}

/** What {@link RepoStore.destroyAll} removed. */
export interface DestroyCounts {
  services: number;
  actors: number;
  runs: number;
}

/** A change saved as one atomic batch by {@link RepoStore.save}. */
export interface RecordChange {
  actors?: ActorRecord[];
  services?: ServiceRecord[];
  /** Service keys to delete (with their index entries). */
  deleteServices?: string[];
  /** Actor names to delete. */
  deleteActors?: string[];
  /** The repository record. */
  repo?: RepoRecord;
}

const EMPTY = new Uint8Array(0);

/** A service as an update read it: its bytes (the guard) and what it had before the change. */
interface SeenService {
  bytes: Uint8Array;
  /** Its index entries (`indexKeys`) before the change. */
  index: string[];
  parent: string | null;
}

/** Options of {@link RepoStore.updateService}. */
export interface UpdateServiceOptions {
  /** Job records saved in the same atomic write as the service. */
  jobs?: readonly JobRecord[];
}

/**
 * From how many new services a save stages their mirror files in the worker: below it,
 * starting a worker costs more than the files.
 */
export const MIRROR_STAGE_FROM = 500;

/** New services' mirror files handed to the worker before the commit (`#stageNewFiles`). */
interface Staging {
  stage: MirrorStage;
  /** Keys of the services whose files are staged. */
  keys: Set<string>;
}

/** From how many writes a save's batch is put in key order (`#trySave`). */
const SORTED_BATCH_FROM = 256;

/** Orders batch writes by key. */
function byKey(a: BatchOp, b: BatchOp): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** Attempts of a save or update that keeps meeting concurrent writers before giving up. */
const MAX_ATTEMPTS = 50;

/** Whether two byte strings are equal. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * A deep copy of a record of plain objects, arrays and primitives (what the codecs give):
 * several times faster than `structuredClone` (≈ 3 against ≈ 20 µs for a job's service).
 */
function plainCopy<T>(value: T): T {
  if (value === null || typeof value !== "object") return value;
  // Index loops over `Object.keys`: `Object.entries` and `map` allocate a pair or a closure
  // call per field, ≈ 4× the copy's own cost (4,000 job services: 16 against 4 ms of CPU).
  if (Array.isArray(value)) {
    const items = new Array(value.length);
    for (let i = 0; i < value.length; i++) items[i] = plainCopy(value[i]);
    return items as T;
  }
  // Anything but a plain object (bytes, a date) is copied the general way.
  if (Object.getPrototypeOf(value) !== Object.prototype) return structuredClone(value);
  const source = value as Record<string, unknown>;
  const copy: Record<string, unknown> = {};
  const keys = Object.keys(source);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    // An own `__proto__` (a user's field or argument of that name) stays a field: assigned, it
    // would set the copy's prototype instead and be lost.
    if (key === "__proto__") {
      Object.defineProperty(copy, key, {
        value: plainCopy(source[key]),
        writable: true,
        enumerable: true,
        configurable: true,
      });
    } else copy[key] = plainCopy(source[key]);
  }
  return copy as T;
}

function conflictError(attempts: number): Error {
  return new UnavailableError(
    `the store kept changing under this write (${attempts} attempts); try again`,
  );
}

/**
 * Checks the recorded layout version and migrates an older store; refuses a newer one with
 * InputError. A store never written has no version; it gets one with the first write.
 */
export async function openRepoStore(
  driver: StoreDriver,
  options: RepoStoreOptions,
): Promise<RepoStore> {
  const current = options.layoutVersion ?? LAYOUT_VERSION;
  const recorded = await driver.getLayoutVersion();
  if (recorded !== null && recorded > current) {
    throw new InputError(
      `the store ${driver.location} has layout version ${recorded}, newer than this ays ` +
        `knows (${current}): use a newer ays with this repository`,
    );
  }
  if (recorded !== null && recorded < current) {
    const migrations = options.migrations ?? MIGRATIONS;
    for (let version = recorded; version < current; version++) {
      const step = migrations.find((migration) => migration.from === version);
      if (!step) {
        throw new InputError(
          `the store ${driver.location} has layout version ${recorded} and this ays cannot ` +
            `migrate it from version ${version}`,
        );
      }
      await step.run(driver, { records: options.records ?? capnpRecordCodec });
      // Recorded after each step, so an interrupted migration resumes where it stopped.
      await driver.setLayoutVersion(version + 1);
    }
  }
  return new RepoStore(driver, options, current, recorded !== null);
}

/** A repository's records over a driver. Create with {@link openRepoStore}. */
export class RepoStore {
  /** The driver underneath (locks, queues and logs are used directly). */
  readonly driver: StoreDriver;
  /** The repository name. */
  readonly repoName: string;
  readonly #records: RecordCodec;
  readonly #dataCodec: DataCodecFor;
  readonly #layoutVersion: number;
  #versionRecorded: boolean;
  readonly #actors = new Map<string, ActorRecord>();
  readonly #codecs = new Map<string, ServiceDataCodec>();
  readonly #mirror: RepoStoreOptions["mirror"];
  readonly #repoPath: string | undefined;
  readonly #runs: RunRecords;
  /** Group commit of the small writes of jobs (`write_group.ts`). */
  readonly #group: WriteGroup;
  /**
   * The version of each service this store last wrote through {@link RepoStore.updateService}:
   * its bytes and a copy of the record they encode. The next update of that service starts
   * from it instead of reading and decoding the record again (a job's start, then its end);
   * the write stays guarded on those bytes, so another writer in between is a conflict that
   * reads the store again.
   */
  readonly #updated = new Map<string, { bytes: Uint8Array; record: ServiceRecord }>();
  /**
   * The services with a due action, as the last {@link RepoStore.scanServices} read them (a
   * run's plan): their bytes and a copy of the decoded record. The first update of each (a
   * job's start) starts from here instead of reading the record again — on Redis a round trip
   * per job — and decoding it (≈ 40 µs a job's service, against ≈ 3 for the copy). Guarded on
   * the bytes like {@link RepoStore.#updated}; taken on use, so only the due services are held.
   */
  readonly #scanned = new Map<string, { bytes: Uint8Array; record: ServiceRecord }>();

  /** Use {@link openRepoStore}, which checks the layout version first. */
  constructor(
    driver: StoreDriver,
    options: RepoStoreOptions,
    layoutVersion: number,
    versionRecorded: boolean,
  ) {
    this.driver = driver;
    this.repoName = options.repoName;
    this.#records = options.records ?? capnpRecordCodec;
    this.#dataCodec = options.dataCodec ?? capnpDataCodec;
    this.#layoutVersion = layoutVersion;
    this.#versionRecorded = versionRecorded;
    this.#mirror = options.mirror;
    this.#repoPath = options.repoPath ?? options.mirror?.repoPath;
    this.#group = new WriteGroup(driver, { beforeWrite: () => this.#beforeWrite() });
    this.#runs = new RunRecords(driver, {
      records: this.#records,
      beforeWrite: () => this.#beforeWrite(),
      group: this.#group,
    });
  }

  /** Rewrites the mirror from the store (one bulk load), when a mirror is configured. */
  async refreshMirror(): Promise<void> {
    if (!this.#mirror) return;
    try {
      const actors = await this.loadActors();
      const services = await this.loadServices();
      await writeMirror(this.#mirror.repoPath, { actors, services });
    } catch (error) {
      if (!this.#mirror.onMirrorError) throw error;
      this.#mirror.onMirrorError(error);
    }
  }

  #encode(kind: RecordKind, value: unknown): Uint8Array {
    return this.#records.encode(kind, value);
  }

  /** Decodes the record stored under `key`; undecodable bytes are a {@link CorruptRecordError}. */
  #decode<T>(kind: RecordKind, key: string, bytes: Uint8Array): T {
    try {
      return this.#records.decode(kind, bytes) as T;
    } catch (cause) {
      throw new CorruptRecordError(key, { cause });
    }
  }

  async #beforeWrite(): Promise<void> {
    if (this.#versionRecorded) return;
    await this.driver.setLayoutVersion(this.#layoutVersion);
    this.#versionRecorded = true;
  }

  // --- repository -------------------------------------------------------------------------

  /** The repository record, or null before the first save. */
  async loadRepo(): Promise<RepoRecord | null> {
    const bytes = await this.driver.get(REPO_KEY);
    return bytes ? this.#decode<RepoRecord>("repository", REPO_KEY, bytes) : null;
  }

  // --- actors -----------------------------------------------------------------------------

  /** Every actor, sorted by name (one bulk query); also fills the actor cache. */
  async loadActors(): Promise<ActorRecord[]> {
    const rows = await this.driver.getByPrefix(ACTOR_PREFIX);
    const actors = rows.map((row) => this.#decodeActor(row.key, row.value));
    for (const actor of actors) this.#remember(actor);
    return actors;
  }

  /** One actor, or null. */
  async loadActor(name: string): Promise<ActorRecord | null> {
    const bytes = await this.driver.get(actorKey(name));
    if (!bytes) return null;
    const actor = this.#decodeActor(actorKey(name), bytes);
    this.#remember(actor);
    return actor;
  }

  #decodeActor(key: string, bytes: Uint8Array): ActorRecord {
    const actor = this.#decode<ActorRecord>("actor", key, bytes);
    return this.#repoPath ? loadedActorPaths(actor, this.#repoPath) : actor;
  }

  #encodeActor(actor: ActorRecord): Uint8Array {
    return this.#encode("actor", this.#repoPath ? storedActorPaths(actor, this.#repoPath) : actor);
  }

  #remember(actor: ActorRecord): void {
    const previous = this.#actors.get(actor.name);
    if (!previous || previous.capnpSchema !== actor.capnpSchema) this.#codecs.delete(actor.name);
    this.#actors.set(actor.name, actor);
  }

  async #codecOf(actorName: string): Promise<ServiceDataCodec> {
    const cached = this.#codecs.get(actorName);
    if (cached) return cached;
    const actor = this.#actors.get(actorName) ?? (await this.loadActor(actorName));
    if (!actor) {
      throw new InputError(`the store has a service of actor ${actorName}, which it lacks`);
    }
    const codec = this.#dataCodec(actor);
    this.#codecs.set(actorName, codec);
    return codec;
  }

  // --- services ---------------------------------------------------------------------------

  async #fromStored(stored: StoredService): Promise<ServiceRecord> {
    return this.#withData(
      stored,
      this.#codecs.get(stored.actor) ?? await this.#codecOf(stored.actor),
    );
  }

  /**
   * The service of a record just decoded (an object of its own), its data decoded in place: no
   * copy of the record per service, and no wait when the actor's codec is known (a listing of
   * 10,000 services otherwise waited 20,000 times).
   */
  #withData(stored: StoredService, codec: ServiceDataCodec): ServiceRecord {
    try {
      const service = stored as unknown as ServiceRecord;
      service.data = codec.decode(stored.data);
      return service;
    } catch (cause) {
      throw new CorruptRecordError(serviceRecordKey(stored.key), {
        service: serviceName(stored.role, stored.name),
        cause,
      });
    }
  }

  /** Decodes the service record stored under `recordKey` with its data. */
  async #service(recordKey: string, bytes: Uint8Array): Promise<ServiceRecord> {
    return await this.#fromStored(this.#decode<StoredService>("service", recordKey, bytes));
  }

  /** One service by its key, or null: one query (plus its actor's, the first time). */
  async loadService(key: string): Promise<ServiceRecord | null> {
    const bytes = await this.driver.get(serviceRecordKey(key));
    if (!bytes) return null;
    return await this.#service(serviceRecordKey(key), bytes);
  }

  /** One service by `role` and `instance`, or null. */
  loadServiceByName(role: string, instance: string): Promise<ServiceRecord | null> {
    return this.loadService(serviceKey(this.repoName, role, instance));
  }

  /**
   * Lets go of the bytes a scan with `keepDue` kept of these services (written meanwhile by
   * another store object: an update would meet its guard's conflict and read them again).
   */
  forgetScanned(keys: Iterable<string>): void {
    for (const key of keys) this.#scanned.delete(key);
  }

  /**
   * Every service of the repository: one bulk query (plus one for the actors). A corrupted
   * service record throws its {@link CorruptRecordError}; {@link RepoStore.scanServices} reads
   * around it.
   */
  async loadServices(options: ScanServicesOptions = {}): Promise<ServiceRecord[]> {
    const { services, corrupt } = await this.scanServices(options);
    if (corrupt.length > 0) throw corrupt[0];
    return services;
  }

  /**
   * Every service that can be decoded, and the errors of the service records that cannot
   * (docs/store.md, "A corrupted record"): `ays list` and `ays show` show the rest.
   */
  async scanServices(options: ScanServicesOptions = {}): Promise<ServiceScan> {
    const { keepDue = false } = options;
    const [rows] = await Promise.all([
      this.driver.getByPrefix(SERVICE_PREFIX),
      this.#actors.size === 0 ? this.loadActors() : Promise.resolve(),
    ]);
    const services: ServiceRecord[] = [];
    const corrupt: CorruptRecordError[] = [];
    for (const row of rows) {
      try {
        const stored = this.#decode<StoredService>("service", row.key, row.value);
        const codec = this.#codecs.get(stored.actor) ?? await this.#codecOf(stored.actor);
        const service = this.#withData(stored, codec);
        if (keepDue && hasDueAction(service)) {
          // A copy: the caller owns (and may change) the record it is given.
          this.#scanned.set(service.key, { bytes: row.value, record: plainCopy(service) });
        }
        services.push(service);
      } catch (error) {
        if (!(error instanceof CorruptRecordError)) throw error;
        corrupt.push(error);
      }
    }
    return { services, corrupt };
  }

  /**
   * Every service without its actions and event filters (one bulk query), and a way to read
   * any of them whole: what an apply needs, which reads the actions and filters only of the
   * services it changes or whose actions a blueprint names (docs/blueprints.md, "How stored
   * services are read"). A re-apply of 10,010 services that changes nothing decodes about a
   * third less. The records' bytes are held until the heads are let go. A corrupted record
   * throws its {@link CorruptRecordError}, as {@link RepoStore.loadServices} does.
   */
  async loadServiceHeads(): Promise<ServiceHeads> {
    const [rows] = await Promise.all([
      this.driver.getByPrefix(SERVICE_PREFIX),
      this.#actors.size === 0 ? this.loadActors() : Promise.resolve(),
    ]);
    const services: ServiceRecord[] = [];
    const bytesOf = new Map<string, Uint8Array>();
    const codecs = new Map<string, ServiceDataCodec>();
    for (const row of rows) {
      let head: ServiceHead;
      try {
        head = this.#records.decodeServiceHead(row.value);
      } catch (cause) {
        throw new CorruptRecordError(row.key, { cause });
      }
      const codec = this.#codecs.get(head.actor) ?? await this.#codecOf(head.actor);
      codecs.set(head.actor, codec);
      services.push(this.#withData(head as StoredService, codec));
      bytesOf.set(head.key, row.value);
    }
    const whole = (service: ServiceRecord): ServiceRecord => {
      const recordKey = serviceRecordKey(service.key);
      const bytes = bytesOf.get(service.key);
      if (!bytes) throw new Error(`loadServiceHeads: ${recordKey} is not one of the heads read`);
      const stored = this.#decode<StoredService>("service", recordKey, bytes);
      const codec = codecs.get(stored.actor);
      if (!codec) throw new CorruptRecordError(recordKey, { service: service.key });
      return this.#withData(stored, codec);
    };
    return { services, whole };
  }

  /**
   * What `ays list` shows of every service (one bulk query): the records' names, relations and
   * action states, read without their data (no actor schema is compiled). A record that cannot
   * be read is returned as its {@link CorruptRecordError}, as {@link RepoStore.scanServices}
   * does.
   */
  async scanServiceSummaries(): Promise<ServiceSummaryScan> {
    const rows = await this.driver.getByPrefix(SERVICE_PREFIX);
    const services: ServiceSummary[] = [];
    const corrupt: CorruptRecordError[] = [];
    for (const row of rows) {
      try {
        services.push(this.#records.decodeServiceSummary(row.value));
      } catch (cause) {
        corrupt.push(new CorruptRecordError(row.key, { cause }));
      }
    }
    return { services, corrupt };
  }

  /**
   * Keys of the services with an action a run may take (the due index, docs/store.md): one
   * query, no service read. Every due action is on one of them.
   */
  async dueServiceKeys(): Promise<string[]> {
    return (await this.driver.listKeys(DUE_PREFIX)).map(lastSegment);
  }

  /** Keys of the services of `actor` (from the index). */
  async serviceKeysOfActor(actor: string): Promise<string[]> {
    return (await this.driver.listKeys(indexPrefix("actor", actor))).map(lastSegment);
  }

  /** Keys of the children of the service `role!name` (from the index). */
  async childKeysOf(parent: string): Promise<string[]> {
    return (await this.driver.listKeys(indexPrefix("parent", parent))).map(lastSegment);
  }

  /**
   * Saves actors and services, and deletes services and actors, in ONE atomic batch with the
   * index entries they need. Reads the previous versions of the services first (one query)
   * to drop index entries that no longer hold; the batch is guarded on those versions, so a
   * concurrent writer in between makes it start over instead of leaving stale index entries.
   */
  async save(change: RecordChange): Promise<void> {
    for (let attempt = 1;; attempt++) {
      const outcome = await this.#trySave(change);
      if (outcome !== "conflict") return;
      if (attempt >= MAX_ATTEMPTS) throw conflictError(attempt);
    }
  }

  /**
   * Read-modify-write of one service without losing a concurrent update: `mutate` gets the
   * current record (a copy) and returns the new one (or null to leave it); the write is
   * guarded on the version `mutate` saw and retried on a conflict. Returns the saved record,
   * or null when there is no such service. `jobs` are saved in the same atomic write as the
   * service (a job's start or end, `job_recorder.ts`) — and only when the service is written.
   */
  async updateService(
    key: string,
    mutate: (service: ServiceRecord) => ServiceRecord | null,
    options: UpdateServiceOptions = {},
  ): Promise<ServiceRecord | null> {
    const { jobs = [] } = options;
    const recordKey = serviceRecordKey(key);
    for (let attempt = 1;; attempt++) {
      // The version this store wrote last (taken: the copy is mutate's), else one read and one
      // decode; what it had before (index entries, parent) is kept aside for the save.
      const known = this.#updated.get(key);
      this.#updated.delete(key);
      const scanned = this.#scanned.get(key);
      this.#scanned.delete(key);
      const bytes = known?.bytes ?? scanned?.bytes ?? await this.driver.get(recordKey);
      if (!bytes) return null;
      const current = known?.record ?? scanned?.record ?? await this.#service(recordKey, bytes);
      const seen: SeenService = { bytes, index: indexKeys(current), parent: current.parent };
      const next = mutate(current);
      if (next === null) return await this.#service(recordKey, bytes);
      if (next.key !== key) throw new InputError(`updateService cannot change a service's key`);
      const { outcome, value } = await this.#saveUpdate(next, seen, jobs);
      if (outcome !== "conflict") {
        this.#updated.set(key, { bytes: value, record: plainCopy(next) });
        return next;
      }
      if (attempt >= MAX_ATTEMPTS) throw conflictError(attempt);
    }
  }

  /**
   * One attempt of an update's save (what {@link RepoStore.save} does for one service the
   * caller read, guarded on the bytes it saw), kept apart from `#trySave`: it runs for every
   * job's start and end, and a small function is compiled fast and runs fast (the JIT took
   * ≈ 0.75 s to optimise `#trySave` during a run of 2,000 jobs). Resolves with the outcome and
   * the service's encoded record.
   */
  async #saveUpdate(
    next: ServiceRecord,
    seen: SeenService,
    jobs: readonly JobRecord[],
  ): Promise<{ outcome: "saved" | "nothing" | "conflict"; value: Uint8Array }> {
    const codec = this.#codecs.get(next.actor) ?? await this.#codecOf(next.actor);
    const value = this.#encode("service", { ...next, data: codec.encode(next.data) });
    const recordKey = serviceRecordKey(next.key);
    const ops: BatchOp[] = [];
    // A service saved as it is stored writes nothing (nor its mirror file).
    const changed = !sameBytes(seen.bytes, value);
    if (changed) ops.push({ op: "set", key: recordKey, value });
    const newIndex = indexKeys(next);
    for (const key of seen.index) if (!newIndex.includes(key)) ops.push({ op: "delete", key });
    for (const key of newIndex) {
      if (!seen.index.includes(key)) ops.push({ op: "set", key, value: EMPTY });
    }
    for (const job of jobs) ops.push(this.#runs.jobOp(job));
    if (ops.length === 0) return { outcome: "nothing", value };
    // A job's service write joins the other writes of the same moment (`write_group.ts`).
    const applied = await this.#group.submit(ops, [{ key: recordKey, value: seen.bytes }]);
    if (!applied) return { outcome: "conflict", value };
    if (changed && this.#mirror) {
      // A moved service needs the whole mirror; otherwise its own file.
      if (seen.parent !== next.parent) await this.refreshMirror();
      else await this.#refreshMirrorOf([next]);
    }
    return { outcome: "saved", value };
  }

  /** One attempt of a save, guarded on the versions of the services it reads. */
  async #trySave(change: RecordChange): Promise<"saved" | "nothing" | "conflict"> {
    const ops: BatchOp[] = [];
    const services = change.services ?? [];
    const deleted = change.deleteServices ?? [];
    for (const actor of change.actors ?? []) {
      ops.push({ op: "set", key: actorKey(actor.name), value: this.#encodeActor(actor) });
    }
    if (change.repo) {
      ops.push({ op: "set", key: REPO_KEY, value: this.#encode("repository", change.repo) });
    }
    for (const name of change.deleteActors ?? []) ops.push({ op: "delete", key: actorKey(name) });

    const touched = [...new Set([...services.map((service) => service.key), ...deleted])];
    // What updateService kept of these is no longer known to be what the store holds.
    for (const key of touched) {
      this.#updated.delete(key);
      this.#scanned.delete(key);
    }
    const read = touched.length === 0
      ? []
      : await this.driver.getMany(touched.map(serviceRecordKey));
    const readByKey = new Map(touched.map((key, i) => [key, read[i]]));
    const guards: BatchGuard[] = [];
    const oldIndex = new Set<string>();
    const previousParent = new Map<string, string | null>();
    // A corrupted record being replaced or deleted (`ays delete`, `ays restore`) cannot say
    // which index entries it had: those are found by its key instead, below.
    const corruptKeys = new Set<string>();
    touched.forEach((key) => {
      const bytes = readByKey.get(key)!;
      guards.push({ key: serviceRecordKey(key), value: bytes });
      if (bytes) {
        let old: StoredService;
        try {
          old = this.#decode<StoredService>("service", serviceRecordKey(key), bytes);
        } catch (error) {
          if (!(error instanceof CorruptRecordError)) throw error;
          corruptKeys.add(key);
          previousParent.set(key, null);
          return;
        }
        previousParent.set(old.key, old.parent);
        for (const indexKey of indexKeys(old)) oldIndex.add(indexKey);
      }
    });
    if (corruptKeys.size > 0) {
      for (const indexKey of await this.driver.listKeys(INDEX_PREFIX)) {
        if (corruptKeys.has(lastSegment(indexKey))) oldIndex.add(indexKey);
      }
    }
    const newIndex = new Set<string>();
    const actorsHere = new Map((change.actors ?? []).map((actor) => [actor.name, actor]));
    const before = new Map(touched.map((key) => [key, readByKey.get(key) ?? null]));
    const deletedKeys = new Set(deleted);
    // New files of a large change are written beside the commit, by the mirror worker
    // (`mirror_stage.ts`), and removed again when the change is not applied.
    const staging = await this.#stageNewFiles(services, {
      isNew: (key) => !before.get(key) && !deletedKeys.has(key),
      actors: actorsHere,
    });
    const changed: ServiceRecord[] = [];
    let secretsMove = false;
    let applied: boolean;
    try {
      // The services whose record really changes: one saved as it is stored writes nothing
      // (a re-apply that changes nothing writes nothing, nor its mirror file).
      for (const service of services) {
        const actor = actorsHere.get(service.actor);
        const codec = actor ? this.#dataCodec(actor) : await this.#codecOf(service.actor);
        const stored: StoredService = { ...service, data: codec.encode(service.data) };
        const value = this.#encode("service", stored);
        for (const key of indexKeys(service)) newIndex.add(key);
        const old = before.get(service.key);
        if (old && !deletedKeys.has(service.key) && sameBytes(old, value)) continue;
        ops.push({ op: "set", key: serviceRecordKey(service.key), value });
        changed.push(service);
        // The worker gets new files as fast as the records are encoded, its requests for the
        // next chunk let in on a turn of the event loop once per chunk of records.
        if (staging?.stage.pump()) await new Promise((resolve) => setImmediate(resolve));
      }
      staging?.stage.flush();
      for (const key of deleted) ops.push({ op: "delete", key: serviceRecordKey(key) });
      for (const key of oldIndex) if (!newIndex.has(key)) ops.push({ op: "delete", key });
      for (const key of newIndex) {
        if (!oldIndex.has(key)) ops.push({ op: "set", key, value: EMPTY });
      }
      // In key order, so SQLite fills its B-tree pages one after the other instead of
      // touching a random page per row (the batch of an apply of 10,000 services: ≈ 220 → 110 ms
      // CPU, the sort included).
      // Stable: writes of the same key keep their order.
      if (ops.length >= SORTED_BATCH_FROM) ops.sort(byKey);
      if (ops.length === 0) {
        await staging?.stage.abort();
        return "nothing";
      }
      // Whether a stored actor's new version hides other fields from its services' files.
      secretsMove = await this.#secretsMove(change.actors ?? []);
      await this.#beforeWrite();
      applied = await this.driver.batch(ops, { guards });
    } catch (error) {
      await staging?.stage.abort();
      throw error;
    }
    if (!applied) {
      await staging?.stage.abort();
      return "conflict";
    }
    for (const actor of change.actors ?? []) this.#remember(actor);
    for (const name of change.deleteActors ?? []) {
      this.#actors.delete(name);
      this.#codecs.delete(name);
    }
    // Only a change that moves or removes something (or changes the secret fields of a
    // stored actor, which shape every file of its services) needs the whole mirror; others —
    // an apply, state updates — write just their actors' and services' own files.
    const structural = deleted.length > 0 || (change.deleteActors ?? []).length > 0 ||
      secretsMove ||
      changed.some((s) => previousParent.has(s.key) && previousParent.get(s.key) !== s.parent);
    const { rest, failed } = staging
      ? await this.#commitStaged(staging, changed)
      : { rest: changed, failed: undefined };
    if (structural) await this.refreshMirror();
    else {
      const fresh = new Set(rest.filter((s) => !before.get(s.key)).map((s) => s.key));
      await this.#refreshMirrorOf(rest, { actors: change.actors ?? [], fresh });
    }
    if (failed) throw failed;
    return "saved";
  }

  /**
   * Hands the mirror files of the services `isNew` (not stored yet) to the mirror worker, when
   * there are at least `stageFrom` of them: those whose parents are all in `services` too (their
   * folders follow from this change alone; others are written after the commit as usual).
   */
  async #stageNewFiles(
    services: readonly ServiceRecord[],
    options: { isNew: (key: string) => boolean; actors: ReadonlyMap<string, ActorRecord> },
  ): Promise<Staging | undefined> {
    const { isNew, actors } = options;
    const threshold = this.#mirror?.stageFrom ?? MIRROR_STAGE_FROM;
    if (!this.#mirror || services.length < threshold) return undefined;
    const byName = new Map(services.map((s) => [serviceName(s.role, s.name), s]));
    const placed = services.filter((service) => {
      if (!isNew(service.key)) return false;
      let at: ServiceRecord | undefined = service;
      for (let depth = 0; at && at.parent !== null; depth++) {
        if (depth > byName.size) return false; // a cycle: the usual path handles it
        at = byName.get(at.parent);
      }
      return at !== undefined;
    });
    if (placed.length < threshold) return undefined;
    const paths = servicePaths(services);
    // Each actor's text maker, its secret fields found once.
    const textOf = new Map<string, (service: ServiceRecord) => string>();
    for (const service of placed) {
      if (textOf.has(service.actor)) continue;
      textOf.set(
        service.actor,
        serviceMirrorTexts(
          actors.get(service.actor) ?? this.#actors.get(service.actor) ??
            (await this.loadActor(service.actor)) ?? undefined,
        ),
      );
    }
    let stage: MirrorStage;
    try {
      stage = MirrorStage.start(this.#mirror.repoPath);
    } catch {
      return undefined; // no worker here: the files are written after the commit
    }
    // Their folders first, made by the worker while the records are encoded.
    stage.folders(placed.map((service) => paths.get(service.key)!));
    // Generated as they are handed over, so the texts of all services are never held at once.
    stage.stage((function* () {
      for (const service of placed) {
        yield [paths.get(service.key)!, textOf.get(service.actor)!(service)];
      }
    })());
    return { stage, keys: new Set(placed.map((service) => service.key)) };
  }

  /**
   * Renames the staged files into place after the commit. Returns the changed services whose
   * files are still to write (all of them when the worker failed), and the files that could
   * not be written when there is no `onMirrorError` to report them to (to throw afterwards,
   * as the mirror's own writes do).
   */
  async #commitStaged(
    staging: Staging,
    changed: readonly ServiceRecord[],
  ): Promise<{ rest: ServiceRecord[]; failed?: MirrorWriteError }> {
    try {
      await staging.stage.commit();
    } catch (error) {
      if (!(error instanceof MirrorWriteError)) return { rest: [...changed] };
      const rest = changed.filter((service) => !staging.keys.has(service.key));
      if (!this.#mirror?.onMirrorError) return { rest, failed: error };
      this.#mirror.onMirrorError(error);
    }
    return { rest: changed.filter((service) => !staging.keys.has(service.key)) };
  }

  /**
   * Whether saving `actors` changes the secret fields of one already stored (a corrupted one
   * counts as changed). Reads nothing without a mirror.
   */
  async #secretsMove(actors: readonly ActorRecord[]): Promise<boolean> {
    if (!this.#mirror || actors.length === 0) return false;
    const keys = actors.map((actor) => actorKey(actor.name));
    const stored = await this.driver.getMany(keys);
    return stored.some((bytes, i) => {
      if (!bytes) return false;
      try {
        return !sameMirrorSecrets(this.#decodeActor(keys[i], bytes), actors[i]);
      } catch {
        return true;
      }
    });
  }

  /**
   * Writes the mirror files of `services` (their ancestors give the folders) and `actors`
   * only; the files of the services keyed in `fresh` (just created) are not read first.
   */
  async #refreshMirrorOf(
    services: readonly ServiceRecord[],
    options: { actors?: readonly ActorRecord[]; fresh?: ReadonlySet<string> } = {},
  ): Promise<void> {
    const { actors = [], fresh = new Set<string>() } = options;
    if (!this.#mirror || (services.length === 0 && actors.length === 0)) return;
    try {
      type Placed = Pick<ServiceRecord, "key" | "role" | "name" | "parent">;
      const known = new Map<string, Placed>();
      for (const service of services) known.set(serviceName(service.role, service.name), service);
      // Load the missing ancestors level by level (one query per level).
      for (let level = 0; level < 64; level++) {
        const missing = [...new Set([...known.values()].map((s) => s.parent))]
          .filter((parent): parent is string => parent !== null && !known.has(parent));
        const keys = missing.flatMap((name) => {
          const parsed = parseServiceName(name);
          return parsed
            ? [serviceRecordKey(serviceKey(this.repoName, parsed.role, parsed.instance))]
            : [];
        });
        if (keys.length === 0) break;
        let found = 0;
        const rows = await this.driver.getMany(keys);
        for (const [i, bytes] of rows.entries()) {
          if (!bytes) continue;
          const ancestor = this.#decode<StoredService>("service", keys[i], bytes);
          known.set(serviceName(ancestor.role, ancestor.name), ancestor);
          found++;
        }
        if (found === 0) break;
      }
      const paths = servicePaths([...known.values()]);
      const files = new Map<string, string>();
      const freshPaths = new Set<string>();
      for (const actor of actors) files.set(actorMirrorPath(actor.name), actorMirrorText(actor));
      for (const service of services) {
        const actor = this.#actors.get(service.actor) ?? (await this.loadActor(service.actor));
        const path = paths.get(service.key)!;
        files.set(path, serviceMirrorText(service, actor ?? undefined));
        if (fresh.has(service.key)) freshPaths.add(path);
      }
      await writeMirrorFiles(this.#mirror.repoPath, files, { fresh: freshPaths });
    } catch (error) {
      if (!this.#mirror.onMirrorError) throw error;
      this.#mirror.onMirrorError(error);
    }
  }

  /**
   * Makes the actors and services of the store exactly these (one atomic batch): those not
   * given are deleted. Runs, jobs and sources are left alone. Used by `ays restore`.
   */
  async replaceAll(content: { actors: ActorRecord[]; services: ServiceRecord[] }): Promise<void> {
    const keep = new Set(content.services.map((service) => service.key));
    const actorNames = new Set(content.actors.map((actor) => actor.name));
    const services = (await this.driver.listKeys(SERVICE_PREFIX))
      .map((key) => key.slice(SERVICE_PREFIX.length));
    const actors = (await this.driver.listKeys(ACTOR_PREFIX))
      .map((key) => key.slice(ACTOR_PREFIX.length));
    await this.save({
      actors: content.actors,
      services: content.services,
      deleteServices: services.filter((key) => !keep.has(key)),
      deleteActors: actors.filter((name) => !actorNames.has(name)),
    });
  }

  /**
   * Rebuilds actors and services from the mirror of the repository at `repoPath`
   * (`ays restore`). Returns what was read, including the secret fields left empty.
   */
  async restoreFromMirror(repoPath: string): Promise<MirrorContent> {
    const content = await readMirror(repoPath);
    await this.replaceAll({ actors: content.actors, services: content.services });
    return content;
  }

  // --- runs and jobs (run_records.ts) ----------------------------------------------------

  /** Saves a run record (its jobs are records of their own). */
  saveRun(run: RunRecord): Promise<void> {
    return this.#runs.saveRun(run);
  }

  /** One run, or null. */
  loadRun(id: string): Promise<RunRecord | null> {
    return this.#runs.loadRun(id);
  }

  /** The runs not final yet (`new`, `running`), newest first, from the open-runs index. */
  openRuns(): Promise<RunRecord[]> {
    return this.#runs.openRuns();
  }

  /** Every run, newest first (one bulk query). */
  listRuns(): Promise<RunRecord[]> {
    return this.#runs.listRuns();
  }

  /** Saves one job record: one small write per state change, never the whole run. */
  saveJob(job: JobRecord): Promise<void> {
    return this.#runs.saveJob(job);
  }

  /** Saves several jobs of runs atomically (e.g. a run's jobs when it is recorded). */
  saveJobs(jobs: readonly JobRecord[]): Promise<void> {
    return this.#runs.saveJobs(jobs);
  }

  /** The jobs of a run (one bulk query), in key order. */
  loadJobs(runId: string): Promise<JobRecord[]> {
    return this.#runs.loadJobs(runId);
  }

  /** One job, or null. */
  loadJob(runId: string, jobId: string): Promise<JobRecord | null> {
    return this.#runs.loadJob(runId, jobId);
  }

  /** Every job of every run and of the recurring actions (one bulk query; `ays jobs`). */
  loadAllJobs(): Promise<JobRecord[]> {
    return this.#runs.loadAllJobs();
  }

  /** Appends a line, or several in one write, to a job's log (capped). */
  appendJobLog(jobId: string, lines: string | readonly string[]): Promise<void> {
    return this.#runs.appendJobLog(jobId, lines);
  }

  /** A job's log lines, oldest first. */
  readJobLog(jobId: string): Promise<string[]> {
    return this.#runs.readJobLog(jobId);
  }

  /** Replaces a job's log with `lines` (a log cut at its cap keeps its tail this way). */
  replaceJobLog(jobId: string, lines: readonly string[]): Promise<void> {
    return this.#runs.replaceJobLog(jobId, lines);
  }

  /** Deletes jobs (of any runs) with their logs. */
  deleteJobs(jobs: readonly Pick<JobRecord, "id" | "runId">[]): Promise<void> {
    return this.#runs.deleteJobs(jobs);
  }

  /** Deletes runs with their jobs and job logs. */
  deleteRuns(ids: readonly string[]): Promise<void> {
    return this.#runs.deleteRuns(ids);
  }

  /** Keeps the `keep` newest runs and deletes the others; returns the deleted ids. */
  pruneRuns(keep: number): Promise<string[]> {
    return this.#runs.pruneRuns(keep);
  }

  /**
   * Removes every record of the repository from the store (`ays destroy`): services, actors,
   * runs, jobs and their logs, sources, indexes and the recorded owner folder — one batch for
   * the records, then the logs — and, when a mirror is configured, its `actors/` and
   * `services/` folders. Returns how many services, actors and runs were removed.
   */
  async destroyAll(): Promise<DestroyCounts> {
    const keys = await this.driver.listKeys("");
    const count = (prefix: string) => keys.filter((key) => key.startsWith(prefix)).length;
    const counts = {
      services: count(SERVICE_PREFIX),
      actors: count(ACTOR_PREFIX),
      runs: count(RUN_PREFIX),
    };
    const jobIds = keys.filter((key) => key.startsWith(JOB_PREFIX)).map(lastSegment);
    if (keys.length > 0) await this.driver.batch(keys.map((key) => ({ op: "delete", key })));
    for (const jobId of jobIds) await this.driver.deleteLog(jobLogName(jobId));
    this.#actors.clear();
    this.#codecs.clear();
    this.#updated.clear();
    this.#scanned.clear();
    if (this.#mirror) await removeMirror(this.#mirror.repoPath);
    return counts;
  }

  // --- action sources ---------------------------------------------------------------------

  /** Keeps the text of an actions file by its SHA-256 (hex), which it returns. */
  async saveActionSource(text: string): Promise<string> {
    const sha = sha256Hex(text);
    const key = sourceKey(sha);
    if ((await this.driver.get(key)) === null) {
      await this.#beforeWrite();
      await this.driver.set(key, new TextEncoder().encode(text));
    }
    return sha;
  }

  /** The text of an actions file by its SHA-256, or null. */
  async loadActionSource(sha: string): Promise<string | null> {
    const bytes = await this.driver.get(sourceKey(sha));
    return bytes ? new TextDecoder().decode(bytes) : null;
  }
}
