/**
 * The readable mirror (docs/store.md, "The readable mirror") during a run. Rewriting a service's file after each of its
 * state changes, on the walk's critical path, costs more than the store write itself (a read,
 * a temporary file and a rename per service). A run instead marks the services it changed and
 * writes their files in the background, several at once, every {@link MIRROR_INTERVAL_MS} and
 * once more before the run's end is recorded. The `running` state is transient and is not
 * mirrored on its own. The store stays the source of truth; a crash can leave the mirror
 * behind, so each run starts by bringing every service's file that differs from the store up
 * to date ({@link RunMirror.syncAll}) — but for its own jobs' services, whose files it writes
 * anyway before its end is recorded.
 *
 * @module
 */
import type { ActorRecord, ServiceRecord } from "../model/mod.ts";
import { serviceMirrorText, servicePaths, writeMirrorFiles } from "../store/mod.ts";

/** How often changed services are written to the mirror during a run. */
export const MIRROR_INTERVAL_MS = 250;

/** Files written at once. */
const WRITERS = 16;

/** Writes the mirror files of the services a run changes. */
export class RunMirror {
  readonly #repoPath: string;
  readonly #services: ReadonlyMap<string, ServiceRecord>;
  readonly #actors: ReadonlyMap<string, ActorRecord>;
  readonly #onError: (error: unknown) => void;
  readonly #dirty = new Set<string>();
  /**
   * Dirty services a job ended: their records name that job (`lastJob`), which no file holds
   * yet, so their files are written without being read and compared first.
   */
  readonly #ended = new Set<string>();
  /** Services whose files are written at the end (the run's own jobs' services). */
  readonly #atEnd = new Set<string>();
  #paths: Map<string, string> | undefined;
  #writing: Promise<void> = Promise.resolve();
  #timer: ReturnType<typeof setInterval> | undefined;

  /**
   * `services` is the run's live view by `role!instance` (it is read when writing, so the
   * latest record is written).
   */
  constructor(
    repoPath: string,
    services: ReadonlyMap<string, ServiceRecord>,
    actors: ReadonlyMap<string, ActorRecord>,
    onError: (error: unknown) => void,
  ) {
    this.#repoPath = repoPath;
    this.#services = services;
    this.#actors = actors;
    this.#onError = onError;
  }

  /** Starts writing in the background. */
  start(): void {
    this.#timer ??= setInterval(() => void this.flush(), MIRROR_INTERVAL_MS);
  }

  /**
   * Marks a service (`role!instance`) as changed by the end of one of its jobs (its record
   * names that job): its file is written without reading it first.
   */
  mark(name: string): void {
    this.#dirty.add(name);
    this.#ended.add(name);
  }

  /**
   * Brings every service's mirror file that differs from the store up to date (one left
   * stale by a killed run, say), in the background: the files' texts are taken now, before
   * any job changes a state; files already current are only read and compared. A run calls
   * this as it starts. The services named in `later` (those of the run's own jobs) are not
   * compared now: their files are written by {@link RunMirror.stop} at the latest, with the
   * states the run left.
   */
  syncAll(options: { later?: Iterable<string> } = {}): void {
    const later = new Set(options.later ?? []);
    const texts = new Map<string, string>();
    for (const name of this.#services.keys()) {
      this.#dirty.delete(name);
      this.#ended.delete(name);
      if (later.has(name)) this.#atEnd.add(name);
      else this.#addText(texts, name);
    }
    this.#writing = this.#writing.then(() => this.#writeTexts([...texts], new Set()));
  }

  /** Writes what changed so far; resolves when it (and any write before it) is done. */
  flush(): Promise<void> {
    this.#writing = this.#writing.then(() => this.#write());
    return this.#writing;
  }

  /** Stops the timer and writes the rest (with the files left for the end). */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    for (const name of this.#atEnd) this.#dirty.add(name);
    this.#atEnd.clear();
    await this.flush();
  }

  async #write(): Promise<void> {
    if (this.#dirty.size === 0) return;
    const texts = new Map<string, string>();
    const changed = new Set<string>();
    for (const name of this.#dirty) {
      this.#atEnd.delete(name);
      const path = this.#addText(texts, name);
      if (path !== undefined && this.#ended.has(name)) changed.add(path);
    }
    this.#dirty.clear();
    this.#ended.clear();
    await this.#writeTexts([...texts], changed);
  }

  /** Adds the mirror path and text of service `name` (if known) to `texts`; its path. */
  #addText(texts: Map<string, string>, name: string): string | undefined {
    try {
      const service = this.#services.get(name);
      if (!service) return undefined;
      // Parents do not change during a run: the folders are worked out once.
      this.#paths ??= servicePaths([...this.#services.values()]);
      const path = this.#paths.get(service.key);
      if (!path) return undefined;
      texts.set(path, serviceMirrorText(service, this.#actors.get(service.actor)));
      return path;
    } catch (error) {
      this.#onError(error);
      return undefined;
    }
  }

  /**
   * Writes files by `WRITERS` at once, those in `changed` without reading them first; each
   * writer's failures go to `onError`.
   */
  async #writeTexts(texts: [string, string][], changed: ReadonlySet<string>): Promise<void> {
    const chunks: Map<string, string>[] = Array.from({ length: WRITERS }, () => new Map());
    texts.forEach(([path, text], i) => chunks[i % WRITERS].set(path, text));
    // Each writer goes on past a failing file (writeMirrorFiles reports them together).
    const settled = await Promise.allSettled(
      chunks.filter((c) => c.size > 0).map((c) => writeMirrorFiles(this.#repoPath, c, { changed })),
    );
    for (const outcome of settled) {
      if (outcome.status === "rejected") this.#onError(outcome.reason);
    }
  }
}
