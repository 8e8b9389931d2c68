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
 * The worker takes the chunks one after the other ({@link IN_FLIGHT} at a time, asking for the
 * next by answering `staged`); when the commit comes, this thread stages chunks too, taking the
 * next one as the worker does — the kernel's work is the longer part at 10,000 files, and this
 * thread would otherwise only wait for it. This thread then hands what it staged over to the
 * worker (`adopt`), so one commit or abort ends both.
 *
 * The files' texts are made only when a chunk is about to be handed over: at most
 * {@link MAX_WAITING} chunks wait beside those in flight. The thread encoding the records does
 * not let the worker's requests in before the commit, so making every chunk as the records were
 * encoded held all the texts at once — 3 bytes per character, ~330 MiB at 100,000 services.
 *
 * @module
 */
import { join, relative } from "node:path";
import process from "node:process";
import { setImmediate } from "node:timers";
import { workerSpecifier } from "../runtime.ts";
import { MirrorWriteError, type MirrorWriteResult } from "./mirror.ts";
import {
  abortStaged,
  chunkFiles,
  newStaged,
  type Staged,
  stageFiles,
  type StagingFailure,
  wholeFolderOf,
} from "./mirror_staging.ts";

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
  | {
    /** Files this thread staged itself under the same root and tag, for the worker to end. */
    type: "adopt";
    root: string;
    tag: string;
    files: string[];
    folders: string[];
    failures: StagingFailure[];
  }
  | {
    /** Files whose texts come later (`stage`): their folders are made now. */
    type: "folders";
    root: string;
    tag: string;
    /** Absolute paths of the files, joined by NUL (one text to copy, not thousands). */
    paths: string;
  }
  | { type: "commit" }
  | { type: "abort" };

/**
 * The mirror worker's answers: `staged` after each `stage` (send the next), then one `done` or
 * `error` to `commit` or `abort`.
 */
export type MirrorStageReply =
  | { type: "staged" }
  | { type: "done"; written: number; failures: StagingFailure[] }
  | { type: "error"; message: string };

const encoder = new TextEncoder();

/**
 * `texts` as UTF-8 one after the other in a buffer of `size` bytes, and where each ends; null
 * when they do not fit.
 */
function encodeAll(
  texts: readonly string[],
  size: number,
): { bytes: Uint8Array; ends: number[] } | null {
  const bytes = new Uint8Array(size);
  const ends: number[] = [];
  let at = 0;
  for (const text of texts) {
    const { read, written } = encoder.encodeInto(text, bytes.subarray(at));
    if (read !== text.length) return null;
    at += written;
    ends.push(at);
  }
  return { bytes, ends };
}

/** Files posted to the worker per message: the texts of one chunk are let go once posted. */
const CHUNK = 256;

/** Chunks handed to the worker and not yet staged by it: one in work, one waiting. */
const IN_FLIGHT = 2;

/** Chunks made ahead of the worker's requests, beyond those in flight. */
const MAX_WAITING = 2;

type StageRequest = Extract<MirrorStageRequest, { type: "stage" }>;
type FinalReply = Exclude<MirrorStageReply, { type: "staged" }>;

/** Options of {@link MirrorStage.start}. */
export interface MirrorStageOptions {
  /** The worker entry (default: the project's `mirror_worker`). */
  specifier?: string;
}

/** The files of one save, staged by the mirror worker until the save commits or fails. */
export class MirrorStage {
  readonly #repoPath: string;
  readonly #worker: Worker;
  readonly #reply: Promise<FinalReply>;
  #ended = false;
  /** The files not handed over yet, and the chunk being filled. */
  #files: Iterator<readonly [string, string]> | undefined;
  #paths: string[] = [];
  #texts: string[] = [];
  /** Chunks made and not handed to the worker yet, oldest first. */
  readonly #waiting: StageRequest[] = [];
  /** Chunks handed to the worker that it has not staged yet. */
  #inFlight = 0;
  /** Files pumped since {@link MirrorStage.pump} last asked for a turn of the event loop. */
  #pumped = 0;
  /** Whether the worker was asked to make the files' folders ({@link MirrorStage.folders}). */
  #foldersAsked = false;

