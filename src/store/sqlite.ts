/**
 * The embedded store (`docs/store.md`, "SQLite details"): SQLite through `node:sqlite`
 * (`DatabaseSync`, which Bun and Deno both implement), by default in `.ays/store.db`.
 *
 * WAL mode and a busy timeout let the CLI and a daemon share the file; every multi-row change
 * runs in one `BEGIN IMMEDIATE` transaction, so a process killed in the middle leaves all or
 * nothing (SQLite rolls the journal back on the next open). The file is created on the first
 * write only: reading a repository never creates it, and a v8.1 repository whose `.ays` is an
 * empty file gets the folder the first time something is written (`v81_marker.ts`). A file that
 * is not a usable database (damaged, foreign, empty, a folder) or a full disk is exit 4 naming the
 * file (`sqlite_errors.ts`), never an empty repository.
 *
 * Tables are keyed by namespace (the repository name), so one file could serve several
 * repositories, as a Redis server does.
 *
 * @module
 */
import { type Stats, statSync } from "node:fs";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { InputError, UnavailableError } from "../errors.ts";
import {
  type AppendEventsOptions,
  type AppendLogOptions,
  type BatchOp,
  type BatchOptions,
  DEFAULT_EVENT_CAP,
  DEFAULT_LOG_CAP,
  type Holder,
  type KeyValue,
  type LockAttempt,
  type LockInfo,
  type QueueItem,
  type QueueStats,
  type ReadEventsOptions,
  type StoredEvent,
  type StoreDriver,
} from "./driver.ts";
import { isDeadLocalHolder, thisHost } from "./holder.ts";
import { sqliteFailure } from "./sqlite_errors.ts";
import { type StoreLostError, storeLostWhileInUse } from "./store_lost.ts";
import { ensureStoreFolder } from "./v81_marker.ts";
import { WalWriteback, type WalWritebackOptions } from "./wal_writeback.ts";

/** SQLite's page cache per open store, in KiB (`PRAGMA cache_size`). */
const CACHE_KIB = 32 * 1024;

/**
 * WAL pages after which a commit checkpoints (`PRAGMA wal_autocheckpoint`): pages of the file's
 * own size, so up to 64 MiB of WAL for a file of 4 KiB pages and 128 MiB for one of 8 KiB.
 */
const WAL_CHECKPOINT_PAGES = 16_384;

/**
 * Page size of a new store file (`PRAGMA page_size`; a file keeps the one it was made with). At
 * SQLite's 4 KiB a `kv` row holds at most ~1,000 bytes in its page (WITHOUT ROWID rows are index
 * entries): a service record beyond that (more data or actions than the benchmark's ~840-byte
 * records) spills into an overflow page of its own, and a batch of 10,000 records of 1.1 KB
 * took ~3× the CPU (docs/store.md, "SQLite details"). At 8 KiB a row of up to ~2,000 bytes
 * stays in its page.
 */
const NEW_FILE_PAGE_BYTES = 8192;

/** Version of this file's table layout, kept in `PRAGMA user_version`. */
const SQLITE_FORMAT = 2;

/** How long a writer waits for another process' transaction before giving up. */
export const SQLITE_BUSY_TIMEOUT_MS = 10_000;

/** Batch ids are remembered at least this long (see {@link BatchOptions.id}). */
const BATCH_ID_KEEP_MS = 3_600_000;

/** Sorts above every character a key can hold, to bound a prefix range. */
const PREFIX_END = "\u{10FFFF}";

