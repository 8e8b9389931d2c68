/**
 * The coordinator's side of the fleet (docs/fleet.md): a {@link JobRunner} that sends each
 * attempt of a job to the BullMQ queue of its label instead of the local pool, so the walker,
 * the records, retries, `--fail-fast` and Ctrl-C above it stay what they are.
 *
 * One attempt is one BullMQ job. Its payload names the template's files by the hash of their
 * tree (kept in the store); the worker that takes it streams its log back as progress events
 * and answers with the attempt's {@link JobOutcome}. Which job of a repository's
 * `service/action` is with the fleet is recorded (`handedKey`) until its outcome is back: a
 * coordinator that was killed leaves that record behind, and the next run adopts the job —
 * it waits for it, or takes the outcome of a job that finished meanwhile — instead of running
 * it again.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { dirname, relative, sep } from "node:path";
import { type ConnectionOptions, Job, Queue, QueueEvents } from "bullmq";
import type { Redis, RedisOptions } from "ioredis";
import type { JobOutcome, JobRequest, JobRunner, JobRunOptions } from "../run/mod.ts";
import { formatDuration } from "../run/mod.ts";
import { type KeyValueStore, saveTemplateTree } from "../store/mod.ts";
import type { ExecutorSpec } from "../executor/mod.ts";
import { fleetConnection, fleetSettings } from "./connection.ts";
import { actionsLoader, resolveFleetExecutor } from "./fleet_executor.ts";
import { cancelledKey, CONTROL_CHANNEL, FLEET_PREFIX, handedKey, queueName } from "./names.ts";
import { encodePayload, type FleetJobData, type FleetPayload } from "./payload.ts";
import { type ListedWorker, listWorkers, servesLabel } from "./registry.ts";
import type { Router } from "./routing.ts";
import { readTemplateTree } from "./template_tree.ts";
import { TickBatch } from "./tick_batch.ts";
import { type ControlMessage, failedOutcome, parseResult, type ProgressData } from "./wire.ts";

/** Default `--worker-timeout`: how long a job may wait for a worker to take it. */
export const DEFAULT_WORKER_TIMEOUT_MS = 10 * 60 * 1000;

/** Jobs at once by default: the workers' concurrency paces the fleet, not the coordinator. */
export const DEFAULT_FLEET_SIZE = 1000;

/** The longest wait between two checks on a job whose events say nothing (its safety net). */
const MAX_CHECK_EVERY_MS = 60_000;

/** How long finished jobs stay in BullMQ (seconds): a killed coordinator's next run adopts them. */
const KEEP_FINISHED_S = 24 * 3600;

/**
 * How long after a worker took a job its name is read (the job's `processedBy`): a job that
 * stalls was held for at least its lock (10 s), so the name is known when another worker takes
 * it over, and a short job costs no call.
 */
const WHO_RUNS_AFTER_MS = 1000;

/**
 * How often a cancellation is published again while the job is with a worker: a worker that
 * took the job just then, or whose subscription was down, still gets it (docs/fleet.md).
 */
const REPUBLISH_MS = 1000;

/** How often a kill is published again (a killed job's outcome is not waited for). */
const KILL_REPUBLISHES = 3;

/** Options of {@link FleetRunner.open}. */
export interface FleetRunnerOptions {
  /** The repository's name: its jobs and template trees are under it. */
  repo: string;
  /** The repository's store, where template trees are kept (`tree:<sha>`). */
  store: Pick<KeyValueStore, "get" | "set">;
  /** The label of each job. */
  router: Router;
  /** `AYS_FLEET_KEY`: payloads are signed with it when set. */
  key?: string;
  /** Jobs at once (default {@link DEFAULT_FLEET_SIZE}). */
  size?: number;
  /** How long a job waits for a worker to take it before it fails (default 10 min). */
  workerTimeoutMs?: number;
  /**
   * How often jobs are checked on, besides their events (default 5 s): a job is first asked
   * about this long after it was sent, then after twice as long each time, up to a minute.
   */
  pollMs?: number;
  /**
   * What the terminal should show besides the job's log: waiting for a worker of a label, an
   * interrupted attempt handed to another worker, an adopted job (each also a log line).
   */
  onNotice?: (request: JobRequest, text: string) => void;
}