  private constructor(repoPath: string, worker: Worker) {
    this.#repoPath = repoPath;
    this.#worker = worker;
    this.#reply = new Promise<FinalReply>((resolve) => {
      worker.onmessage = (event: MessageEvent<MirrorStageReply>) => {
        if (event.data.type !== "staged") return resolve(event.data);
        this.#inFlight--;
        this.#feed();
      };
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
   * Has the worker make the folders of files to stage (paths relative to the repository) now,
   * before their texts come: a new folder is the larger part of the kernel's work for a new
   * file (~40 µs of the ~70 µs here), so the worker makes them all while this thread encodes
   * the records, and at the commit this thread stages files into folders that are there instead
   * of making folders beside the worker (`probe` of `stageFiles`). Call before
   * {@link MirrorStage.stage}, so that the folders come first.
   */
  folders(paths: Iterable<string>): void {
    if (this.#ended) throw new Error("MirrorStage.folders: the stage has ended");
    const absolute: string[] = [];
    for (const path of paths) absolute.push(join(this.#repoPath, path));
    if (absolute.length === 0) return;
    this.#worker.postMessage(
      {
        type: "folders",
        root: this.#repoPath,
        tag: this.#tag,
        paths: absolute.join("\0"),
      } satisfies MirrorStageRequest,
    );
    this.#foldersAsked = true;
  }

  /**
   * Takes the files to stage (paths relative to the repository, known not to exist yet),
   * produced as they are pulled: the first {@link IN_FLIGHT} chunks go to the worker now, the
   * others as it asks for them (a few made ahead as the caller {@link MirrorStage.pump}s), the
   * rest shared with this thread at {@link MirrorStage.commit} — so the texts of all files are
   * never held at once. Nothing becomes visible before the commit.
   */
  stage(files: Iterable<readonly [string, string]>): void {
    if (this.#ended || this.#files) throw new Error("MirrorStage.stage: already staging");
    this.#files = files[Symbol.iterator]();
    this.#feed();
  }

  /**
   * Takes the next `count` files (default 1) while fewer than {@link MAX_WAITING} chunks wait
   * for the worker (the others are made when it asks); a chunk goes when full. True once every
   * {@link CHUNK} files pumped: the worker's requests for its next chunk come in only on a turn
   * of the event loop, so a caller pumping from a long synchronous loop (a save encoding its
   * records) gives it one then, and the worker writes files meanwhile instead of waiting for the
   * commit.
   */
  pump(count = 1): boolean {
    this.#pumped += count;
    for (let i = 0; i < count && this.#waiting.length < MAX_WAITING; i++) {
      if (!this.#pull()) break;
    }
    if (this.#pumped < CHUNK) return false;
    this.#pumped = 0;
    return true;
  }

  /**
   * Hands the worker what it can take now; the rest is made as it asks, or staged by this
   * thread at the commit.
   */
  flush(): void {
    this.#feed();
  }

  /** Takes one file into the chunk being filled; false when there are no more. */
  #pull(): boolean {
    const files = this.#files;
    if (!files) return false;
    const next = files.next();
    if (next.done) {
      this.#files = undefined;
      this.#post();
      return false;
    }
    const [path, text] = next.value;
    this.#paths.push(join(this.#repoPath, path));
    this.#texts.push(text);
    if (this.#paths.length >= CHUNK) this.#post();
    return true;
  }

  /** The oldest waiting chunk, else the next one made from the files; undefined: none left. */
  #take(): StageRequest | undefined {
    while (this.#waiting.length === 0 && this.#pull());
    return this.#waiting.shift();
  }

  /**
   * Makes the chunk waiting: its texts as one UTF-8 buffer that is transferred, because
   * copying thousands of strings into the worker cost as much as writing them.
   */
  #post(): void {
    if (this.#paths.length === 0) return;
    let length = 0;
    for (const text of this.#texts) length += text.length;
    // Sized for ASCII, which the JSON texts nearly always are; three bytes per character when
    // one is not (an exact-size buffer instead of a triple one: ~1 MiB less per chunk to zero).
    const { bytes, ends } = encodeAll(this.#texts, length) ?? encodeAll(this.#texts, length * 3)!;
    this.#waiting.push({
      type: "stage",
      root: this.#repoPath,
      tag: this.#tag,
      paths: this.#paths,
      bytes,
      ends,
    });
    this.#paths = [];
    this.#texts = [];
  }

  /**
   * The same temporary names as the mirror's own writes (`mirror.ts`), so a file written again
   * after a failed stage replaces its leftover.
   */
  get #tag(): string {
    return String(process.pid);
  }

  /** Hands the worker the next chunks while it has fewer than {@link IN_FLIGHT}. */
  #feed(): void {
    while (!this.#ended && this.#inFlight < IN_FLIGHT) {
      const request = this.#take();
      if (!request) return;
      // Made by `#post` over an ArrayBuffer of its own (never shared).
      this.#worker.postMessage(request, [request.bytes.buffer as ArrayBuffer]);
      this.#inFlight++;
    }
  }

  /**
   * Stages the chunks the worker has not taken, the next one each time as the worker takes
   * its own, letting the worker's requests in between; what this thread staged, or null.
   */
  async #help(): Promise<Staged | null> {
    let staged: Staged | null = null;
    for (let chunk = this.#take(); chunk; chunk = this.#take()) {
      // Decided as the worker decides it (nothing makes `services/` while a save stages).
      staged ??= newStaged(this.#repoPath, this.#tag, { fresh: wholeFolderOf(this.#repoPath) });
      stageFiles(staged, chunkFiles(chunk), { probe: this.#foldersAsked });
      await new Promise((resolve) => setImmediate(resolve));
    }
    return staged;
  }

  /**
   * Renames the staged files into place (call after the commit). Throws
   * {@link MirrorWriteError} naming the files that could not be written (the others are), or
   * an Error when the worker failed — then which files exist is unknown and the caller writes
   * them itself.
   */
  async commit(): Promise<MirrorWriteResult> {
    if (this.#ended) throw new Error("MirrorStage.commit: the stage has ended");
    this.#feed();
    const helped = await this.#help();
    if (helped) {
      this.#worker.postMessage(
        {
          type: "adopt",
          root: this.#repoPath,
          tag: this.#tag,
          files: helped.files,
          folders: helped.folders,
          failures: helped.failures,
        } satisfies MirrorStageRequest,
      );
    }
    const reply = await this.#end("commit");
    if (reply.type === "error") {
      // The worker is gone: what this thread staged is removed, the caller writes the files.
      if (helped) abortStaged(helped);
      throw new Error(reply.message);
    }
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
    // Chunks not handed over (and files not taken) were never written.
    this.#waiting.length = 0;
    this.#files = undefined;
    await this.#end("abort");
  }

  async #end(type: "commit" | "abort"): Promise<FinalReply> {
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
