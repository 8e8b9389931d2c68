/**
 * A worker of the fleet (docs/fleet.md, "`ays worker`"): takes jobs from the BullMQ queues of
 * its labels (and `default`) on the shared Redis and runs each in its own local pool of Web
 * Workers — the same job API, `job.exec` on this machine — with the attempt's timeout, its
 * cancellation and kill, its log streamed back as it is written; then answers with the
 * attempt's outcome. It registers itself with a heartbeat, and on {@link FleetWorker.stop}
 * takes no new jobs, lets the running ones finish and leaves.
 *
 * A worker with a fleet key refuses jobs that are not signed with it. It fetches the
 * template files a job names by hash from the repository's store once, checks their hash and
 * keeps them in its cache folder; the job's repository folder is a work folder of its own
 * (`<workDir>/<repo>`), since the worker has no checkout of the repository.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { type ConnectionOptions, type Job, UnrecoverableError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { type JobOutcome, type JobRequest, WorkerPool } from "../run/mod.ts";
import { InputError } from "../errors.ts";
import { loadTemplateTree, openRedisDriver, type StoreDriver } from "../store/mod.ts";
import { fleetConnection, fleetSettings } from "./connection.ts";
import {
  cancelledKey,
  checkLabel,
  CONTROL_CHANNEL,
  DEFAULT_LABEL,
  FLEET_PREFIX,
  queueName,
} from "./names.ts";
import { decodePayload, type FleetPayload, RefusedJobError } from "./payload.ts";
import {
  HEARTBEAT_MS,
  putWorker,
  readWorker,
  removeWorker,
  WORKER_TTL_MS,
  type WorkerInfo,
} from "./registry.ts";
import { cacheTree } from "./template_tree.ts";
import {
  type ControlMessage,
  failedOutcome,
  type FleetResult,
  parseControl,
  type ProgressData,
} from "./wire.ts";

/** A worker joined or left the fleet (what the event stream records as worker.joined/left). */
export interface FleetWorkerEvent {
  type: "worker.joined" | "worker.left";
  worker: WorkerInfo;
}

/** Options of {@link FleetWorker.start}. */
export interface FleetWorkerOptions {
  /** Its name in the fleet (`AYS_WORKER` of its jobs); default the host name. */
  name?: string;
  /** Labels it serves besides `default`. */
  labels?: string[];
  /** Jobs at once (default 10). */
  concurrency?: number;
  /** `AYS_FLEET_KEY`: refuse jobs not signed with it. */
  key?: string;
  /** Where template trees are cached by hash. */
  cacheDir: string;
  /** Where the jobs' repository folders are (`<workDir>/<repo>`). */
  workDir: string;
  /** A line of the worker's own log (stdout of `ays worker`). */
  log?: (line: string) => void;
  /** worker.joined and worker.left. */
  onEvent?: (event: FleetWorkerEvent) => void;
  /** How long a job's lock lasts without renewal: a worker gone this long loses its jobs. */
  lockMs?: number;
  /** How often stalled jobs are looked for. */
  stalledCheckMs?: number;
  /** The job worker entry of the local pool (tests). */
  poolSpecifier?: string;
}

interface Running {
  cancel: AbortController;
  kill: AbortController;
  /** It has a slot of the worker's concurrency (before that, it waits for one). */
  started: boolean;
}

/**
 * How long a control message for a job this worker does not hold is kept: it may have come
 * before the job itself (the coordinator cancels a job a worker is just taking).
 */
const EARLY_CONTROL_MS = 60_000;

/** The most such messages kept (the oldest go first). */
const EARLY_CONTROL_MAX = 10_000;

/** A running `ays worker`. */
export class FleetWorker {
  readonly #redis: Redis;
  readonly #subscriber: Redis;
  readonly #url: string;
  readonly #options: FleetWorkerOptions;
  readonly #pool: WorkerPool;
  readonly #info: WorkerInfo;
  readonly #workers: Worker[] = [];
  readonly #running = new Map<string, Running>();
  /** Control messages for jobs it did not hold when they came, by job id. */
  readonly #early = new Map<string, { message: ControlMessage; at: number }>();
  /** The template trees of this worker's cache, by hash, once checked or written. */
  readonly #trees = new Map<string, Promise<string>>();
  /** The work folders of repositories, once made. */
  readonly #workFolders = new Set<string>();
  readonly #drivers = new Map<string, Promise<StoreDriver>>();
  readonly #log: (line: string) => void;
  #slots: number;
  readonly #waiting: (() => void)[] = [];
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #stopping: Promise<void> | null = null;

