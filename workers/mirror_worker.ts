/**
 * The Web Worker that stages new mirror files while the main thread encodes and commits the
 * records (`src/store/mirror_stage.ts`): `stage` messages bring files to write to temporary
 * names, then one `commit` (rename them into place) or `abort` (remove them) ends it, answered
 * by one `done` message. Messages are handled in order, each synchronously.
 *
 * @module
 */
/// <reference lib="webworker" />
import { join } from "node:path";
import {
  abortStaged,
  chunkFiles,
  commitStaged,
  newStaged,
  type Staged,
  stageFiles,
} from "../src/store/mirror_staging.ts";
import type { MirrorStageReply, MirrorStageRequest } from "../src/store/mirror_stage.ts";

/** Answers the host's messages; the staging lives as long as the worker (one per save). */
function serve(): void {
  let staged: Staged | undefined;
  self.onmessage = (event: MessageEvent<MirrorStageRequest>) => {
    const request = event.data;
    try {
      if (request.type === "stage") {
        // A first apply builds the mirror's `services/` whole, renamed once at the commit.
        staged ??= newStaged(request.root, request.tag, {
          fresh: join(request.root, "services"),
        });
        stageFiles(staged, chunkFiles(request));
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