interface Pending {
  id: string;
  label: string;
  request: JobRequest;
  options: JobRunOptions;
  resolve: (outcome: JobOutcome) => void;
  /** The worker that took it last (a second one means the first stopped answering). */
  worker: string | null;
  taken: boolean;
  /** Stalled-job recovery put it back into its queue: the next worker to take it is another. */
  stalled: boolean;
  sentAt: number;
  /** When it is next asked about, in case its events were missed; the wait doubles each time. */
  checkAt: number;
  checkEvery: number;
  timer?: ReturnType<typeof setTimeout>;
  /** Reads the worker's name a while after it took the job; republishes a cancellation. */
  later?: ReturnType<typeof setTimeout>;
  cleanup: () => void;
}

interface Handed {
  id: string;
  label: string;
}

/** A job for the queue of its label, with its record of what is with the fleet. */
interface Outgoing {
  field: string;
  id: string;
  label: string;
  name: string;
  data: FleetJobData;
}

/** Runs jobs on the fleet. Call {@link FleetRunner.close} when done. */
export class FleetRunner implements JobRunner {
  readonly #redis: Redis;
  readonly #settings: RedisOptions;
  readonly #options: FleetRunnerOptions;
  readonly #size: number;
  readonly #workerTimeoutMs: number;
  readonly #queues = new Map<string, Queue>();
  readonly #events = new Map<string, Promise<QueueEvents>>();
  readonly #pending = new Map<string, Pending>();
  readonly #trees = new Map<string, Promise<{ sha: string; root: string }>>();
  /** Imports the actions files of the executor walk, each once. */
  readonly #loadActions = actionsLoader();
  readonly #poll: ReturnType<typeof setInterval>;
  readonly #pollMs: number;
  #checking = false;
  /** The fleet's workers as last read, for a few seconds (every job asks). */
  #workers: { at: number; list: Promise<ListedWorker[] | null> } | null = null;
  /** The records a previous coordinator left (read once, each taken by the job it names). */
  #left: Promise<Map<string, Handed>> | null = null;
  /** Jobs that became ready in the same turn: one round trip for their records and adds. */
  readonly #outgoing = new TickBatch<Outgoing>((items) => this.#sendBatch(items));
  /** Records of jobs whose outcome is back, removed together. */
  readonly #forgetting = new TickBatch<string>((fields) => this.#forgetBatch(fields));
  readonly #republishing = new Set<ReturnType<typeof setTimeout>>();
  #closed = false;

  private constructor(redis: Redis, settings: RedisOptions, options: FleetRunnerOptions) {
    this.#redis = redis;
    this.#settings = settings;
    this.#options = options;
    this.#size = Math.max(1, options.size ?? DEFAULT_FLEET_SIZE);
    this.#workerTimeoutMs = options.workerTimeoutMs ?? DEFAULT_WORKER_TIMEOUT_MS;
    this.#pollMs = options.pollMs ?? 5000;
    this.#poll = setInterval(() => void this.#check(), this.#pollMs);
  }

  /** Connects to the fleet's Redis at `url`; UnavailableError when it cannot be reached. */
  static async open(url: string, options: FleetRunnerOptions): Promise<FleetRunner> {
    const settings = fleetSettings(url);
    if (options.workerTimeoutMs !== undefined && !(options.workerTimeoutMs > 0)) {
      throw new RangeError("workerTimeoutMs must be positive");
    }
    if (options.pollMs !== undefined && !(options.pollMs > 0)) {
      throw new RangeError("pollMs must be positive");
    }
    const redis = await fleetConnection(url);
    return new FleetRunner(redis, settings, options);
  }

  /** How many jobs it has with the fleet at once. */
  get size(): number {
    return this.#size;
  }