const TABLES = `
CREATE TABLE IF NOT EXISTS kv (
  ns TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,
  PRIMARY KEY (ns, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
  ns TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (ns, name)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS batches (
  ns TEXT NOT NULL, id TEXT NOT NULL, result INTEGER NOT NULL, at INTEGER NOT NULL,
  PRIMARY KEY (ns, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS locks (
  ns TEXT NOT NULL, name TEXT NOT NULL, pid INTEGER NOT NULL, host TEXT NOT NULL,
  holder_id TEXT NOT NULL, acquired_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
  PRIMARY KEY (ns, name)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS queue (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, ns TEXT NOT NULL, queue TEXT NOT NULL,
  id TEXT NOT NULL UNIQUE, value BLOB NOT NULL, deliveries INTEGER NOT NULL DEFAULT 0,
  pid INTEGER, host TEXT, consumer_id TEXT, lease_until INTEGER);
CREATE INDEX IF NOT EXISTS queue_order ON queue (ns, queue, consumer_id, seq);
CREATE TABLE IF NOT EXISTS logs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, ns TEXT NOT NULL, key TEXT NOT NULL,
  text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS logs_key ON logs (ns, key, seq);
CREATE TABLE IF NOT EXISTS events (
  ns TEXT NOT NULL, id INTEGER NOT NULL, data TEXT NOT NULL,
  PRIMARY KEY (ns, id)) WITHOUT ROWID;
`;

/** The meta row holding the id of the last event ever appended (ids are never reused). */
const EVENT_SEQ = "events.seq";

/** Options of {@link openSqliteDriver}. */
export interface SqliteDriverOptions {
  /** The repository namespace (its name). */
  namespace: string;
  /** How the WAL is written back early (defaults of {@link WalWriteback}; tests inject). */
  walWriteback?: WalWritebackOptions;
}

/**
 * A driver over the SQLite file at `path`. Nothing is opened or created until it is used;
 * the file (and its folder) appears on the first write.
 */
export function openSqliteDriver(path: string, options: SqliteDriverOptions): StoreDriver {
  const { namespace, walWriteback = {} } = options;
  return new SqliteDriver(path, namespace, walWriteback);
}

/**
 * The namespaces (repository names) that hold records in the SQLite file at `path`: those with
 * a layout record. `[]` when the file does not exist or has no ays tables.
 */
export function sqliteNamespaces(path: string): string[] {
  if (!storeFileExists(path)) return [];
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path, { timeout: SQLITE_BUSY_TIMEOUT_MS });
    const rows = db.prepare("SELECT DISTINCT ns FROM meta WHERE name = 'layout' ORDER BY ns")
      .all() as { ns: string }[];
    return rows.map((row) => String(row.ns));
  } catch (error) {
    const failure = sqliteFailure(error, path, SQLITE_BUSY_TIMEOUT_MS);
    if (failure instanceof UnavailableError) throw failure;
    // No ays tables (yet): no namespaces.
    return [];
  } finally {
    try {
      db?.close();
    } catch { /* already closed */ }
  }
}

function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) {
    // node:sqlite hands out Uint8Array (Deno) or Buffer (Bun); callers get a plain one.
    return Object.getPrototypeOf(value) === Uint8Array.prototype
      ? value
      : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  throw new TypeError(`expected bytes from sqlite, got ${typeof value}`);
}

function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Whether the store file exists. Something else at its path — a folder, an empty file — is
 * refused (UnavailableError): reading it as an empty repository would hide a lost store.
 */
function storeFileExists(path: string): boolean {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return false;
  }
  if (!stat.isFile()) {
    throw new UnavailableError(`the store ${path} is ${describeKind(stat)}, not a SQLite file`);
  }
  if (stat.size === 0) {
    throw new UnavailableError(
      `the store ${path} is an empty file (0 bytes), not a SQLite database: ` +
        `put the store back from a backup, or remove the file and rebuild it with ays restore`,
    );
  }
  return true;
}

function describeKind(stat: Stats): string {
  return stat.isDirectory() ? "a folder" : "a special file";
}

