/**
 * A pool of real Web Workers (`workers/job_worker.ts`) that runs jobs — the local
 * {@link JobRunner} of the job protocol (`job_protocol.ts`, docs/job_protocol.md): at most `size` at
 * once, each with a timeout after which its worker is terminated and replaced and the process
 * groups its `job.exec` commands started are killed — those its worker reported, and those in
 * its exec slots (`exec_slots.ts`), whose report may not have been read. Retries live a layer above
 * (`retry.ts`): the pool runs one attempt.
 *
 * @module
 */
import { setImmediate } from "node:timers";
import { workerSpecifier } from "../runtime.ts";
import { REAL_TIMERS, type Timers } from "../timers.ts";
import { RemoteExecutors } from "../executor/mod.ts";
import {
  type HostMessage,
  type JobError,
  type JobOutcome,
  type JobRequest,
  type JobRunner,
  type JobRunOptions,
  LOG_CAP,
  parseWorkerMessage,
  type WorkerMessage,
} from "./job_protocol.ts";
import { type JobClaim, newClaim, withdrawClaim } from "./job_claim.ts";
import type { RemoteRequest } from "../executor/mod.ts";
import { maskJson, maskText } from "../model/mod.ts";
import { LogBuffer } from "./log_buffer.ts";
import { LineCutter, LIVE_TRUNCATED_LINE } from "./log_limits.ts";
import { timerDelay } from "./sleep.ts";
import { type JobWorker, ProcessWorker, WorkerEndEvent } from "./process_worker.ts";
import { MemoryGuard } from "./memory_guard.ts";
import { type ExecSlots, killExecSlots, killGroups, newExecSlots } from "./exec_slots.ts";
import { DEFAULT_MEMORY_LIMIT } from "../hrd/mod.ts";

/** Options of {@link WorkerPool}. */
export interface PoolOptions {
  /** How many jobs run at once (default 10). */
  size?: number;
  /** The worker entry (default: `workers/job_worker.ts` of this packaging). */
  specifier?: string;
  /**
   * The child process of a job with `isolation: process` (default: this ays with
   * `__job-worker`, docs/runs.md "Memory limits").
   */
  processCommand?: { command: string; args: string[] };
  /**
   * Bytes by which jobs in worker threads may grow ays' resident memory (from when the pool was
   * made) before the pool retires every busy thread worker and runs those jobs again, each in a
   * process with its memory limit (default 1 GiB; docs/runs.md, "Memory limits").
   */
  guardMemory?: number;
  /** Reads ays' resident memory in bytes (default `process.memoryUsage.rss()`). */
  readMemory?: () => number;
  /**
   * Carries out the workers' `remote` requests (jobs whose executor is an SSH target); default:
   * the pool's own, closed — masters ended, key files removed — by {@link WorkerPool.close}.
   */
  remote?: RemoteExecutors;
  /**
   * The timers jobs' timeouts are armed on (default the runtime's). A test fires them itself,
   * so that a job times out once what it checks during the job was checked, not at a real time.
   */
  timeoutTimers?: Timers;
}

/** Options of {@link WorkerPool.warm}. */
export interface WarmOptions {
  /** How many workers to start at most (the pool's size caps it); default the pool's size. */
  workers?: number;
}

/** Options of {@link WorkerPool.run} (those of every {@link JobRunner}). */
export type RunJobOptions = JobRunOptions;

interface PoolWorker {
  worker: JobWorker;
  ephemeral: boolean;
  job: ActiveJob | null;
  /** Short jobs sent to it behind `job`, in order, each with its claim (`job_claim.ts`). */
  queued: ActiveJob[];
  /** The actions files its jobs loaded: a module's timers outlive its job. */
  modules: Set<string>;
  /** Messages for it not posted yet: they go in one at the end of this turn ({@link WorkerPool.#post}). */
  outbox: HostMessage[];
  /**
   * Where a worker thread keeps its commands' process groups (`exec_slots.ts`); none for a
   * process worker, whose child process kills its own when it ends.
   */
  slots?: ExecSlots;
}

