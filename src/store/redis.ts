/**
 * The shared store (`docs/store.md`): Redis through ioredis, for several processes and
 * machines sharing one repository's state. `redis://[user:pass@]host:port/db`, `rediss://` for TLS.
 *
 * Key layout (namespace `ays:<repo>:`; `docs/store.md` has the full table):
 * - `ays:<repo>:<key>` — a value, e.g. `ays:web:service:<32 hex>`;
 * - `ays:<repo>:~keys` — sorted set of every key (score 0), the prefix index (ZRANGEBYLEX);
 * - `ays:<repo>:~meta` — hash: the `layout` version, which every guarded write checks exists
 *   (`store_lost.ts`);
 * - `ays:<repo>:~batch:<id>` — result of an applied batch, one hour, so a re-send is a no-op;
 * - `ays:<repo>:~lock:<name>` — lock record (JSON), with a PX expiry;
 * - `ays:<repo>:~q:<queue>:{pending,items,inflight,owner,deliveries}` — a reliable queue;
 * - `ays:<repo>:~pop:<id>` — the item a pop request handed out, so a re-send is harmless;
 * - `ays:<repo>:~log:<key>` — a capped list of log lines;
 * - `ays:<repo>:~events` — sorted set of the event log (score = id, member `<id> <data>`),
 *   `ays:<repo>:~events:seq` the last id given, `ays:<repo>:~events:append:<id>` an append's
 *   marker.
 *
 * Every multi-key change is a Lua script carrying an id that the script records in the same
 * atomic step, so when ioredis re-sends it after a reconnect it is not applied twice.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import * as diagnostics from "node:diagnostics_channel";
import { Redis, type RedisOptions } from "ioredis";
import { InputError, UnavailableError } from "../errors.ts";
import { completeTracingChannel } from "../runtime.ts";
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
import { maskUrl, parseRedisUrl, redact } from "./url.ts";
import { planBatch } from "./redis_batch_plan.ts";
import * as lua from "./redis_scripts.ts";
import { STORE_LOST_REPLY, StoreLostError, storeLostWhileInUse } from "./store_lost.ts";

/** Batch and pop markers live this long (seconds): far longer than any reconnect. */
const MARKER_TTL_S = 3600;

/** Options of {@link openRedisDriver}. */
export interface RedisDriverOptions {
  /** The repository namespace (its name); keys are `ays:<namespace>:…`. */
  namespace: string;
  /** Give up connecting after this long. Default 3000 ms. */
  connectTimeoutMs?: number;
  /**
   * Reconnect attempts after a lost connection before commands fail with UnavailableError
   * (about 200 ms apart, growing to 1 s). Default 20 (≈ 17 s, enough for a Redis restart).
   */
  maxReconnects?: number;
}

/**
 * Connects to the Redis at `url` and returns a driver bound to one repository namespace.
 * Fails fast with UnavailableError (password masked) when the server cannot be reached or
 * refuses the credentials.
 */
export async function openRedisDriver(
  url: string,
  options: RedisDriverOptions,
): Promise<StoreDriver> {
  const settings = parseRedisUrl(url);
  const driver = new RedisDriver(url, settings, options);
  await driver.connect();
  return driver;
}

/** The scripts, as ioredis' defineCommand adds them (EVALSHA, EVAL on NOSCRIPT). */
type ScriptArg = string | Buffer | number;
/** ioredis flattens nested arrays, which keeps huge batches out of the JS argument list. */
type Script = (...args: (ScriptArg | ScriptArg[])[]) => Promise<unknown>;
interface Scripts {
  aysBatch: Script;
  aysGetByPrefixBuffer: Script;
  aysLockAcquire: Script;
  aysLockTakeover: Script;
  aysLockHeartbeat: Script;
  aysLockRelease: Script;
  aysLockRead: Script;
  aysQueuePush: Script;
  aysQueuePopBuffer: Script;
  aysQueueRequeue: Script;
  aysQueueAck: Script;
  aysQueueRelease: Script;
  aysQueueHeartbeat: Script;
  aysLogAppend: Script;
  aysEventsAppend: Script;
  aysLayoutSet: Script;
}