class SqliteDriver implements StoreDriver {
  readonly kind = "sqlite" as const;
  readonly location: string;
  readonly namespace: string;
  readonly #path: string;
  #db: DatabaseSync | null = null;
  #closed = false;
  readonly #statements = new Map<string, StatementSync>();
  /** Set once the layout record was seen: from then on every write checks it still exists. */
  #layoutSeen = false;
  /** Set when a write found the layout record gone: every later call fails with it. */
  #lost: StoreLostError | null = null;
  /** Writes the WAL back while commits come in, so the checkpoint at close waits less. */
  readonly #walWriteback: WalWriteback;
  /** The connection's `total_changes()` at the last commit handed to the writeback. */
  #changesSeen = 0;

  constructor(path: string, namespace: string, walWriteback: WalWritebackOptions) {
    this.#path = path;
    this.location = path;
    this.namespace = namespace;
    this.#walWriteback = new WalWriteback(`${path}-wal`, walWriteback);
  }

  /** The open database; null for a read when the file does not exist yet. */
  #open(write: boolean): DatabaseSync | null {
    if (this.#closed) throw new Error("the store is closed");
    if (this.#lost) throw this.#lost;
    if (this.#db) return this.#db;
    const exists = storeFileExists(this.#path);
    if (!exists && !write) return null;
    let db: DatabaseSync | undefined;
    try {
      if (!exists) ensureStoreFolder(this.#path);
      db = new DatabaseSync(this.#path, { timeout: SQLITE_BUSY_TIMEOUT_MS });
      // Only takes before the first table is made (and never once in WAL mode): a new file.
      if (!exists) db.exec(`PRAGMA page_size = ${NEW_FILE_PAGE_BYTES}`);
      db.exec("PRAGMA journal_mode = WAL");
      db.exec("PRAGMA synchronous = NORMAL");
      db.exec("PRAGMA foreign_keys = OFF");
      // The default 2 MiB page cache misses on a run's store (a 7 MB file after 2,000 jobs:
      // ~4,400 page reads per run); pages are held only as they are read (docs/store.md).
      db.exec(`PRAGMA cache_size = -${CACHE_KIB}`);
      // Checkpoints every WAL_CHECKPOINT_PAGES instead of SQLite's 1,000: a run of 2,000 jobs
      // writes ~8,000 WAL frames, and each checkpoint copies the pages (and waits for an fsync)
      // on the run's path; fewer copy each page once. Commits are in the WAL all the same.
      db.exec(`PRAGMA wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
      this.#prepareTables(db);
    } catch (error) {
      try {
        db?.close();
      } catch { /* already closed */ }
      if (error instanceof InputError) throw error;
      const failure = sqliteFailure(error, this.#path, SQLITE_BUSY_TIMEOUT_MS);
      if (failure instanceof UnavailableError) throw failure;
      throw new UnavailableError(
        `cannot open the store ${this.#path}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    this.#db = db;
    return db;
  }

  /** Checks the table format and creates the tables of a new file. */
  #prepareTables(db: DatabaseSync): void {
    const format = Number(
      (db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version,
    );
    if (format > SQLITE_FORMAT) {
      throw new InputError(
        `the store ${this.#path} has table format ${format}, newer than this ays knows ` +
          `(${SQLITE_FORMAT}); use a newer ays`,
      );
    }
    if (format < SQLITE_FORMAT) {
      this.#transaction(db, () => {
        db.exec(TABLES);
        db.exec(`PRAGMA user_version = ${SQLITE_FORMAT}`);
      });
    }
  }

  #stmt(db: DatabaseSync, sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #run(sql: string, ...params: SQLInputValue[]) {
    const db = this.#open(true)!;
    const result = this.#guarded(() => {
      this.#checkLayout(db);
      return this.#stmt(db, sql).run(...params);
    });
    this.#committed(db);
    return result;
  }

  /**
   * The lost-store guard (`store_lost.ts`): once the layout record was seen, a write to a store
   * that no longer has it stops this driver for good.
   */
  #checkLayout(db: DatabaseSync): void {
    if (!this.#layoutSeen) return;
    const row = this.#stmt(db, "SELECT 1 AS present FROM meta WHERE ns = ? AND name = 'layout'")
      .get(this.namespace);
    if (row) return;
    this.#lost = storeLostWhileInUse(this.kind, this.location);
    throw this.#lost;
  }

  #all(sql: string, ...params: SQLInputValue[]): Record<string, unknown>[] {
    const db = this.#open(false);
    if (!db) return [];
    return this.#guarded(() => this.#stmt(db, sql).all(...params) as Record<string, unknown>[]);
  }

  #getRow(sql: string, ...params: SQLInputValue[]): Record<string, unknown> | undefined {
    const db = this.#open(false);
    if (!db) return undefined;
    return this.#guarded(() => this.#stmt(db, sql).get(...params) as Record<string, unknown>);
  }

  /**
   * Runs `fn`, turning failures of the file or the machine (busy after the timeout, damaged,
   * disk full, I/O) into an UnavailableError naming the store file.
   */
  #guarded<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      throw sqliteFailure(error, this.#path, SQLITE_BUSY_TIMEOUT_MS);
    }
  }

  /** Runs `fn` in one write transaction (taken up front, so it never upgrades). */
  #transaction<T>(db: DatabaseSync, fn: () => T): T {
    const result = this.#guarded(() => {
      db.exec("BEGIN IMMEDIATE");
      try {
        const result = fn();
        db.exec("COMMIT");
        return result;
      } catch (error) {
        // A failed COMMIT (disk full) may leave the transaction open; a failing ROLLBACK must
        // not hide the first error.
        try {
          if (db.isTransaction) db.exec("ROLLBACK");
        } catch { /* the first error is the one to report */ }
        throw error;
      }
    });
    // Outside the try: the commit has happened, whatever the hint after it does.
    this.#committed(db);
    return result;
  }

  /**
   * Tells the early writeback of a commit that changed rows. Commits that changed none (a poll
   * of an empty queue: the daemon's, five times a second) wrote no WAL frame and are not counted,
   * so an idle daemon never syncs. Never throws: the commit has happened.
   */
  #committed(db: DatabaseSync): void {
    try {
      const { n } = this.#stmt(db, "SELECT total_changes() AS n").get() as { n: number | bigint };
      const total = Number(n);
      if (total === this.#changesSeen) return;
      this.#changesSeen = total;
    } catch {
      return;
    }
    this.#walWriteback.committed();
  }

  #write<T>(fn: (db: DatabaseSync) => T): T {
    const db = this.#open(true)!;
    return this.#transaction(db, () => {
      this.#checkLayout(db);
      return fn(db);
    });
  }

  get(key: string): Promise<Uint8Array | null> {
    return settle(() => {
      const row = this.#getRow(
        "SELECT value FROM kv WHERE ns = ? AND key = ?",
        this.namespace,
        key,
      );
      return row ? toBytes(row.value) : null;
    });
  }

  set(key: string, value: Uint8Array): Promise<void> {
    return settle(() => {
      checkKey(key);
      this.#run(
        "INSERT INTO kv (ns, key, value) VALUES (?, ?, ?) " +
          "ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value",
        this.namespace,
        key,
        value,
      );
    });
  }

  delete(key: string): Promise<boolean> {
    return settle(() => {
      if (!this.#open(false)) return false;
      const result = this.#run("DELETE FROM kv WHERE ns = ? AND key = ?", this.namespace, key);
      return Number(result.changes) > 0;
    });
  }

  getMany(keys: readonly string[]): Promise<(Uint8Array | null)[]> {
    return settle(() => {
      if (keys.length === 0) return [];
      const found = new Map<string, Uint8Array>();
      // json_each keeps it one statement for any number of keys (no 32k variables limit).
      // CROSS JOIN keeps json_each the outer loop: with a plain JOIN the planner scans every
      // key of the namespace and probes the keys list (150× slower at a few thousand keys).
      const rows = this.#all(
        "SELECT kv.key AS key, kv.value AS value FROM json_each(?) AS j " +
          "CROSS JOIN kv ON kv.ns = ? AND kv.key = j.value",
        JSON.stringify(keys),
        this.namespace,
      );
      for (const row of rows) found.set(row.key as string, toBytes(row.value));
      return keys.map((key) => found.get(key) ?? null);
    });
  }

  listKeys(prefix: string): Promise<string[]> {
    return settle(() => {
      const rows = this.#all(
        "SELECT key FROM kv WHERE ns = ? AND key >= ? AND key < ? ORDER BY key",
        this.namespace,
        prefix,
        prefix + PREFIX_END,
      );
      return rows.map((row) => row.key as string);
    });
  }

  getByPrefix(prefix: string): Promise<KeyValue[]> {
    return settle(() => {
      const rows = this.#all(
        "SELECT key, value FROM kv WHERE ns = ? AND key >= ? AND key < ? ORDER BY key",
        this.namespace,
        prefix,
        prefix + PREFIX_END,
      );
      return rows.map((row) => ({ key: row.key as string, value: toBytes(row.value) }));
    });
  }

  batch(ops: Iterable<BatchOp>, options: BatchOptions = {}): Promise<boolean> {
    return settle(() => {
      const ns = this.namespace;
      const result = this.#write((db) => {
        const now = Date.now();
        if (options.id !== undefined) {
          const seen = this.#stmt(db, "SELECT result FROM batches WHERE ns = ? AND id = ?")
            .get(ns, options.id) as { result: number } | undefined;
          if (seen) return seen.result === 1;
        }
        let ok = true;
        for (const guard of options.guards ?? []) {
          const row = this.#stmt(db, "SELECT value FROM kv WHERE ns = ? AND key = ?")
            .get(ns, guard.key) as { value: unknown } | undefined;
          if (!sameBytes(row ? toBytes(row.value) : null, guard.value)) {
            ok = false;
            break;
          }
        }
        if (ok) {
          const put = this.#stmt(
            db,
            "INSERT INTO kv (ns, key, value) VALUES (?, ?, ?) " +
              "ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value",
          );
          const del = this.#stmt(db, "DELETE FROM kv WHERE ns = ? AND key = ?");
          // Iterated inside the transaction: a generator may still be producing ops here.
          for (const op of ops) {
            checkKey(op.key);
            if (op.op === "set") put.run(ns, op.key, op.value);
            else del.run(ns, op.key);
          }
        }
        if (options.id !== undefined) {
          this.#stmt(db, "INSERT INTO batches (ns, id, result, at) VALUES (?, ?, ?, ?)")
            .run(ns, options.id, ok ? 1 : 0, now);
          this.#stmt(db, "DELETE FROM batches WHERE at < ?").run(now - BATCH_ID_KEEP_MS);
        }
        return ok;
      });
      return result;
    });
  }

  acquireLock(name: string, holder: Holder, ttlMs: number): Promise<LockAttempt> {
    return settle(() => {
      const ns = this.namespace;
      const attempt = this.#write((db): LockAttempt => {
        const now = Date.now();
        const current = this.#readLockRow(db, name);
        let tookOverFrom: Holder | undefined;
        if (current && current.holder.id !== holder.id) {
          const lapsed = current.expiresAt <= now;
          if (!lapsed && !isDeadLocalHolder(current.holder)) {
            return { acquired: false, lock: current };
          }
          tookOverFrom = current.holder;
        }
        const acquiredAt = current && current.holder.id === holder.id ? current.acquiredAt : now;
        this.#stmt(
          db,
          "INSERT INTO locks (ns, name, pid, host, holder_id, acquired_at, expires_at) " +
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (ns, name) DO UPDATE SET " +
            "pid = excluded.pid, host = excluded.host, holder_id = excluded.holder_id, " +
            "acquired_at = excluded.acquired_at, expires_at = excluded.expires_at",
        ).run(ns, name, holder.pid, holder.host, holder.id, acquiredAt, now + ttlMs);
        const lock: LockInfo = { name, holder: { ...holder }, acquiredAt, expiresAt: now + ttlMs };
        return tookOverFrom ? { acquired: true, lock, tookOverFrom } : { acquired: true, lock };
      });
      return attempt;
    });
  }

  #readLockRow(db: DatabaseSync, name: string): LockInfo | null {
    const row = this.#stmt(db, "SELECT * FROM locks WHERE ns = ? AND name = ?")
      .get(this.namespace, name) as Record<string, unknown> | undefined;
    if (!row) return null;
    return {
      name,
      holder: { pid: Number(row.pid), host: String(row.host), id: String(row.holder_id) },
      acquiredAt: Number(row.acquired_at),
      expiresAt: Number(row.expires_at),
    };
  }

  heartbeatLock(name: string, holderId: string, ttlMs: number): Promise<boolean> {
    return settle(() => {
      if (!this.#open(false)) return false;
      const now = Date.now();
      // A lapsed lock is not revived: someone else may have seen it free.
      const result = this.#run(
        "UPDATE locks SET expires_at = ? WHERE ns = ? AND name = ? AND holder_id = ? " +
          "AND expires_at > ?",
        now + ttlMs,
        this.namespace,
        name,
        holderId,
        now,
      );
      return Number(result.changes) > 0;
    });
  }

  releaseLock(name: string, holderId: string): Promise<boolean> {
    return settle(() => {
      if (!this.#open(false)) return false;
      const result = this.#run(
        "DELETE FROM locks WHERE ns = ? AND name = ? AND holder_id = ?",
        this.namespace,
        name,
        holderId,
      );
      return Number(result.changes) > 0;
    });
  }

  readLock(name: string): Promise<LockInfo | null> {
    return settle(() => {
      const db = this.#open(false);
      if (!db) return null;
      const lock = this.#guarded(() => this.#readLockRow(db, name));
      return lock && lock.expiresAt > Date.now() ? lock : null;
    });
  }

  push(queue: string, value: Uint8Array): Promise<string> {
    return settle(() => {
      const id = crypto.randomUUID();
      this.#run(
        "INSERT INTO queue (ns, queue, id, value) VALUES (?, ?, ?, ?)",
        this.namespace,
        queue,
        id,
        value,
      );
      return id;
    });
  }

  pop(queue: string, consumer: Holder, leaseMs: number): Promise<QueueItem | null> {
    return settle(() => {
      if (!this.#open(false)) return null;
      const ns = this.namespace;
      const item = this.#write((db): QueueItem | null => {
        const now = Date.now();
        const free =
          "UPDATE queue SET pid = NULL, host = NULL, consumer_id = NULL, lease_until = NULL " +
          "WHERE ns = ? AND queue = ? AND consumer_id IS NOT NULL";
        this.#stmt(db, `${free} AND lease_until <= ?`).run(ns, queue, now);
        const local = this.#stmt(
          db,
          "SELECT DISTINCT pid, host, consumer_id FROM queue " +
            "WHERE ns = ? AND queue = ? AND consumer_id IS NOT NULL AND host = ?",
        ).all(ns, queue, thisHost()) as { pid: number; host: string; consumer_id: string }[];
        for (const owner of local) {
          const holder = { pid: Number(owner.pid), host: owner.host, id: owner.consumer_id };
          if (isDeadLocalHolder(holder)) {
            this.#stmt(db, `${free} AND consumer_id = ?`).run(ns, queue, owner.consumer_id);
          }
        }
        const row = this.#stmt(
          db,
          "SELECT seq, id, value, deliveries FROM queue " +
            "WHERE ns = ? AND queue = ? AND consumer_id IS NULL ORDER BY seq LIMIT 1",
        ).get(ns, queue) as Record<string, unknown> | undefined;
        if (!row) return null;
        const leaseUntil = now + leaseMs;
        const deliveries = Number(row.deliveries) + 1;
        this.#stmt(
          db,
          "UPDATE queue SET pid = ?, host = ?, consumer_id = ?, lease_until = ?, deliveries = ? " +
            "WHERE seq = ?",
        ).run(consumer.pid, consumer.host, consumer.id, leaseUntil, deliveries, row.seq as number);
        return { id: String(row.id), value: toBytes(row.value), deliveries, leaseUntil };
      });
      return item;
    });
  }

  ack(queue: string, itemId: string, consumerId: string): Promise<boolean> {
    return settle(() => {
      if (!this.#open(false)) return false;
      const result = this.#run(
        "DELETE FROM queue WHERE ns = ? AND queue = ? AND id = ? AND consumer_id = ?",
        this.namespace,
        queue,
        itemId,
        consumerId,
      );
      return Number(result.changes) > 0;
    });
  }

  release(queue: string, itemId: string, consumerId: string): Promise<boolean> {
    return settle(() => {
      if (!this.#open(false)) return false;
      // The item keeps its sequence number, so it is the next one handed out.
      const result = this.#run(
        "UPDATE queue SET pid = NULL, host = NULL, consumer_id = NULL, lease_until = NULL " +
          "WHERE ns = ? AND queue = ? AND id = ? AND consumer_id = ?",
        this.namespace,
        queue,
        itemId,
        consumerId,
      );
      return Number(result.changes) > 0;
    });
  }

  heartbeatQueue(queue: string, consumerId: string, leaseMs: number): Promise<number> {
    return settle(() => {
      if (!this.#open(false)) return 0;
      const now = Date.now();
      const result = this.#run(
        "UPDATE queue SET lease_until = ? WHERE ns = ? AND queue = ? AND consumer_id = ? " +
          "AND lease_until > ?",
        now + leaseMs,
        this.namespace,
        queue,
        consumerId,
        now,
      );
      return Number(result.changes);
    });
  }

  queueStats(queue: string): Promise<QueueStats> {
    return settle(() => {
      const row = this.#getRow(
        "SELECT COUNT(*) - COUNT(consumer_id) AS pending, COUNT(consumer_id) AS inflight " +
          "FROM queue WHERE ns = ? AND queue = ?",
        this.namespace,
        queue,
      );
      return {
        pending: Number(row?.pending ?? 0),
        inFlight: Number(row?.inflight ?? 0),
      };
    });
  }

  appendLog(
    key: string,
    lines: string | readonly string[],
    options: AppendLogOptions = {},
  ): Promise<void> {
    return settle(() => {
      const cap = options.maxLines ?? DEFAULT_LOG_CAP;
      const ns = this.namespace;
      const texts = typeof lines === "string" ? [lines] : lines;
      if (texts.length === 0) return;
      this.#write((db) => {
        const insert = this.#stmt(db, "INSERT INTO logs (ns, key, text) VALUES (?, ?, ?)");
        for (const text of texts) insert.run(ns, key, text);
        this.#stmt(
          db,
          "DELETE FROM logs WHERE ns = ? AND key = ? AND seq <= (SELECT seq FROM logs " +
            "WHERE ns = ? AND key = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)",
        ).run(ns, key, ns, key, cap);
      });
    });
  }

  readLog(key: string): Promise<string[]> {
    return settle(() => {
      const rows = this.#all(
        "SELECT text FROM logs WHERE ns = ? AND key = ? ORDER BY seq",
        this.namespace,
        key,
      );
      return rows.map((row) => String(row.text));
    });
  }

  deleteLog(key: string): Promise<void> {
    return settle(() => {
      if (this.#open(false)) {
        this.#run("DELETE FROM logs WHERE ns = ? AND key = ?", this.namespace, key);
      }
    });
  }

  appendEvents(data: readonly string[], options: AppendEventsOptions = {}): Promise<number> {
    return settle(() => {
      const cap = options.maxEvents ?? DEFAULT_EVENT_CAP;
      const ns = this.namespace;
      if (data.length === 0) return this.#lastEventId() + 1;
      return this.#write((db) => {
        const row = this.#stmt(db, "SELECT value FROM meta WHERE ns = ? AND name = ?")
          .get(ns, EVENT_SEQ) as { value: string } | undefined;
        const first = Number(row?.value ?? 0) + 1;
        const insert = this.#stmt(db, "INSERT INTO events (ns, id, data) VALUES (?, ?, ?)");
        data.forEach((text, i) => insert.run(ns, first + i, text));
        const last = first + data.length - 1;
        this.#stmt(
          db,
          "INSERT INTO meta (ns, name, value) VALUES (?, ?, ?) " +
            "ON CONFLICT (ns, name) DO UPDATE SET value = excluded.value",
        ).run(ns, EVENT_SEQ, String(last));
        // Ids are consecutive, so the cap is a bound on the id.
        this.#stmt(db, "DELETE FROM events WHERE ns = ? AND id <= ?").run(ns, last - cap);
        return first;
      });
    });
  }

  readEvents(after: number, options: ReadEventsOptions = {}): Promise<StoredEvent[]> {
    return settle(() => {
      const rows = this.#all(
        "SELECT id, data FROM events WHERE ns = ? AND id > ? ORDER BY id LIMIT ?",
        this.namespace,
        after,
        options.limit ?? 1000,
      );
      return rows.map((row) => ({ id: Number(row.id), data: String(row.data) }));
    });
  }

  lastEventId(): Promise<number> {
    return settle(() => this.#lastEventId());
  }

  #lastEventId(): number {
    const row = this.#getRow(
      "SELECT value FROM meta WHERE ns = ? AND name = ?",
      this.namespace,
      EVENT_SEQ,
    );
    return Number(row?.value ?? 0);
  }

  pruneEvents(before: number): Promise<number> {
    return settle(() => {
      if (!this.#open(false)) return 0;
      const result = this.#run(
        "DELETE FROM events WHERE ns = ? AND id < ?",
        this.namespace,
        before,
      );
      return Number(result.changes);
    });
  }

  getLayoutVersion(): Promise<number | null> {
    return settle(() => {
      const row = this.#getRow(
        "SELECT value FROM meta WHERE ns = ? AND name = 'layout'",
        this.namespace,
      );
      if (!row && this.#layoutSeen) {
        this.#lost = storeLostWhileInUse(this.kind, this.location);
        throw this.#lost;
      }
      if (row) this.#layoutSeen = true;
      return row ? Number(row.value) : null;
    });
  }

  setLayoutVersion(version: number): Promise<void> {
    return settle(() => {
      this.#write((db) =>
        this.#stmt(
          db,
          "INSERT INTO meta (ns, name, value) VALUES (?, 'layout', ?) " +
            "ON CONFLICT (ns, name) DO UPDATE SET value = excluded.value",
        ).run(this.namespace, String(version))
      );
      this.#layoutSeen = true;
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    // The early sync under way ends first: the checkpoint's own fsync then has less to wait for,
    // and no sync of this driver's is left running when it says it is closed.
    await this.#walWriteback.settled();
    this.#statements.clear();
    this.#db?.close();
    this.#db = null;
  }
}

/** Runs a synchronous body as a promise, so failures reject instead of throwing. */
function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error);
  }
}

function checkKey(key: string): void {
  // "~" is reserved for the Redis driver's own keys; refused here too so both agree.
  if (typeof key !== "string" || key.length === 0 || key.startsWith("~")) {
    throw new InputError(
      `a store key must be a non-empty string not starting with "~", got ${JSON.stringify(key)}`,
    );
  }
}