interface ActiveJob {
  id: number;
  request: JobRequest;
  /** Its action's key for the durations the pool learns ({@link actionKey}), made once. */
  action: string;
  options: RunJobOptions;
  resolve: (outcome: JobOutcome) => void;
  reject: (error: unknown) => void;
  log: LogBuffer;
  /** Cuts over-long lines of the job's log stream. */
  cutter: LineCutter;
  /** UTF-8 bytes passed to `onLog` so far; past `LOG_CAP` the live log stops. */
  streamed: number;
  /** Whether the live log was stopped at `LOG_CAP`. */
  liveCut: boolean;
  /** Whether the last text passed to `onLog` ended a line. */
  lineEnded: boolean;
  /** Process groups of running `exec` commands (not the detached ones). */
  groups: Set<number>;
  /**
   * Aborts its remote requests (their process groups on the target are killed); made at the
   * first request or abort (most jobs have neither: one object fewer per job).
   */
  remote?: AbortController;
  started: number;
  /**
   * Set when the job was sent to its worker behind the running job (`job_claim.ts`): the
   * worker starts it when the job ahead ended, unless the pool took it back first.
   */
  claim?: JobClaim;
  /** Killed after its worker had started it, before the pool knew: ended at its turn. */
  killed?: boolean;
  /** Its timeout, a handle of the pool's {@link Timers}. */
  timer?: unknown;
  cleanup: () => void;
  worker?: PoolWorker;
}

interface Queued {
  request: JobRequest;
  options: RunJobOptions;
  resolve: (outcome: JobOutcome) => void;
  reject: (error: unknown) => void;
  /** Run it on a new worker (its last one failed with another module's error). */
  fresh?: boolean;
}

/** The live log line of a job the memory guard moves to a process of its own. */
export const MOVED_TO_PROCESS_LINE = (rss: number) =>
  `[warn] ays' memory reached ${Math.round(rss / 2 ** 20)} MiB with this job in a worker thread: ` +
  "running it again in a process of its own, with its memory limit\n";

/** Runs jobs in Web Workers. Call {@link WorkerPool.close} when done. */
export class WorkerPool implements JobRunner {
  readonly #size: number;
  readonly #specifier: string;
  readonly #processCommand?: { command: string; args: string[] };
  readonly #idle: PoolWorker[] = [];
  readonly #all = new Set<PoolWorker>();
  readonly #queue: Queued[] = [];
  #active = 0;
  #nextId = 0;
  #closed = false;
  readonly #guard: MemoryGuard;
  readonly #remote: RemoteExecutors;
  readonly #ownsRemote: boolean;
  /** Workers started ahead of their jobs ({@link WorkerPool.warm}) that have not answered yet. */
  #booting = 0;
  /** Set when a worker started ahead failed to answer: jobs then start their workers. */
  #bootFailed = false;
  /** How long the recent jobs of each action ran in a worker (ms, a moving average). */
  readonly #actionMillis = new Map<string, number>();
  /** Whether the outboxes' flush is scheduled ({@link WorkerPool.#post}). */
  #posting = false;
  readonly #timers: Timers;

