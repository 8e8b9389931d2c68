/**
 * New mirror files written beside a store commit instead of after it (docs/store.md, "The
 * readable mirror"): a {@link MirrorStage} hands the files of services a save creates to the
 * mirror worker (`workers/mirror_worker.ts`), which makes their folders and writes each text to
 * a temporary file while this thread encodes and commits the records; after the commit
 * {@link MirrorStage.commit} renames them into place, after a failed or refused commit
 * {@link MirrorStage.abort} removes them and the folders it made, so the mirror stays as it
 * was. The kernel's work for 10,000 new files (a folder, a file and a rename each: about half a
 * second) thus runs on the other core while the records are written.
 *
 * @module
 */
import { join, relative } from "node:path";
import process from "node:process";
import { workerSpecifier } from "../runtime.ts";
import { MirrorWriteError, type MirrorWriteResult } from "./mirror.ts";
import type { StagingFailure } from "./mirror_staging.ts";

/** A message to the mirror worker. */
export type MirrorStageRequest =
  | {
    type: "stage";
    root: string;
    tag: string;
    /** Absolute paths of the files. */
    paths: string[];
    /** Their texts as UTF-8, one after the other (transferred, not copied). */
    bytes: Uint8Array;
    /** Where each file's bytes end in `bytes`. */
    ends: number[];
  }
  | { type: "commit" }
  | { type: "abort" };

/** The mirror worker's one answer, to `commit` or `abort`. */
export type MirrorStageReply =
  | { type: "done"; written: number; failures: StagingFailure[] }
  | { type: "error"; message: string };

const encoder = new TextEncoder();

/** Files posted to the worker per message: the texts of one chunk are let go once posted. */
const CHUNK = 256;

/** Options of {@link MirrorStage.start}. */
export interface MirrorStageOptions {
  /** The worker entry (default: the project's `mirror_worker`). */
  specifier?: string;
}

/** The files of one save, staged by the mirror worker until the save commits or fails. */
export class MirrorStage {
  readonly #repoPath: string;
  readonly #worker: Worker;
  readonly #reply: Promise<MirrorStageReply>;
  #ended = false;
  /** The files not handed over yet, and the chunk being filled. */
  #files: Iterator<readonly [string, string]> | undefined;
  #paths: string[] = [];
  #texts: string[] = [];

  private constructor(repoPath: string, worker: Worker) {
    this.#repoPath = repoPath;
    this.#worker = worker;
    this.#reply = new Promise<MirrorStageReply>((resolve) => {
      worker.onmessage = (event: MessageEvent<MirrorStageReply>) => resolve(event.data);
      worker.onerror = (event: ErrorEvent) => {
        event.preventDefault?.();
        resolve({ type: "error", message: `mirror worker: ${event.message ?? "failed"}` });
      };
    });
  }

  /** Starts the worker for the repository at `repoPath`. */
  static start(repoPath: string, options: MirrorStageOptions = {}): MirrorStage {
    const { specifier = workerSpecifier("mirror_worker") } = options;
    if (repoPath === "") throw new TypeError("MirrorStage.start: a repository path is needed");
    return new MirrorStage(repoPath, new Worker(specifier, { type: "module" }));
  }

  /**
   * Takes the files to stage (paths relative to the repository, known not to exist yet),
   * produced as they are pulled: the first {@link CHUNK} go to the worker now, the others as
   * the caller {@link MirrorStage.pump}s and {@link MirrorStage.flush}es — so the worker keeps
   * pace with the caller's own work and the texts of all files are never held at once.
   * Nothing becomes visible before {@link MirrorStage.commit}.
   */
  stage(files: Iterable<readonly [string, string]>): void {
    if (this.#ended || this.#files) throw new Error("MirrorStage.stage: already staging");
    this.#files = files[Symbol.iterator]();
    this.pump(CHUNK);
  }

  /** Hands over the next `count` files (default 1); a chunk goes when full. */
  pump(count = 1): void {
    const files = this.#files;
    if (!files) return;
    for (let i = 0; i < count; i++) {
      const next = files.next();
      if (next.done) {
        this.#files = undefined;
        this.#post();
        return;
      }
      const [path, text] = next.value;
      this.#paths.push(join(this.#repoPath, path));
      this.#texts.push(text);
      if (this.#paths.length >= CHUNK) this.#post();
    }
  }

  /** Hands over every file not handed over yet. */
  flush(): void {
    while (this.#files) this.pump(CHUNK);
  }

  /**
   * Posts the chunk: its texts as one UTF-8 buffer that is transferred, because copying
   * thousands of strings into the worker cost as much as writing them.
   */
  #post(): void {
    if (this.#paths.length === 0) return;
    let size = 0;
    for (const text of this.#texts) size += text.length * 3;
    const bytes = new Uint8Array(size);
    const ends: number[] = [];
    let at = 0;
    for (const text of this.#texts) {
      at += encoder.encodeInto(text, bytes.subarray(at)).written;
      ends.push(at);
    }
    const request: MirrorStageRequest = {
      type: "stage",
      root: this.#repoPath,
      // The same temporary names as the mirror's own writes (`mirror.ts`), so a file
      // written again after a failed stage replaces its leftover.
      tag: String(process.pid),
      paths: this.#paths,
      bytes,
      ends,
    };
    this.#worker.postMessage(request, [bytes.buffer]);
    this.#paths = [];
    this.#texts = [];
  }

  /**
   * Renames the staged files into place (call after the commit). Throws
   * {@link MirrorWriteError} naming the files that could not be written (the others are), or
   * an Error when the worker failed — then which files exist is unknown and the caller writes
   * them itself.
   */
  async commit(): Promise<MirrorWriteResult> {
    this.flush();
    const reply = await this.#end("commit");
    if (reply.type === "error") throw new Error(reply.message);
    if (reply.failures.length > 0) {
      throw new MirrorWriteError(
        reply.failures.map(({ path, message }) => ({
          path: relative(this.#repoPath, path),
          error: new Error(message),
        })),
      );
    }
    return { written: reply.written, removed: 0, unchanged: 0 };
  }

  /** Removes the staged files and the folders staging made (call when the commit failed). */
  async abort(): Promise<void> {
    await this.#end("abort");
  }

  async #end(type: "commit" | "abort"): Promise<MirrorStageReply> {
    if (this.#ended) throw new Error(`MirrorStage.${type}: the stage has ended`);
    this.#ended = true;
    try {
      this.#worker.postMessage({ type } satisfies MirrorStageRequest);
      return await this.#reply;
    } finally {
      this.#worker.terminate();
    }
  }
}