const SCRIPTS: Record<string, string> = {
  aysBatch: lua.BATCH_LUA,
  aysGetByPrefix: lua.GET_BY_PREFIX_LUA,
  aysLockAcquire: lua.LOCK_ACQUIRE_LUA,
  aysLockTakeover: lua.LOCK_TAKEOVER_LUA,
  aysLockHeartbeat: lua.LOCK_HEARTBEAT_LUA,
  aysLockRelease: lua.LOCK_RELEASE_LUA,
  aysLockRead: lua.LOCK_READ_LUA,
  aysQueuePush: lua.QUEUE_PUSH_LUA,
  aysQueuePop: lua.QUEUE_POP_LUA,
  aysQueueRequeue: lua.QUEUE_REQUEUE_LUA,
  aysQueueAck: lua.QUEUE_ACK_LUA,
  aysQueueRelease: lua.QUEUE_RELEASE_LUA,
  aysQueueHeartbeat: lua.QUEUE_HEARTBEAT_LUA,
  aysLogAppend: lua.LOG_APPEND_LUA,
  aysEventsAppend: lua.EVENTS_APPEND_LUA,
  aysLayoutSet: lua.LAYOUT_SET_LUA,
};

/** A copy as a plain Uint8Array: the parser's buffers may be views into reused memory. */
function bytesOf(value: Buffer | Uint8Array): Uint8Array {
  return new Uint8Array(value);
}