  /**
   * Runs one attempt on a worker of the job's label; resolves with its outcome whether the
   * action succeeded or not, rejects only when the fleet cannot be reached.
   */
  async run(request: JobRequest, options: JobRunOptions = {}): Promise<JobOutcome> {
    if (this.#closed) throw new Error("the fleet runner is closed");
    const started = performance.now();
    if (options.kill?.aborted || options.signal?.aborted) {
      return failed(request, "cancelled before it started", started, { cancelled: true });
    }
    const field = `${request.service.key}/${request.action}`;
    const handed = await this.#handed(field);
    if (handed) {
      const adopted = await this.#adopt(handed, request, options);
      if (adopted) return await this.#finish(field, handed.id, adopted);
    }
    // The executor walk runs here, where the ancestors' actions files are (docs/fleet.md).
    let executor: ExecutorSpec;
    try {
      executor = await resolveFleetExecutor(request, { load: this.#loadActions });
    } catch (error) {
      return failed(request, (error as Error).message, started);
    }
    const label = await this.#options.router(request);
    const payload = await this.#payload({ ...request, executor }, label, options);
    const id = `${this.#options.repo}.${randomUUID()}`;
    // The label's events are read from before the job is sent.
    await this.#queue(label);
    const outcome = this.#register(id, label, request, options);
    const data = encodePayload(payload, this.#options.key);
    try {
      await this.#outgoing.add({ field, id, label, name: request.action, data });
    } catch (error) {
      const p = this.#pending.get(id);
      if (p) this.#unregister(p);
      throw error;
    }
    void this.#warnWithoutWorker(id, label);
    return await this.#finish(field, id, await outcome);
  }

  /** Closes the connections; jobs still waiting here end cancelled. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#poll);
    for (const timer of this.#republishing) clearTimeout(timer);
    for (const p of [...this.#pending.values()]) {
      this.#settle(
        p,
        failed(p.request, "cancelled: the fleet runner was closed", p.sentAt, {
          cancelled: true,
        }),
      );
    }
    const events = await Promise.all([...this.#events.values()].map((e) => e.catch(() => null)));
    await Promise.all([
      ...events.map((e) => e?.close().catch(() => {})),
      ...[...this.#queues.values()].map((q) => q.close().catch(() => {})),
    ]);
    this.#redis.disconnect();
  }

  async #finish(field: string, _id: string, outcome: JobOutcome): Promise<JobOutcome> {
    // A closed runner (its run stopped) leaves the record: the next run adopts the job.
    if (this.#closed) return outcome;
    // The outcome is back: the next run has nothing to adopt. A run has one job of a
    // service/action with the fleet at a time, so the record is this job's. It is gone before
    // the outcome is recorded: a run killed in between runs the job again rather than
    // adopting a stale one later.
    await this.#forgetting.add(field);
    return outcome;
  }

  /**
   * The job a previous coordinator left with the fleet for `field`, if any. The records are
   * read once, by the runner's first job (a run holds its repository's lock: no other
   * coordinator adds records meanwhile); each is taken by the first job of its field.
   */
  async #handed(field: string): Promise<Handed | null> {
    this.#left ??= this.#redis.hgetall(handedKey(this.#options.repo)).then(
      (all) => {
        const left = new Map<string, Handed>();
        for (const [f, text] of Object.entries(all)) {
          try {
            const h = JSON.parse(text) as Handed;
            if (typeof h.id === "string" && typeof h.label === "string") left.set(f, h);
          } catch {
            // A record that is not one of ours: nothing to adopt.
          }
        }
        return left;
      },
      (error) => {
        this.#left = null;
        throw error;
      },
    );
    const left = await this.#left;
    const handed = left.get(field) ?? null;
    left.delete(field);
    return handed;
  }

  /**
   * Sends the jobs of one turn: their records, then their adds, queue by queue, pipelined on
   * the one connection — a job is never with the fleet without its record.
   */
  async #sendBatch(items: Outgoing[]): Promise<void> {
    const record: string[] = [];
    const byLabel = new Map<string, Outgoing[]>();
    for (const item of items) {
      record.push(item.field, JSON.stringify({ id: item.id, label: item.label }));
      const list = byLabel.get(item.label);
      if (list) list.push(item);
      else byLabel.set(item.label, [item]);
    }
    const recorded = this.#redis.hset(handedKey(this.#options.repo), ...record);
    const added = [...byLabel].map(async ([label, list]) => {
      const queue = await this.#queue(label);
      await queue.addBulk(list.map((item) => ({
        name: item.name,
        data: item.data,
        opts: {
          jobId: item.id,
          attempts: 1,
          removeOnComplete: { age: KEEP_FINISHED_S },
          removeOnFail: { age: KEEP_FINISHED_S },
        },
      })));
    });
    await Promise.all([recorded, ...added]);
  }

  async #forgetBatch(fields: string[]): Promise<void> {
    await this.#redis.hdel(handedKey(this.#options.repo), ...fields);
  }

