/**
 * The Web Worker that stages new mirror files while the main thread encodes and commits the
 * records (`src/store/mirror_stage.ts`): a `folders` message brings the files to come, whose
 * folders it makes at once; `stage` messages bring files to write to temporary names, each
 * answered by `staged` (send the next); an `adopt` message brings the files the main thread
 * staged itself; then one `commit` (rename them all into place) or `abort` (remove them) ends
 * it, answered by one `done` message. Messages are handled in order, each synchronously.
 *
 * @module
 */
/// <reference lib="webworker" />
import {
  abortStaged,
  adoptStaged,
  chunkFiles,
  commitStaged,
  makeFolders,
  newStaged,
  type Staged,
  stageFiles,
  wholeFolderOf,
} from "../src/store/mirror_staging.ts";
import type { MirrorStageReply, MirrorStageRequest } from "../src/store/mirror_stage.ts";

/** Answers the host's messages; the staging lives as long as the worker (one per save). */
function serve(): void {
  let staged: Staged | undefined;
  self.onmessage = (event: MessageEvent<MirrorStageRequest>) => {
    const request = event.data;
    try {
      if (request.type === "stage" || request.type === "adopt" || request.type === "folders") {
        // A first apply builds the mirror's `services/` whole, renamed once at the commit.
        staged ??= newStaged(request.root, request.tag, { fresh: wholeFolderOf(request.root) });
      }
      if (request.type === "adopt") {
        adoptStaged(staged!, request);
        return;
      }
      if (request.type === "folders") {
        makeFolders(staged!, request.paths.split("\0"));
        return;
      }
      if (request.type === "stage") {
        stageFiles(staged!, chunkFiles(request));
        postMessage({ type: "staged" } satisfies MirrorStageReply);
        return;
      }
      let written = 0;
      if (staged && request.type === "commit") written = commitStaged(staged);
      else if (staged) abortStaged(staged);
      const reply: MirrorStageReply = { type: "done", written, failures: staged?.failures ?? [] };
      postMessage(reply);
    } catch (error) {
      const reply: MirrorStageReply = {
        type: "error",
        message: error instanceof Error ? error.message : String(error),
      };
      postMessage(reply);
    }
  };
}

serve();