/** A Buffer view of bytes (ioredis sends only Buffers as binary; other objects as text). */
function toBuffer(value: Uint8Array): Buffer {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

function textOf(value: unknown): string {
  return Buffer.isBuffer(value) ? value.toString("utf8") : String(value);
}

function parseLock(name: string, record: string, msLeft: number, now: number): LockInfo {
  const parsed = JSON.parse(record) as Holder & { acquiredAt: number };
  return {
    name,
    holder: { pid: parsed.pid, host: parsed.host, id: parsed.id },
    acquiredAt: Number(parsed.acquiredAt),
    expiresAt: now + Math.max(0, Number(msLeft)),
  };
}

class RedisDriver implements StoreDriver {
  readonly kind = "redis" as const;
  readonly location: string;
  readonly namespace: string;
  readonly #prefix: string;
  readonly #password: string | undefined;
  readonly #client: Redis;
  readonly #scripts: Scripts;
  #everReady = false;
  #lastError: Error | null = null;
  #closing = false;
  /** Set once the layout record was seen: from then on every write checks it still exists. */
  #layoutSeen = false;
  /** Set when a guarded write found the layout record gone: every later call fails. */
  #lost: StoreLostError | null = null;

  constructor(url: string, settings: RedisOptions, options: RedisDriverOptions) {
    // Without it, Bun's ioredis decodes every argument of every command to a string.
    completeTracingChannel(diagnostics);
    this.location = maskUrl(url);
    this.namespace = options.namespace;
    this.#prefix = `ays:${options.namespace}:`;
    this.#password = settings.password;
    const maxReconnects = options.maxReconnects ?? 20;
    this.#client = new Redis({
      ...settings,
      lazyConnect: true,
      connectTimeout: options.connectTimeoutMs ?? 3000,
      maxRetriesPerRequest: maxReconnects,
      enableOfflineQueue: true,
      // Never retry the first connection (the CLI must not hang); after it, a bounded number
      // of reconnects rides out a server restart.
      retryStrategy: (times: number) => {
        if (!this.#everReady || this.#closing || times > maxReconnects) return null;
        return Math.min(times * 200, 1000);
      },
    });
    // Without a listener ioredis prints "Unhandled error event" (with the address) itself.
    this.#client.on("error", (error: Error) => (this.#lastError = error));
    this.#client.on("ready", () => (this.#everReady = true));
    for (const [name, script] of Object.entries(SCRIPTS)) {
      this.#client.defineCommand(name, { lua: script });
    }
    this.#scripts = this.#client as unknown as Scripts;
  }

  /** Connects once; UnavailableError (masked) when the server is unreachable. */
  async connect(): Promise<void> {
    try {
      await this.#client.connect();
    } catch (error) {
      this.#client.disconnect();
      const reason = this.#reason(this.#lastError ?? error);
      throw new UnavailableError(`cannot reach the store ${this.location}: ${reason}`, {
        cause: this.#masked(error),
      });
    }
  }

  #reason(error: unknown): string {
    const message = error instanceof Error ? error.message : String(error);
    return redact(maskUrl(message), this.#password);
  }

  #masked(error: unknown): Error {
    return new Error(this.#reason(error));
  }

  /** Runs one Redis call; a connection failure becomes UnavailableError, password masked. */
  async #call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.#closing) throw new Error("the store is closed");
    if (this.#lost) throw this.#lost;
    try {
      return await fn();
    } catch (error) {
      if (error instanceof InputError || error instanceof StoreLostError) throw error;
      const name = (error as Error)?.name ?? "";
      if (name === "ReplyError" && String((error as Error).message).startsWith(STORE_LOST_REPLY)) {
        this.#lost ??= storeLostWhileInUse(this.kind, this.location);
        throw this.#lost;
      }
      // Refusals that say the server cannot serve now (auth, loading, replica, out of memory,
      // persistence failing) are "unavailable"; any other reply error is a bug of ours.
      const unavailable = /NOAUTH|WRONGPASS|LOADING|READONLY|OOM|MISCONF|BUSY|MASTERDOWN/;
      if (name === "ReplyError" && !unavailable.test(String(error))) {
        throw new Error(`redis ${what} failed: ${this.#reason(error)}`, {
          cause: this.#masked(error),
        });
      }
      throw new UnavailableError(
        `the store ${this.location} is unavailable (${what}): ${this.#reason(error)}`,
        { cause: this.#masked(error) },
      );
    }
  }

  #k(key: string): string {
    return this.#prefix + key;
  }

  #q(queue: string, part: string): string {
    return `${this.#prefix}~q:${queue}:${part}`;
  }

  /** The lost-store guard flag of a write: '1' once the layout record was seen. */
  #guard(): string {
    return this.#layoutSeen ? "1" : "0";
  }

  get(key: string): Promise<Uint8Array | null> {
    return this.#call("get", async () => {
      const value = await this.#client.getBuffer(this.#k(key));
      return value ? bytesOf(value) : null;
    });
  }

  async set(key: string, value: Uint8Array): Promise<void> {
    await this.batch([{ op: "set", key, value }]);
  }

  async delete(key: string): Promise<boolean> {
    const result = await this.#batch([{ op: "delete", key }], {});
    return result.deleted > 0;
  }

  getMany(keys: readonly string[]): Promise<(Uint8Array | null)[]> {
    if (keys.length === 0) return Promise.resolve([]);
    return this.#call("mget", async () => {
      // An array, not spread arguments: engines limit how many arguments a call may take.
      const values = await this.#client.mgetBuffer(keys.map((key) => this.#k(key)));
      return values.map((value) => (value ? bytesOf(value) : null));
    });
  }

  #range(prefix: string): [Buffer | string, Buffer | string] {
    if (prefix === "") return ["-", "+"];
    // 0xff sorts after every byte of a UTF-8 string, so [prefix, prefix+0xff] is the prefix.
    return [
      Buffer.from("[" + prefix, "utf8"),
      Buffer.concat([Buffer.from("[" + prefix, "utf8"), Buffer.from([0xff])]),
    ];
  }

  listKeys(prefix: string): Promise<string[]> {
    return this.#call("zrangebylex", async () => {
      const [min, max] = this.#range(prefix);
      return await this.#client.zrangebylex(this.#k("~keys"), min, max);
    });
  }

  getByPrefix(prefix: string): Promise<KeyValue[]> {
    return this.#call("getByPrefix", async () => {
      const [min, max] = this.#range(prefix);
      const flat = (await this.#scripts.aysGetByPrefixBuffer(
        1,
        this.#k("~keys"),
        min,
        max,
        this.#prefix,
      )) as Buffer[];
      const out: KeyValue[] = [];
      for (let i = 0; i < flat.length; i += 2) {
        out.push({ key: flat[i].toString("utf8"), value: bytesOf(flat[i + 1]) });
      }
      return out;
    });
  }

  async batch(ops: Iterable<BatchOp>, options: BatchOptions = {}): Promise<boolean> {
    return (await this.#batch(ops, options)).ok;
  }

  #batch(ops: Iterable<BatchOp>, options: BatchOptions): Promise<{ ok: boolean; deleted: number }> {
    const id = options.id ?? crypto.randomUUID();
    const prefix = this.#prefix;
    const plan = planBatch(ops, options.guards ?? [], { prefix });
    const keys = [prefix + "~keys", `${prefix}~batch:${id}`, prefix + "~meta", ...plan.keys];
    // Bytes as Buffer views (ioredis sends other objects as text); index names as text.
    const args = plan.args.map((arg) => typeof arg === "string" ? arg : toBuffer(arg));
    return this.#call("batch", async () => {
      const [ok, deleted] = (await this.#scripts.aysBatch(
        keys.length,
        keys,
        String(MARKER_TTL_S),
        this.#guard(),
        plan.guardKinds,
        plan.steps,
        args,
      )) as [number, number];
      return { ok: Number(ok) === 1, deleted: Number(deleted) };
    });
  }

  async acquireLock(name: string, holder: Holder, ttlMs: number): Promise<LockAttempt> {
    const key = this.#k(`~lock:${name}`);
    const holderJson = JSON.stringify({ pid: holder.pid, host: holder.host, id: holder.id });
    const ttl = String(Math.max(1, Math.round(ttlMs)));
    // A few rounds: between reading a dead holder and taking over, another process may win.
    for (let round = 0; round < 5; round++) {
      const [got, record, msLeft, now] = await this.#call(
        "lock",
        async () =>
          (await this.#scripts.aysLockAcquire(
            2,
            key,
            this.#k("~meta"),
            holderJson,
            holder.id,
            ttl,
            this.#guard(),
          )) as [
            number,
            string,
            number,
            number,
          ],
      );
      const lock = parseLock(name, record, msLeft, now);
      if (Number(got) === 1) return { acquired: true, lock };
      if (!isDeadLocalHolder(lock.holder)) return { acquired: false, lock };
      const taken = await this.#call(
        "lock",
        async () =>
          (await this.#scripts.aysLockTakeover(1, key, record, holderJson, ttl)) as unknown[],
      );
      if (Number(taken[0]) === 1) {
        const [, rec, left, at] = taken as [number, string, number, number];
        return { acquired: true, lock: parseLock(name, rec, left, at), tookOverFrom: lock.holder };
      }
    }
    const current = await this.readLock(name);
    if (current) return { acquired: false, lock: current };
    return this.acquireLock(name, holder, ttlMs);
  }

  heartbeatLock(name: string, holderId: string, ttlMs: number): Promise<boolean> {
    return this.#call("lock heartbeat", async () =>
      Number(
        await this.#scripts.aysLockHeartbeat(
          2,
          this.#k(`~lock:${name}`),
          this.#k("~meta"),
          holderId,
          String(Math.max(1, Math.round(ttlMs))),
          this.#guard(),
        ),
      ) === 1);
  }

  releaseLock(name: string, holderId: string): Promise<boolean> {
    return this.#call(
      "lock release",
      async () =>
        Number(await this.#scripts.aysLockRelease(1, this.#k(`~lock:${name}`), holderId)) === 1,
    );
  }

  readLock(name: string): Promise<LockInfo | null> {
    return this.#call("lock read", async () => {
      const [record, msLeft, now] = (await this.#scripts.aysLockRead(
        1,
        this.#k(`~lock:${name}`),
      )) as [string | null, number, number];
      return record ? parseLock(name, record, msLeft, now) : null;
    });
  }

  push(queue: string, value: Uint8Array): Promise<string> {
    const id = crypto.randomUUID();
    return this.#call("queue push", async () => {
      await this.#scripts.aysQueuePush(
        3,
        this.#q(queue, "pending"),
        this.#q(queue, "items"),
        this.#k("~meta"),
        id,
        toBuffer(value),
        this.#guard(),
      );
      return id;
    });
  }

  #queueKeys(queue: string): string[] {
    return ["pending", "items", "inflight", "owner", "deliveries"].map((part) =>
      this.#q(queue, part)
    );
  }

  /** Puts back the items held by consumers on this host whose process is gone. */
  async #requeueDeadLocal(queue: string): Promise<void> {
    const owners = await this.#call(
      "queue owners",
      () => this.#client.hgetall(this.#q(queue, "owner")),
    );
    const host = thisHost();
    for (const [id, ownerJson] of Object.entries(owners)) {
      const owner = JSON.parse(ownerJson) as Holder;
      if (owner.host !== host || !isDeadLocalHolder(owner)) continue;
      await this.#call(
        "queue requeue",
        () =>
          this.#scripts.aysQueueRequeue(4, ...this.#queueKeys(queue).slice(0, 4), id, ownerJson),
      );
    }
  }

  async pop(queue: string, consumer: Holder, leaseMs: number): Promise<QueueItem | null> {
    await this.#requeueDeadLocal(queue);
    const consumerJson = JSON.stringify({
      pid: consumer.pid,
      host: consumer.host,
      id: consumer.id,
    });
    const marker = this.#k(`~pop:${crypto.randomUUID()}`);
    return this.#call("queue pop", async () => {
      const reply = (await this.#scripts.aysQueuePopBuffer(
        6,
        ...this.#queueKeys(queue),
        marker,
        consumerJson,
        String(Math.max(1, Math.round(leaseMs))),
        String(MARKER_TTL_S),
      )) as Buffer[] | null;
      if (!reply) return null;
      return {
        id: textOf(reply[0]),
        value: bytesOf(reply[1]),
        deliveries: Number(textOf(reply[2])),
        leaseUntil: Number(textOf(reply[3])),
      };
    });
  }

  ack(queue: string, itemId: string, consumerId: string): Promise<boolean> {
    const [, items, inflight, owner, deliveries] = this.#queueKeys(queue);
    return this.#call("queue ack", async () =>
      Number(
        await this.#scripts.aysQueueAck(4, items, inflight, owner, deliveries, itemId, consumerId),
      ) === 1);
  }

  release(queue: string, itemId: string, consumerId: string): Promise<boolean> {
    const [pending, , inflight, owner] = this.#queueKeys(queue);
    return this.#call("queue release", async () =>
      Number(
        await this.#scripts.aysQueueRelease(3, pending, inflight, owner, itemId, consumerId),
      ) === 1);
  }

  heartbeatQueue(queue: string, consumerId: string, leaseMs: number): Promise<number> {
    return this.#call("queue heartbeat", async () =>
      Number(
        await this.#scripts.aysQueueHeartbeat(
          2,
          this.#q(queue, "inflight"),
          this.#q(queue, "owner"),
          consumerId,
          String(Math.max(1, Math.round(leaseMs))),
        ),
      ));
  }

  queueStats(queue: string): Promise<QueueStats> {
    return this.#call("queue stats", async () => {
      const replies = await this.#client
        .pipeline()
        .llen(this.#q(queue, "pending"))
        .zcard(this.#q(queue, "inflight"))
        .exec();
      const count = (i: number) => {
        const [error, value] = replies?.[i] ?? [null, 0];
        if (error) throw error;
        return Number(value);
      };
      return { pending: count(0), inFlight: count(1) };
    });
  }

  async appendLog(
    key: string,
    lines: string | readonly string[],
    options: AppendLogOptions = {},
  ): Promise<void> {
    const cap = String(options.maxLines ?? DEFAULT_LOG_CAP);
    const texts = typeof lines === "string" ? [lines] : [...lines];
    if (texts.length === 0) return;
    await this.#call(
      "log append",
      () =>
        this.#scripts.aysLogAppend(
          2,
          this.#k(`~log:${key}`),
          this.#k("~meta"),
          cap,
          this.#guard(),
          texts,
        ),
    );
  }

  readLog(key: string): Promise<string[]> {
    return this.#call("log read", () => this.#client.lrange(this.#k(`~log:${key}`), 0, -1));
  }

  async deleteLog(key: string): Promise<void> {
    await this.#call("log delete", () => this.#client.del(this.#k(`~log:${key}`)));
  }

  async appendEvents(data: readonly string[], options: AppendEventsOptions = {}): Promise<number> {
    if (data.length === 0) return (await this.lastEventId()) + 1;
    const cap = String(options.maxEvents ?? DEFAULT_EVENT_CAP);
    // The marker id makes a re-sent append (after a reconnect) a no-op.
    const marker = this.#k(`~events:append:${crypto.randomUUID()}`);
    const first = await this.#call(
      "events append",
      () =>
        this.#scripts.aysEventsAppend(
          4,
          this.#k("~events"),
          this.#k("~events:seq"),
          marker,
          this.#k("~meta"),
          cap,
          this.#guard(),
          String(MARKER_TTL_S),
          [...data],
        ),
    );
    return Number(first);
  }

  readEvents(after: number, options: ReadEventsOptions = {}): Promise<StoredEvent[]> {
    return this.#call("events read", async () => {
      const members = await this.#client.zrangebyscore(
        this.#k("~events"),
        `(${after}`,
        "+inf",
        "LIMIT",
        0,
        options.limit ?? 1000,
      );
      return members.map((member) => {
        const space = member.indexOf(" ");
        return { id: Number(member.slice(0, space)), data: member.slice(space + 1) };
      });
    });
  }

  lastEventId(): Promise<number> {
    return this.#call(
      "events read",
      async () => Number(await this.#client.get(this.#k("~events:seq")) ?? 0),
    );
  }

  pruneEvents(before: number): Promise<number> {
    return this.#call(
      "events prune",
      () => this.#client.zremrangebyscore(this.#k("~events"), "-inf", `(${before}`),
    );
  }

  getLayoutVersion(): Promise<number | null> {
    return this.#call("meta", async () => {
      const value = await this.#client.hget(this.#k("~meta"), "layout");
      if (value === null && this.#layoutSeen) {
        this.#lost ??= storeLostWhileInUse(this.kind, this.location);
        throw this.#lost;
      }
      if (value !== null) this.#layoutSeen = true;
      return value === null ? null : Number(value);
    });
  }

  async setLayoutVersion(version: number): Promise<void> {
    await this.#call(
      "meta",
      () => this.#scripts.aysLayoutSet(1, this.#k("~meta"), String(version), this.#guard()),
    );
    this.#layoutSeen = true;
  }

  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    try {
      await this.#client.quit();
    } catch {
      this.#client.disconnect();
    }
  }
}