  constructor(options: PoolOptions = {}) {
    this.#size = Math.max(1, options.size ?? 10);
    this.#specifier = options.specifier ?? workerSpecifier("job_worker");
    this.#processCommand = options.processCommand;
    this.#timers = options.timeoutTimers ?? REAL_TIMERS;
    const { guardMemory = DEFAULT_MEMORY_LIMIT, readMemory = () => process.memoryUsage.rss() } =
      options;
    this.#guard = new MemoryGuard({
      limit: readMemory() + guardMemory,
      read: readMemory,
      onExceeded: (rss) => this.#onMemoryExceeded(rss),
    });
    this.#ownsRemote = options.remote === undefined;
    this.#remote = options.remote ?? new RemoteExecutors();
  }

  /** How many jobs run at once. */
  get size(): number {
    return this.#size;
  }

  /** Jobs waiting on a busy worker behind its running job (docs/runs.md, "Short jobs"). */
  get waiting(): number {
    let n = 0;
    for (const w of this.#all) n += w.queued.length;
    return n;
  }

  /** Number of live workers (idle or busy). */
  get workers(): number {
    return this.#all.size;
  }

  /**
   * Starts the pool's workers — `workers` of them at most, when fewer jobs can be ready at once
   * (default: the pool's size) — and waits until each answers, so the first jobs start fast.
   * Jobs given meanwhile wait in the queue and go to each worker as soon as it answered (their
   * timeout counts from there): none waits for the slowest worker's start. More workers, up to
   * the size, start as jobs wait for them.
   */
  warm(options: WarmOptions = {}): Promise<void> {
    const { workers = this.#size } = options;
    // Thrown, not rejected: a bad count is the caller's mistake, seen at the call.
    if (!Number.isInteger(workers) || workers < 0) {
      throw new RangeError(`workers must be a whole number ≥ 0, not ${workers}`);
    }
    return this.#warm(Math.min(this.#size, workers));
  }

  async #warm(target: number): Promise<void> {
    const starting: Promise<void>[] = [];
    while (this.#all.size < target) starting.push(this.#boot());
    await Promise.all(starting);
  }

  /**
   * Starts a pooled worker; once it answered it is idle and takes the next job waiting. A
   * worker that fails to start (rejects) sends the jobs after it straight to new workers, as
   * before the pool started workers ahead: their errors then fail them, no start is retried.
   */
  #boot(): Promise<void> {
    const w = this.#spawn(false);
    this.#booting++;
    return ping(w.worker).catch((error) => {
      this.#bootFailed = true;
      throw error;
    }).finally(() => {
      this.#booting--;
      if (this.#all.has(w) && !this.#closed) this.#idle.push(w);
      this.#dispatch();
    });
  }

  /**
   * Runs one attempt of a job. Resolves with its outcome whether the action succeeded or not
   * (`ok`, `error`, `timedOut`, `cancelled`); rejects only when the pool is closed.
   */
  run(request: JobRequest, options: RunJobOptions = {}): Promise<JobOutcome> {
    if (this.#closed) return Promise.reject(new Error("worker pool is closed"));
    return new Promise<JobOutcome>((resolve, reject) => {
      this.#queue.push({ request, options, resolve, reject });
      this.#dispatch();
    });
  }

  /**
   * Terminates every worker; running jobs end cancelled, queued ones reject. Resolves once the
   * pool's own remote connections are closed (remote commands of ended jobs killed first).
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#guard.stop();
    for (const q of this.#queue.splice(0)) q.reject(new Error("worker pool is closed"));
    for (const w of [...this.#all]) {
      for (const job of w.queued.splice(0)) {
        // Taken back first, so that the worker starts none of them before it is ended; one it
        // started already ends cancelled like the running job (docs/runs.md).
        if (job.claim !== undefined) withdrawClaim(job.claim, { stop: true });
        this.#dropQueued(job, "cancelled: the worker pool was closed");
      }
      if (w.job) this.#abort(w.job, "cancelled: the worker pool was closed", { cancelled: true });
    }
    for (const w of [...this.#all]) this.#discard(w);
    if (this.#ownsRemote) await this.#remote.close();
  }

  #dispatch(): void {
    while (!this.#closed && this.#active < this.#size && this.#queue.length > 0) {
      const head = this.#queue[0];
      const fresh = head.fresh || head.options.isolation === "job";
      if (this.#mustBoot(head, fresh)) {
        // No worker can take it now: start workers for the jobs waiting (up to the free slots,
        // those starting counted) and let each go to one once it answered, so that its timeout
        // counts from a ready worker, not from a worker's start (docs/runs.md, "Starting the
        // workers").
        const want = Math.min(this.#queue.length, this.#size - this.#active);
        while (this.#booting < want) this.#boot().catch(() => {});
        break;
      }
      // A worker still starting will take the job: no extra worker beside it.
      if (!fresh && this.#idle.length === 0 && this.#booting > 0) break;
      this.#start(this.#queue.shift()!);
    }
  }

  /** Whether `head`, a pooled job no worker can take now, should wait for a worker to start. */
  #mustBoot(head: Queued, fresh: boolean): boolean {
    return !fresh && !this.#bootFailed && head.options.isolation !== "process" &&
      this.#idle.length === 0 && this.#packTarget(actionKey(head.request)) === undefined;
  }

  #start(q: Queued): void {
    const { request, options } = q;
    const job: ActiveJob = {
      id: ++this.#nextId,
      request,
      action: actionKey(request),
      options,
      resolve: q.resolve,
      reject: q.reject,
      log: new LogBuffer(LOG_CAP),
      cutter: new LineCutter(),
      streamed: 0,
      liveCut: false,
      lineEnded: true,
      groups: new Set(),
      started: performance.now(),
      cleanup: () => {},
    };
    if (options.kill?.aborted || options.signal?.aborted) {
      q.resolve(outcomeOf(job, { cancelled: true, message: "cancelled before it started" }));
      return;
    }
    this.#active++;
    const w = options.isolation === "process"
      ? this.#spawnProcess(options.memory)
      : options.isolation === "job"
      ? this.#spawn(true)
      : q.fresh
      ? this.#spawn(false)
      : (this.#packTarget(job.action) ?? this.#idle.pop() ?? this.#spawn(false));
    w.modules.add(request.actionsPath ?? "");
    if (!(w.worker instanceof ProcessWorker)) this.#guard.start();
    job.worker = w;
    const onCancel = () => {
      const reason = options.signal?.reason;
      // Still waiting behind another job: never sent to the worker, so it simply does not run.
      if (this.#unqueue(w, job)) {
        this.#dropQueued(job, "cancelled before it started");
        return this.#dispatch();
      }
      remoteOf(job).abort(reason instanceof Error ? reason : new Error("cancelled"));
      this.#post(w, {
        type: "cancel",
        id: job.id,
        reason: reason instanceof Error ? reason.message : "cancelled",
      });
    };
    const onKill = () => {
      if (this.#unqueue(w, job)) {
        this.#dropQueued(job, "cancelled: the job was killed");
        return this.#dispatch();
      }
      // Started by its worker while the pool still counts it waiting: killed at its turn,
      // which comes with the end of the job ahead (already on its way).
      if (w.queued.includes(job)) job.killed = true;
      else this.#abort(job, "cancelled: the job was killed", { cancelled: true });
    };
    options.signal?.addEventListener("abort", onCancel, { once: true });
    options.kill?.addEventListener("abort", onKill, { once: true });
    job.cleanup = () => {
      if (job.timer !== undefined) this.#timers.clear(job.timer);
      options.signal?.removeEventListener("abort", onCancel);
      options.kill?.removeEventListener("abort", onKill);
    };
    if (w.job) {
      // Sent now, behind the running job, so the worker goes on to it without a round trip
      // to the pool; the claim keeps the pool able to take it back (docs/job_protocol.md).
      w.queued.push(job);
      job.claim = newClaim();
      this.#post(w, { type: "run", id: job.id, request, claim: job.claim });
    } else this.#begin(w, job);
  }

  /**
   * `job` starts running on `w`: at once (its `run` message sent now), or as its worker's
   * turn comes for a job sent behind another (sent with its claim, started by the worker when
   * the job ahead ended) — its timeout counts from here. The pool takes a waiting job back
   * through its claim before it ends the job ahead (a timeout, `process.exit`, a worker
   * error): a job taken back never started there and runs elsewhere; one the worker took
   * first is never run a second time — none runs twice.
   */
  #begin(w: PoolWorker, job: ActiveJob): void {
    w.job = job;
    job.started = performance.now();
    if (job.claim === undefined) {
      this.#post(w, { type: "run", id: job.id, request: job.request });
    }
    if (job.killed) {
      this.#abort(job, "cancelled: the job was killed", { cancelled: true });
      return;
    }
    const { timeoutMs } = job.options;
    if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) {
      job.timer = this.#timers.set(
        () => this.#timedOut(w, job, timeoutMs),
        // setTimeout fires at once past 2^31-1 ms (24.8 days): clamp instead.
        timerDelay(timeoutMs),
      );
    }
  }

  /**
   * The job's timeout: its worker is ended — unless the worker already started the job sent
   * behind it, which it does only once this job ended: its end is on its way, and is taken.
   */
  #timedOut(w: PoolWorker, job: ActiveJob, timeoutMs: number): void {
    const next = w.queued[0];
    if (w.job === job && next?.claim !== undefined && !withdrawClaim(next.claim, { stop: true })) {
      return;
    }
    this.#abort(job, `timed out after ${formatDuration(timeoutMs)}`, { timedOut: true });
  }

  /**
   * A busy thread worker a short job may wait on (docs/runs.md, "Short jobs share a worker"):
   * when the recent jobs of its action each ran under {@link PACK_BELOW_MS} in the worker,
   * it goes behind the short jobs of a worker already awake — at most {@link PACK_DEPTH} per
   * worker, the fullest with room first — instead of waking another one. Undefined otherwise.
   */
  #packTarget(action: string): PoolWorker | undefined {
    if (!this.#isShort(action)) return undefined;
    let best: PoolWorker | undefined;
    // Runs for every job: plain loops over the keys each job keeps (no closures, no keys made).
    for (const w of this.#all) {
      if (!w.job || w.ephemeral || w.worker instanceof ProcessWorker) continue;
      if (w.queued.length + 1 >= PACK_DEPTH) continue;
      // The fullest worker with room: the fewer threads a turn's short jobs wake, the better.
      if (best && w.queued.length <= best.queued.length) continue;
      if (!this.#isShort(w.job.action)) continue;
      let short = true;
      for (let i = 0; i < w.queued.length && short; i++) short = this.#isShort(w.queued[i].action);
      if (short) best = w;
    }
    return best;
  }

  #isShort(action: string): boolean {
    const millis = this.#actionMillis.get(action);
    return millis !== undefined && millis < PACK_BELOW_MS;
  }

  /**
   * Takes `job` out of the jobs waiting on `w` (its claim withdrawn); false when it is not
   * waiting there, or its worker started it already (the pool learns it with the end ahead).
   */
  #unqueue(w: PoolWorker, job: ActiveJob): boolean {
    const at = w.queued.indexOf(job);
    if (at < 0) return false;
    if (job.claim !== undefined && !withdrawClaim(job.claim)) return false;
    w.queued.splice(at, 1);
    return true;
  }

  /** A job that waited on a worker and will not run there: ends cancelled. */
  #dropQueued(job: ActiveJob, message: string): void {
    job.cleanup();
    job.resolve(outcomeOf(job, { cancelled: true, message }));
    this.#active--;
  }

  /**
   * The jobs waiting on `w`, whose worker is going away: back to the front of the queue, in
   * their order, to run on another worker — each taken back through its claim first. One the
   * worker started already (the end of the job ahead came meanwhile) ran there: it is not run
   * again but ends in error with `reason`, or, with `again`, goes back to the queue as what it
   * says (the memory guard's move to a process, which runs the jobs of the worker again).
   */
  #requeue(w: PoolWorker, reason: string, again?: (q: Queued) => Queued): void {
    const jobs = w.queued.splice(0);
    const back: Queued[] = [];
    for (const job of jobs) {
      job.cleanup();
      this.#active--;
      const { request, options, resolve, reject } = job;
      if (job.claim === undefined || withdrawClaim(job.claim, { stop: true })) {
        back.push({ request, options, resolve, reject });
      } else if (again) back.push(again({ request, options, resolve, reject }));
      else {
        resolve(outcomeOf(job, { message: `its worker was ended while it ran: ${reason}` }));
      }
    }
    this.#queue.unshift(...back);
  }

  /** A worker in a child process with a memory limit, for one job (`isolation: process`). */
  #spawnProcess(memory: number | undefined): PoolWorker {
    return this.#spawn(true, new ProcessWorker({ memory, command: this.#processCommand }));
  }

  #spawn(
    ephemeral: boolean,
    worker: JobWorker = new Worker(this.#specifier, { type: "module" }),
  ): PoolWorker {
    const w: PoolWorker = {
      worker,
      ephemeral,
      job: null,
      queued: [],
      modules: new Set(),
      outbox: [],
    };
    if (!(worker instanceof ProcessWorker)) {
      // On its own and first: the worker has its slots before it can start a command.
      w.slots = newExecSlots();
      worker.postMessage({ type: "init", id: 0, slots: w.slots });
    }
    worker.onmessage = (event: MessageEvent<unknown>) => {
      let message: WorkerMessage;
      try {
        message = parseWorkerMessage(event.data);
      } catch (error) {
        // A worker that breaks the protocol is in an unknown state: fail its job, replace it.
        if (w.job) this.#abort(w.job, (error as Error).message, {});
        else this.#discard(w);
        return;
      }
      this.#onMessage(w, message);
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault?.();
      // An error outside the job's promise chain (an un-awaited rejection, a throw in a
      // timer) leaves the worker in an unknown state: fail its job and replace it.
      const message = `worker error: ${event.message ?? "unknown"}`;
      if (!w.job) this.#discard(w);
      else if (strayError(w, w.job, event)) this.#retryOnFreshWorker(w.job);
      else this.#abort(w.job, message, {});
    };
    // Bun tells when a worker's thread ended (an exit the worker did not report); a process
    // worker says why it ended (out of memory).
    worker.addEventListener("close", (event) => {
      const reason = event instanceof WorkerEndEvent ? event.reason : "the action ended its worker";
      if (w.job) this.#abort(w.job, reason, {});
      else this.#discard(w);
    });
    this.#all.add(w);
    return w;
  }

  #onMessage(w: PoolWorker, message: WorkerMessage): void {
    const job = w.job;
    if (!job || message.type === "pong" || message.id !== job.id) return;
    switch (message.type) {
      case "log":
        this.#log(job, message.text);
        break;
      case "exit":
        this.#abort(job, "the action ended its worker (process.exit)", {});
        break;
      case "exec":
        if (message.detached) break;
        if (message.state === "started") job.groups.add(message.pid);
        else job.groups.delete(message.pid);
        break;
      case "remote":
        this.#remoteCall(w, job, message.call, message.request);
        break;
      case "result":
        if (message.millis !== undefined) this.#learn(job.action, message.millis);
        this.#complete(job, { ok: true, result: message.result, data: message.data, error: null });
        break;
      case "error":
        this.#complete(job, { ok: false, result: null, data: message.data, error: message.error });
        break;
    }
  }

  /**
   * Carries out a worker's `remote` request on the job's executor; its output goes into the
   * job log as it comes; the reply goes back unless the job ended meanwhile.
   */
  #remoteCall(w: PoolWorker, job: ActiveJob, call: number, request: RemoteRequest): void {
    const answer = (message: HostMessage) => {
      if (w.job === job) this.#post(w, message);
    };
    this.#remote.run(request, {
      signal: remoteOf(job).signal,
      onOutput: (text) => {
        if (w.job === job) this.#log(job, text);
      },
    }).then(
      (reply) => answer({ type: "remote-reply", id: job.id, call, ok: true, reply }),
      (error) => {
        const message = error instanceof Error ? error.message : String(error);
        answer({ type: "remote-reply", id: job.id, call, ok: false, error: { message } });
      },
    );
  }

  /**
   * Log text of a job: masked, its long lines cut, kept (the tail) for the outcome and passed
   * to `onLog` until `LOG_CAP` bytes were passed — then one line says the log was truncated
   * and the outcome's `log` (the tail) replaces the live log at the end.
   */
  #log(job: ActiveJob, raw: string): void {
    const text = job.cutter.cut(maskText(raw, job.request.secrets ?? []));
    if (text.length === 0) return;
    job.log.append(text);
    const onLog = job.options.onLog;
    if (!onLog || job.liveCut) return;
    const bytes = utf8Length(text);
    if (job.streamed + bytes > LOG_CAP) {
      job.liveCut = true;
      onLog((job.lineEnded ? "" : "\n") + LIVE_TRUNCATED_LINE);
      return;
    }
    job.streamed += bytes;
    job.lineEnded = text.endsWith("\n");
    onLog(text);
  }

  /** Keeps how long the action ran: the moving average {@link WorkerPool.#packTarget} reads. */
  #learn(key: string, millis: number): void {
    const last = this.#actionMillis.get(key);
    this.#actionMillis.set(key, last === undefined ? millis : last * 0.75 + millis * 0.25);
  }

  #complete(job: ActiveJob, done: WorkerDone): void {
    const w = job.worker!;
    job.cleanup();
    w.job = null;
    const cancelled = !done.ok && (job.options.signal?.aborted ?? false);
    const secrets = job.request.secrets ?? [];
    job.resolve({
      ok: done.ok,
      result: maskJson(done.result, secrets),
      data: done.data,
      log: job.log.text(),
      error: done.error && {
        message: maskText(done.error.message, secrets),
        ...(done.error.stack === undefined ? {} : { stack: maskText(done.error.stack, secrets) }),
      },
      ...(cancelled ? { cancelled: true } : {}),
      ...(job.liveCut ? { logTruncated: true } : {}),
      attempt: job.request.attempt ?? 1,
      millis: performance.now() - job.started,
    });
    const next = w.queued.shift();
    if (next) this.#begin(w, next);
    else if (w.ephemeral || this.#closed) this.#discard(w);
    else this.#idle.push(w);
    this.#active--;
    this.#dispatch();
  }

  /** Ends a job from the host side: terminates its worker, kills its process groups. */
  #abort(
    job: ActiveJob,
    message: string,
    flags: { timedOut?: boolean; cancelled?: boolean },
  ): void {
    const w = job.worker!;
    if (w.job !== job) return;
    job.cleanup();
    w.job = null;
    this.#requeue(w, message);
    this.#discard(w);
    killGroups(job.groups);
    remoteOf(job).abort(new Error(message));
    job.resolve(outcomeOf(job, { ...flags, message }));
    this.#active--;
    this.#dispatch();
  }

  /**
   * The worker failed with an error the running job's module did not raise (a timer another
   * job's module left): retire the worker and run the job again on a new one, where an error
   * can only be its own — no job is blamed for another's (docs/job_protocol.md).
   */
  #retryOnFreshWorker(job: ActiveJob): void {
    const w = job.worker!;
    job.cleanup();
    w.job = null;
    this.#requeue(w, "it failed with an error of another job's actions");
    this.#discard(w);
    killGroups(job.groups);
    remoteOf(job).abort(new Error("its worker failed"));
    job.options.onLog?.(
      "[warn] its worker failed with an error of another job's actions: running it again on a new worker\n",
    );
    this.#active--;
    const { request, options, resolve, reject } = job;
    this.#queue.unshift({ request, options, resolve, reject, fresh: true });
    this.#dispatch();
  }

  /**
   * ays' memory passed the guard's limit: which thread's heap grew cannot be known (docs/runs.md,
   * "Memory limits"), so every job in a worker thread is run again in a process of its own.
   */
  #onMemoryExceeded(rss: number): void {
    for (const w of [...this.#all]) {
      if (!w.job || w.worker instanceof ProcessWorker) continue;
      const job = w.job;
      job.cleanup();
      w.job = null;
      const toProcess = (q: Queued): Queued => ({
        ...q,
        options: { ...q.options, isolation: "process" },
      });
      this.#requeue(w, "ays' memory limit", toProcess);
      this.#discard(w);
      killGroups(job.groups);
      job.options.onLog?.(MOVED_TO_PROCESS_LINE(rss));
      this.#active--;
      const { request, options, resolve, reject } = job;
      this.#queue.unshift({
        request,
        options: { ...options, isolation: "process" },
        resolve,
        reject,
      });
    }
    this.#dispatch();
  }

  /**
   * Sends `message` to `w`'s worker at the end of this turn of the event loop, in one message
   * with the others sent to it meanwhile (a `batch`, docs/job_protocol.md): the jobs a commit
   * let start all come in one turn, and each message to a worker thread wakes it — a wake on
   * a small machine costs more than a short job. In order: a later `cancel` follows its `run`.
   */
  #post(w: PoolWorker, message: HostMessage): void {
    w.outbox.push(message);
    if (this.#posting) return;
    this.#posting = true;
    setImmediate(() => {
      this.#posting = false;
      for (const each of this.#all) {
        if (each.outbox.length === 0) continue;
        const messages = each.outbox.splice(0);
        each.worker.postMessage(
          messages.length === 1 ? messages[0] : { type: "batch", id: 0, messages },
        );
      }
    });
  }

  /**
   * Ends a worker. The commands it still runs end with it: once it is gone nothing waits for
   * them (a detached one, never in the slots, lives on). The slots are closed first, so it
   * starts no command after the pool looked.
   */
  #discard(w: PoolWorker): void {
    // Once only: Bun reports the end of a thread the pool terminated itself ("close"), and a
    // second pass would signal the groups of pids that may have been reused since.
    if (!this.#all.has(w)) return;
    // What was not posted yet is for this worker alone: its jobs end or run elsewhere.
    w.outbox.length = 0;
    if (w.slots !== undefined) killExecSlots(w.slots);
    w.worker.terminate();
    this.#all.delete(w);
    const i = this.#idle.indexOf(w);
    if (i !== -1) this.#idle.splice(i, 1);
  }
}