  /**
   * A job of this `service/action` that a killed coordinator handed to the fleet: its
   * outcome when it finished meanwhile or once it does, or null when there is none to adopt
   * (gone, failed on the worker's side).
   */
  async #adopt(
    handed: Handed,
    request: JobRequest,
    options: JobRunOptions,
  ): Promise<JobOutcome | null> {
    const queue = await this.#queue(handed.label);
    const outcome = this.#register(handed.id, handed.label, request, options);
    const pending = this.#pending.get(handed.id)!;
    const { state, job } = await stateOf(queue, handed.id);
    if (state === "completed") {
      const result = parseResult(job!.returnvalue, request);
      this.#notice(
        request,
        options,
        "info",
        `adopted: the fleet ran this job while no coordinator was running${
          result.worker ? ` (worker ${result.worker})` : ""
        }`,
      );
      this.#settle(pending, result);
      return outcome;
    }
    if (state === "failed" || state === "unknown") {
      this.#unregister(pending);
      return null;
    }
    pending.taken = state === "active";
    if (pending.taken) clearTimeout(pending.timer);
    this.#notice(
      request,
      options,
      "info",
      `adopted the job a previous coordinator handed to the fleet (${
        state === "active" ? "running on a worker" : "waiting for a worker"
      })`,
    );
    return outcome;
  }

  /** Waits for job `id`: its events, its worker timeout, cancellation and kill. */
  #register(
    id: string,
    label: string,
    request: JobRequest,
    options: JobRunOptions,
  ): Promise<JobOutcome> {
    return new Promise<JobOutcome>((resolve) => {
      const p: Pending = {
        id,
        label,
        request,
        options,
        resolve,
        worker: null,
        taken: false,
        stalled: false,
        sentAt: performance.now(),
        checkAt: performance.now() + this.#pollMs,
        checkEvery: this.#pollMs,
        cleanup: () => {},
      };
      const onCancel = () => void this.#cancel(p, "cancel");
      const onKill = () => void this.#cancel(p, "kill");
      options.signal?.addEventListener("abort", onCancel, { once: true });
      options.kill?.addEventListener("abort", onKill, { once: true });
      p.timer = setTimeout(() => void this.#workerTimeout(p), this.#workerTimeoutMs);
      p.cleanup = () => {
        clearTimeout(p.timer);
        clearTimeout(p.later);
        options.signal?.removeEventListener("abort", onCancel);
        options.kill?.removeEventListener("abort", onKill);
      };
      this.#pending.set(id, p);
      // Aborted while the job was being prepared: no abort event comes any more.
      if (options.kill?.aborted) onKill();
      else if (options.signal?.aborted) onCancel();
    });
  }

  #unregister(p: Pending): void {
    p.cleanup();
    if (this.#pending.get(p.id) === p) this.#pending.delete(p.id);
  }

  #settle(p: Pending, outcome: JobOutcome): void {
    if (this.#pending.get(p.id) !== p) return;
    this.#unregister(p);
    p.resolve(outcome);
  }

  /** The payload of an attempt, its template tree saved in the store first. */
  async #payload(
    request: JobRequest,
    label: string,
    options: JobRunOptions,
  ): Promise<FleetPayload> {
    const own = await this.#tree(request.actionsPath);
    // The ancestors' actions files too (the executor walk of docs/executors.md reads them):
    // a worker has no checkout, only the trees it fetches by hash.
    const ancestors = request.ancestors === undefined
      ? undefined
      : await Promise.all(request.ancestors.map((a) => this.#tree(a.actionsPath)));
    return {
      v: 1,
      request: {
        ...request,
        actionsPath: own.path,
        ...(request.ancestors === undefined ? {} : {
          ancestors: request.ancestors.map((a, i) => ({ ...a, actionsPath: ancestors![i].path })),
        }),
      },
      tree: own.sha,
      ...(ancestors === undefined ? {} : { ancestorTrees: ancestors.map((a) => a.sha) }),
      label,
      ...(options.timeoutMs === undefined || !Number.isFinite(options.timeoutMs)
        ? {}
        : { timeoutMs: options.timeoutMs }),
      ...(options.isolation ? { isolation: options.isolation } : {}),
    };
  }

  /**
   * The template tree of an actions file (its folder's, saved in the store once per runner)
   * and the file's path in it; nulls for no file.
   */
  async #tree(
    actionsPath: string | null,
  ): Promise<{ sha: string | null; path: string | null }> {
    if (!actionsPath) return { sha: null, path: null };
    const folder = dirname(actionsPath);
    let saved = this.#trees.get(folder);
    if (!saved) {
      saved = readTemplateTree(folder).then(async (t) => {
        await saveTemplateTree(this.#options.store, t);
        return { sha: t.sha, root: folder };
      });
      this.#trees.set(folder, saved);
      saved.catch(() => this.#trees.delete(folder));
    }
    const { sha, root } = await saved;
    return { sha, path: relative(root, actionsPath).split(sep).join("/") };
  }

  async #queue(label: string): Promise<Queue> {
    let queue = this.#queues.get(label);
    if (!queue) {
      queue = new Queue(queueName(label), { connection: this.#redis, prefix: FLEET_PREFIX });
      this.#queues.set(label, queue);
    }
    await this.#listen(label);
    return queue;
  }

  /** The label's event stream, read from its current end, before any job is sent to it. */
  #listen(label: string): Promise<QueueEvents> {
    let events = this.#events.get(label);
    if (!events) {
      events = (async () => {
        const stream = `${FLEET_PREFIX}:${queueName(label)}:events`;
        const last = await this.#redis.xrevrange(stream, "+", "-", "COUNT", 1);
        const qe = new QueueEvents(queueName(label), {
          connection: { ...this.#settings, maxRetriesPerRequest: null } as ConnectionOptions,
          prefix: FLEET_PREFIX,
          lastEventId: last[0]?.[0] ?? "0-0",
        });
        qe.on("error", () => {});
        qe.on("active", ({ jobId }) => this.#active(jobId));
        qe.on("stalled", ({ jobId }) => this.#stalled(jobId));
        qe.on("progress", ({ jobId, data }) => this.#progress(jobId, data as ProgressData));
        qe.on("completed", ({ jobId, returnvalue }) => this.#completed(jobId, returnvalue));
        qe.on("failed", ({ jobId, failedReason }) => this.#failed(jobId, failedReason));
        await qe.waitUntilReady();
        return qe;
      })();
      this.#events.set(label, events);
    }
    return events;
  }

  #notice(request: JobRequest, options: JobRunOptions, level: string, text: string): void {
    options.onLog?.(`[${level}] ${text}\n`);
    try {
      this.#options.onNotice?.(request, text);
    } catch {
      // Output must never break a run.
    }
  }

  /**
   * A worker took job `id`. Its name comes with the outcome; it is read only for a job that
   * runs a while (an interrupted attempt names the worker that stopped answering), and at
   * once for a job that another worker takes over after it stalled.
   */
  #active(id: string): void {
    const p = this.#pending.get(id);
    if (!p) return;
    const again = p.stalled;
    p.stalled = false;
    this.#taken(id, null);
    clearTimeout(p.later);
    if (again) void this.#whoRuns(p);
    else p.later = setTimeout(() => void this.#whoRuns(p), WHO_RUNS_AFTER_MS);
  }

  #stalled(id: string): void {
    const p = this.#pending.get(id);
    if (p) p.stalled = true;
  }

  /** Reads which worker holds `p` now (BullMQ's `processedBy` of the job). */
  async #whoRuns(p: Pending): Promise<void> {
    const queue = this.#queues.get(p.label);
    if (!queue || this.#pending.get(p.id) !== p) return;
    const name = await this.#redis.hget(queue.toKey(p.id), "pb").catch(() => null);
    if (name && this.#pending.get(p.id) === p) this.#taken(p.id, name);
  }

  #taken(id: string, worker: string | null): void {
    const p = this.#pending.get(id);
    if (!p) return;
    p.taken = true;
    clearTimeout(p.timer);
    if (worker === null) return;
    if (p.worker !== null && p.worker !== worker) {
      this.#notice(
        p.request,
        p.options,
        "warn",
        `interrupted attempt: worker ${p.worker} stopped answering; running it again on worker ${worker}`,
      );
    }
    p.worker = worker;
  }

  #progress(id: string, data: ProgressData): void {
    const p = this.#pending.get(id);
    if (!p || typeof data !== "object" || data === null) return;
    // Workers before this version said so at each start; the name is read instead now.
    if (data.t === "start" && typeof data.worker === "string") this.#taken(id, data.worker);
    else if (data.t === "log" && typeof data.text === "string") p.options.onLog?.(data.text);
  }

  #completed(id: string, value: unknown): void {
    const p = this.#pending.get(id);
    if (p) this.#settle(p, parseResult(value, p.request));
  }

  #failed(id: string, reason: string): void {
    const p = this.#pending.get(id);
    if (!p) return;
    const who = p.worker ? `worker ${p.worker}` : "the fleet";
    this.#settle(p, failed(p.request, `${who} did not run the job: ${reason}`, p.sentAt));
  }

  /** Cancellation reaches the worker's `job.signal`; a kill ends the job there at once. */
  async #cancel(p: Pending, kind: ControlMessage["kind"]): Promise<void> {
    const queue = this.#queues.get(p.label);
    const reason = p.options.signal?.reason;
    const message: ControlMessage = {
      id: p.id,
      kind,
      reason: reason instanceof Error ? reason.message : "cancelled",
    };
    await this.#redis.set(cancelledKey(p.id), kind, "EX", 3600).catch(() => {});
    const publish = () =>
      this.#redis.publish(CONTROL_CHANNEL, JSON.stringify(message)).catch(() => {});
    await publish();
    // A job no worker took yet is taken out of its queue and never runs.
    const removed = !p.taken && queue ? await removeWaiting(queue, p.id) : false;
    if (!removed) {
      // It is with a worker, or on its way to one: say it again until the worker has it —
      // a cancel until the outcome is back, a kill a few times (its outcome is not waited for).
      let left = kind === "kill" ? KILL_REPUBLISHES : Infinity;
      const again = () => {
        if (this.#closed || left-- <= 0) return;
        if (kind === "cancel" && this.#pending.get(p.id) !== p) return;
        const timer = setTimeout(async () => {
          this.#republishing.delete(timer);
          // A job that was on its way into its queue is there now: taken out, it never runs.
          if (!p.taken && queue && (await removeWaiting(queue, p.id).catch(() => false))) {
            this.#settle(
              p,
              failed(p.request, "cancelled before a worker took it", p.sentAt, {
                cancelled: true,
              }),
            );
            return;
          }
          await publish();
          again();
        }, REPUBLISH_MS);
        this.#republishing.add(timer);
      };
      again();
    }
    if (removed || kind === "kill") {
      this.#settle(
        p,
        failed(
          p.request,
          removed ? "cancelled before a worker took it" : "cancelled: the job was killed",
          p.sentAt,
          {
            cancelled: true,
          },
        ),
      );
    }
  }

  async #workerTimeout(p: Pending): Promise<void> {
    if (p.taken || this.#pending.get(p.id) !== p) return;
    const queue = this.#queues.get(p.label);
    if (!queue || !(await removeWaiting(queue, p.id))) return;
    this.#settle(
      p,
      failed(
        p.request,
        `no worker labeled ${p.label} took the job within ${formatDuration(this.#workerTimeoutMs)}`,
        p.sentAt,
      ),
    );
  }

  async #warnWithoutWorker(id: string, label: string): Promise<void> {
    const p = this.#pending.get(id);
    if (!p) return;
    const now = performance.now();
    if (!this.#workers || now - this.#workers.at > 2000) {
      this.#workers = { at: now, list: listWorkers(this.#redis).catch(() => null) };
    }
    const workers = await this.#workers.list;
    if (workers && !servesLabel(workers, label) && this.#pending.get(id) === p && !p.taken) {
      this.#notice(
        p.request,
        p.options,
        "warn",
        `waiting for a worker labeled ${label}: none is live`,
      );
    }
  }

  /** Events can be missed (a reconnect, a trimmed stream): ask about jobs that wait long. */
  async #check(): Promise<void> {
    // One check at a time; a job is asked about again after twice as long as before (5 s,
    // 10 s, … a minute): a run of a thousand long jobs costs few calls a second.
    if (this.#checking) return;
    this.#checking = true;
    try {
      const now = performance.now();
      const due = [...this.#pending.values()].filter((p) => p.checkAt <= now);
      for (const p of due) {
        p.checkEvery = Math.min(MAX_CHECK_EVERY_MS, p.checkEvery * 2);
        p.checkAt = now + p.checkEvery;
      }
      await Promise.all(due.map(async (p) => {
        const queue = this.#queues.get(p.label);
        if (!queue) return;
        const { state, job } = await stateOf(queue, p.id).catch(() => ({
          state: "?",
          job: undefined,
        }));
        if (state === "completed") this.#completed(p.id, job!.returnvalue);
        else if (state === "failed") this.#failed(p.id, job!.failedReason);
        else if (state === "unknown") {
          this.#settle(p, failed(p.request, "the job is gone from the fleet's queue", p.sentAt));
        } else if (state === "active") this.#taken(p.id, null);
      }));
    } finally {
      this.#checking = false;
    }
  }
}

/**
 * A job's state, and the job when it is final — read after the state, so a job that finished
 * in between is never read without its return value.
 */
async function stateOf(queue: Queue, id: string): Promise<{ state: string; job?: Job }> {
  const state = await queue.getJobState(id);
  if (state !== "completed" && state !== "failed") return { state };
  const job = await Job.fromId(queue, id);
  return job ? { state, job } : { state: "unknown" };
}

/** Removes a job that no worker took yet; false when it is running or gone. */
async function removeWaiting(queue: Queue, id: string): Promise<boolean> {
  const job = await Job.fromId(queue, id).catch(() => undefined);
  if (!job) return false;
  const state = await job.getState();
  if (!["waiting", "delayed", "prioritized", "waiting-children"].includes(state)) return false;
  try {
    await job.remove();
    return true;
  } catch {
    // A worker locked it meanwhile: it runs, and its outcome comes back.
    return false;
  }
}

/** A failed attempt's outcome, made on the coordinator's side. */
function failed(
  request: JobRequest,
  message: string,
  started: number,
  flags: { cancelled?: boolean; timedOut?: boolean } = {},
): JobOutcome {
  return failedOutcome(request, message, { ...flags, millis: performance.now() - started });
}
