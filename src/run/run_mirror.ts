/**
 * The readable mirror (docs/store.md, "The readable mirror") during a run. Rewriting a service's file after each of its
 * state changes, on the walk's critical path, costs more than the store write itself (a read,
 * a temporary file and a rename per service). A run instead marks the services it changed and
 * writes their files in the background, several at once, every {@link MIRROR_INTERVAL_MS} and
 * once more before the run's end is recorded. The `running` state is transient and is not
 * mirrored on its own. The store stays the source of truth; a crash can leave the mirror a
 * moment behind, which the next run or writer brings up to date.
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

  /** Marks a service (`role!instance`) as changed. */
  mark(name: string): void {
    this.#dirty.add(name);
  }

  /** Writes what changed so far; resolves when it (and any write before it) is done. */
  flush(): Promise<void> {
    this.#writing = this.#writing.then(() => this.#write());
    return this.#writing;
  }

  /** Stops the timer and writes the rest. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }

  async #write(): Promise<void> {
    if (this.#dirty.size === 0) return;
    const names = [...this.#dirty];
    this.#dirty.clear();
    try {
      // Parents do not change during a run: the folders are worked out once.
      this.#paths ??= servicePaths([...this.#services.values()]);
      const chunks: Map<string, string>[] = Array.from({ length: WRITERS }, () => new Map());
      names.forEach((name, i) => {
        const service = this.#services.get(name);
        if (!service) return;
        const path = this.#paths!.get(service.key);
        if (!path) return;
        chunks[i % WRITERS].set(path, serviceMirrorText(service, this.#actors.get(service.actor)));
      });
      await Promise.all(
        chunks.filter((c) => c.size > 0).map((c) => writeMirrorFiles(this.#repoPath, c)),
      );
    } catch (error) {
      this.#onError(error);
    }
  }
}