/**
 * A job whose action's recent jobs each ran under this many milliseconds in the worker may
 * wait on a busy worker (docs/runs.md, "Short jobs share a worker").
 */
export const PACK_BELOW_MS = 1;

/** At most this many jobs on one worker at once: the running one and those waiting. */
export const PACK_DEPTH = 8;

/** The key of a job's action for the durations the pool learns: its file and its name. */
function actionKey(request: JobRequest): string {
  return `${request.actionsPath ?? ""}\n${request.action}`;
}

/** The controller of a job's remote requests, made at its first use. */
function remoteOf(job: ActiveJob): AbortController {
  return job.remote ??= new AbortController();
}

/** How a job ended, as the worker reported it. */
interface WorkerDone {
  ok: boolean;
  result: unknown;
  data: Record<string, unknown>;
  error: JobError | null;
}

function outcomeOf(
  job: ActiveJob,
  how: { message: string; timedOut?: boolean; cancelled?: boolean },
): JobOutcome {
  return {
    ok: false,
    result: null,
    data: job.request.service.data,
    log: job.log.text(),
    error: { message: how.message },
    ...(how.timedOut ? { timedOut: true } : {}),
    ...(how.cancelled ? { cancelled: true } : {}),
    ...(job.liveCut ? { logTruncated: true } : {}),
    attempt: job.request.attempt ?? 1,
    millis: performance.now() - job.started,
  };
}