  private constructor(
    url: string,
    redis: Redis,
    subscriber: Redis,
    info: WorkerInfo,
    options: FleetWorkerOptions,
  ) {
    this.#url = url;
    this.#redis = redis;
    this.#subscriber = subscriber;
    this.#info = info;
    this.#options = options;
    this.#log = options.log ?? (() => {});
    this.#slots = info.concurrency;
    this.#pool = new WorkerPool({ size: info.concurrency, specifier: options.poolSpecifier });
  }

  /**
   * Connects, registers and starts taking jobs. InputError (exit 2) for a bad name, label or
   * concurrency, or when a live worker has the name; UnavailableError when Redis cannot be
   * reached.
   */
  static async start(url: string, options: FleetWorkerOptions): Promise<FleetWorker> {
    const { labels = [], concurrency = 10, name = hostname() } = options;
    fleetSettings(url);
    checkLabel(name, "worker name");
    for (const label of labels) checkLabel(label, "--label");
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new InputError(
        `--concurrency must be a whole number of at least 1, not ${concurrency}`,
      );
    }
    const log = options.log ?? (() => {});
    let lost = false;
    const redis = await fleetConnection(url, {
      onError: (message) => {
        if (!lost) {
          log(`lost the connection to Redis (${message}): taking no jobs until it is back`);
        }
        lost = true;
      },
      onReady: () => {
        if (lost) log("connected to Redis again: taking jobs");
        lost = false;
      },
    });
    const existing = await readWorker(redis, name);
    if (existing && Date.now() - existing.heartbeat <= WORKER_TTL_MS) {
      redis.disconnect();
      throw new InputError(
        `a worker named ${name} is live (pid ${existing.pid} on ${existing.host}): give this one another --name`,
      );
    }
    const now = Date.now();
    const info: WorkerInfo = {
      name,
      host: hostname(),
      pid: process.pid,
      labels: [...new Set([...labels, DEFAULT_LABEL])],
      concurrency,
      running: 0,
      startedAt: now,
      heartbeat: now,
      instance: randomUUID(),
      signed: Boolean(options.key),
    };
    const subscriber = redis.duplicate();
    subscriber.on("error", () => {});
    const worker = new FleetWorker(url, redis, subscriber, info, options);
    await worker.#begin();
    return worker;
  }

  /** Its registration as it stands. */
  get info(): WorkerInfo {
    return { ...this.#info, running: this.#runningCount() };
  }

  #runningCount(): number {
    let n = 0;
    for (const r of this.#running.values()) if (r.started) n++;
    return n;
  }

  async #begin(): Promise<void> {
    await this.#pool.warm();
    await putWorker(this.#redis, this.#info);
    this.#heartbeat = setInterval(() => void this.#beat(), HEARTBEAT_MS);
    await this.#subscriber.subscribe(CONTROL_CHANNEL);
    this.#subscriber.on("message", (_channel: string, text: string) => {
      const message = parseControl(text);
      if (!message) return;
      const running = this.#running.get(message.id);
      if (running) this.#control(message.id, running, message);
      else this.#keepEarly(message);
    });
    const settings = fleetSettings(this.#url);
    for (const label of this.#info.labels) {
      const worker = new Worker(queueName(label), (job) => this.#process(job), {
        connection: { ...settings, maxRetriesPerRequest: null } as ConnectionOptions,
        prefix: FLEET_PREFIX,
        concurrency: this.#info.concurrency,
        // Kept with the job (`processedBy`): the coordinator reads it instead of a message.
        name: this.#info.name,
        lockDuration: this.#options.lockMs ?? 10_000,
        stalledInterval: this.#options.stalledCheckMs ?? 5_000,
        // A stalled job is an interrupted attempt, not a failure: hand it on again and again.
        maxStalledCount: 1000,
      });
      worker.on("error", () => {});
      this.#workers.push(worker);
    }
    this.#log(
      `worker ${this.#info.name} on ${this.#info.host} joined the fleet: labels ${
        this.#info.labels.join(", ")
      }, concurrency ${this.#info.concurrency}${this.#options.key ? ", signed jobs only" : ""}`,
    );
    this.#emit("worker.joined");
  }

  async #beat(): Promise<void> {
    this.#info.heartbeat = Date.now();
    this.#info.running = this.#runningCount();
    await putWorker(this.#redis, this.#info).catch(() => {});
  }

  #emit(type: FleetWorkerEvent["type"]): void {
    try {
      this.#options.onEvent?.({ type, worker: this.info });
    } catch {
      // An observer must never break the worker.
    }
  }

  /** A cancel or kill reaches the job's `job.signal` (once; a coordinator may repeat it). */
  #control(id: string, running: Running, message: ControlMessage): void {
    const controller = message.kind === "kill" ? running.kill : running.cancel;
    if (controller.signal.aborted) return;
    this.#log(`job ${id}: ${message.kind === "kill" ? "killed" : "cancelled"} by its coordinator`);
    controller.abort(new Error(message.reason));
  }

  /** A control message for a job not (yet) here: kept a while, in case the job comes next. */
  #keepEarly(message: ControlMessage): void {
    const now = Date.now();
    for (const [id, early] of this.#early) {
      if (now - early.at <= EARLY_CONTROL_MS && this.#early.size < EARLY_CONTROL_MAX) break;
      this.#early.delete(id);
    }
    const kept = this.#early.get(message.id);
    // A kill outranks a cancel of the same job.
    if (kept?.message.kind === "kill" && message.kind === "cancel") return;
    this.#early.delete(message.id);
    this.#early.set(message.id, { message, at: now });
  }

  /** One slot of the worker's concurrency, shared by the queues of all its labels. */
  async #acquire(): Promise<void> {
    if (this.#slots > 0) {
      this.#slots--;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#slots++;
  }

  async #process(job: Job): Promise<FleetResult> {
    let payload: FleetPayload;
    try {
      payload = decodePayload(job.data, this.#options.key);
    } catch (error) {
      if (!(error instanceof RefusedJobError)) throw error;
      this.#log(`job ${job.id}: ${error.message}`);
      throw new UnrecoverableError(`worker ${this.#info.name} ${error.message}`);
    }
    const id = String(job.id);
    // Held from here: a cancellation that comes while the job waits for a slot reaches it.
    const running: Running = {
      cancel: new AbortController(),
      kill: new AbortController(),
      started: false,
    };
    this.#running.set(id, running);
    const early = this.#early.get(id);
    if (early) {
      this.#early.delete(id);
      this.#control(id, running, early.message);
    }
    let acquired = false;
    const r = payload.request;
    const what = `${r.service.role}!${r.service.name} ${r.action} (run ${r.runId})`;
    try {
      await this.#acquire();
      acquired = true;
      running.started = true;
      // A job handed on by stalled-job recovery may have been cancelled long ago, by a
      // coordinator gone since: its mark says so. A first attempt learns of a cancellation
      // from the control channel (the coordinator repeats it until the job is back).
      const handedOn = job.stalledCounter > 0 || job.attemptsStarted > 1;
      if (
        running.cancel.signal.aborted || running.kill.signal.aborted ||
        (handedOn && (await this.#redis.get(cancelledKey(id))) !== null)
      ) {
        return { outcome: this.#failed(r, "cancelled before it started", { cancelled: true }) };
      }
      this.#log(`job ${id}: ${what} started`);
      let request: JobRequest;
      try {
        request = await this.#prepare(payload);
      } catch (error) {
        const message = `worker ${this.#info.name} could not prepare the job: ${
          (error as Error).message
        }`;
        this.#log(`job ${id}: ${message}`);
        return { outcome: this.#failed(r, message) };
      }
      const stream = new LogStream(job);
      const outcome = await this.#pool.run(request, {
        timeoutMs: payload.timeoutMs,
        isolation: payload.isolation,
        signal: running.cancel.signal,
        kill: running.kill.signal,
        onLog: (text) => stream.push(text),
      });
      await stream.close();
      const how = outcome.ok
        ? "ok"
        : outcome.timedOut
        ? "timed out"
        : outcome.cancelled
        ? "cancelled"
        : "error";
      this.#log(`job ${id}: ${what} ${how} in ${(outcome.millis / 1000).toFixed(2)} s`);
      return { outcome: { ...outcome, worker: this.#info.name } };
    } finally {
      this.#running.delete(id);
      if (acquired) this.#release();
    }
  }

  /** The request as it runs here: the cached template, a work folder, `AYS_WORKER`. */
  async #prepare(payload: FleetPayload): Promise<JobRequest> {
    const request = payload.request;
    const repoPath = join(this.#options.workDir, request.repo.name);
    if (!this.#workFolders.has(repoPath)) {
      await mkdir(repoPath, { recursive: true });
      this.#workFolders.add(repoPath);
    }
    const here = async (sha: string | null | undefined, path: string | null) =>
      sha && path !== null
        ? join(await this.#tree(request.repo.name, sha), ...path.split("/"))
        : null;
    const actionsPath = await here(payload.tree, request.actionsPath);
    // The ancestors' actions files from their trees too: the executor walk reads them.
    // (A coordinator before this version sent no trees for them: its paths are left as sent.)
    const ancestors = request.ancestors === undefined || payload.ancestorTrees === undefined
      ? request.ancestors
      : await Promise.all(
        request.ancestors.map(async (a, i) => ({
          ...a,
          actionsPath: await here(payload.ancestorTrees?.[i], a.actionsPath),
        })),
      );
    return {
      ...request,
      actionsPath,
      ...(ancestors === undefined ? {} : { ancestors }),
      repo: { name: request.repo.name, path: repoPath },
      worker: this.#info.name,
    };
  }

  /** The folder of template tree `sha` in the cache, fetched from `repo`'s store once. */
  #tree(repo: string, sha: string): Promise<string> {
    let folder = this.#trees.get(sha);
    if (!folder) {
      folder = cacheTree(this.#options.cacheDir, sha, {
        load: async () => {
          const driver = await this.#driver(repo);
          const files = await loadTemplateTree(driver, sha);
          if (!files) throw new Error(`the store has no template files ${sha}`);
          return files;
        },
      });
      this.#trees.set(sha, folder);
      folder.catch(() => this.#trees.delete(sha));
    }
    return folder;
  }

  #driver(repo: string): Promise<StoreDriver> {
    let driver = this.#drivers.get(repo);
    if (!driver) {
      driver = openRedisDriver(this.#url, { namespace: repo });
      this.#drivers.set(repo, driver);
      driver.catch(() => this.#drivers.delete(repo));
    }
    return driver;
  }

  #failed(
    request: JobRequest,
    message: string,
    flags: { cancelled?: boolean } = {},
  ): JobOutcome {
    return failedOutcome(request, message, { ...flags, worker: this.#info.name });
  }

  /**
   * Takes no new jobs, lets the running ones finish (with `force`, kills them), leaves the
   * fleet and closes its connections.
   */
  stop(options: { force?: boolean } = {}): Promise<void> {
    if (options.force) {
      for (const running of this.#running.values()) {
        running.kill.abort(new Error("the worker was stopped"));
      }
    }
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const n = this.#running.size;
    this.#log(
      `stopping: taking no new jobs${
        n > 0 ? `, finishing ${n} running job${n === 1 ? "" : "s"}` : ""
      }`,
    );
    await Promise.all(this.#workers.map((w) => w.close().catch(() => {})));
    clearInterval(this.#heartbeat);
    await removeWorker(this.#redis, this.#info).catch(() => {});
    this.#emit("worker.left");
    await this.#pool.close();
    for (const driver of this.#drivers.values()) {
      await driver.then((d) => d.close(), () => {});
    }
    this.#subscriber.disconnect();
    this.#redis.disconnect();
    this.#log(`worker ${this.#info.name} left the fleet`);
  }
}

/**
 * A running job's log, sent back as progress events: at most one in flight, what comes
 * meanwhile is sent with the next one (a chatty action costs few Redis calls).
 */
class LogStream {
  readonly #job: Job;
  #pending = "";
  #sending: Promise<void> | null = null;

  constructor(job: Job) {
    this.#job = job;
  }

  push(text: string): void {
    this.#pending += text;
    this.#kick();
  }

  #kick(): void {
    if (this.#sending || this.#pending === "") return;
    const text = this.#pending;
    this.#pending = "";
    this.#sending = this.#job.updateProgress({ t: "log", text } satisfies ProgressData)
      .catch(() => {
        // The live log is a view; the outcome carries the log's tail anyway.
      })
      .finally(() => {
        this.#sending = null;
        this.#kick();
      });
  }

  async close(): Promise<void> {
    while (this.#sending) await this.#sending;
  }
}