/**
 * Whether a worker's uncaught error cannot be the running job's: the worker ran other actions
 * files before, and the error names none of the job's own (its message, file or stack).
 */
function strayError(w: PoolWorker, job: ActiveJob, event: ErrorEvent): boolean {
  const own = job.request.actionsPath ?? "";
  if ([...w.modules].every((path) => path === own)) return false;
  let stack = "";
  try {
    stack = String((event.error as { stack?: unknown } | null)?.stack ?? "");
  } catch {
    // An error whose stack getter throws tells nothing.
  }
  const text = `${event.message ?? ""}\n${event.filename ?? ""}\n${stack}`;
  return own === "" || !text.includes(own);
}

const encoder = new TextEncoder();

/** Bytes of `text` in UTF-8 (a log line is at most `MAX_LOG_LINE` characters). */
function utf8Length(text: string): number {
  return encoder.encode(text).length;
}

function ping(worker: JobWorker): Promise<void> {
  return new Promise((resolve, reject) => {
    // Typed as the listener itself: Deno's and Node's `Event` types differ.
    const onMessage: EventListener = (event) => {
      if ((event as MessageEvent<WorkerMessage>).data?.type !== "pong") return;
      worker.removeEventListener("message", onMessage);
      resolve();
    };
    worker.addEventListener("message", onMessage);
    worker.addEventListener(
      "error",
      (e) => reject(new Error(String((e as ErrorEvent).message))),
      { once: true },
    );
    // A worker whose thread ended before it answered never will (Bun tells).
    worker.addEventListener("close", () => reject(new Error("the worker ended")), { once: true });
    worker.postMessage({ type: "ping", id: 0 } satisfies HostMessage);
  });
}

/** `1.5 s`, `10 min`, `2 h`: how a timeout reads in "timed out after …". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
  const m = s / 60;
  if (m < 60) return `${Number.isInteger(m) ? m : m.toFixed(1)} min`;
  const h = m / 60;
  return `${Number.isInteger(h) ? h : h.toFixed(1)} h`;
}
