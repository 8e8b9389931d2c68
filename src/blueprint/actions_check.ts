/**
 * Checking that an actor's `actions.ts`/`actions.js` imports (docs/blueprints.md#checking-actions-files):
 * the file is imported in a Web Worker with a timeout, as the job worker imports it before an
 * action, so a syntax error or a missing module is found before anything is stored, with its
 * `file:line:column`, instead of failing every job of the run without a place.
 *
 * @module
 */
import { InputError } from "../errors.ts";
import type { ActorRecord } from "../model/mod.ts";
import { workerSpecifier } from "../runtime.ts";
import type { LocatedImportError } from "./import_error.ts";

/** The check worker's one answer: the names exported as functions, or why the import failed. */
export type ActionsCheckMessage =
  | { ok: true; functions: string[] }
  | ({ ok: false } & LocatedImportError);

/** Options of {@link checkActionsFile} and {@link checkActorsImport}. */
export interface ActionsCheckOptions {
  /** How long one import may take (default 30 000 ms). */
  timeoutMs?: number;
}

/** Whether an actor's actions file is one a worker imports (not an unported `actions.py`). */
export function importableActions(actor: ActorRecord): string | null {
  const path = actor.actionsPath;
  return path && /\.(ts|js)$/.test(path) ? path : null;
}

/**
 * Imports `actionsPath` (absolute) in its own worker and resolves with the names it exports as
 * functions, or with the import's error and its place. Never rejects.
 */
export function checkActionsFile(
  actionsPath: string,
  options: ActionsCheckOptions = {},
): Promise<ActionsCheckMessage> {
  const { timeoutMs = 30_000 } = options;
  if (!(timeoutMs > 0)) throw new TypeError(`timeoutMs must be positive, not ${timeoutMs}`);
  const worker = new Worker(workerSpecifier("actions_check_worker"), { type: "module" });
  return new Promise((resolve) => {
    const finish = (message: ActionsCheckMessage) => {
      clearTimeout(timer);
      worker.terminate();
      resolve(message);
    };
    const timer = setTimeout(
      () =>
        finish({
          ok: false,
          message: `importing it did not finish within ${timeoutMs / 1000} s`,
          location: { file: actionsPath, line: 1, column: 1 },
        }),
      timeoutMs,
    );
    worker.onmessage = (event: MessageEvent<ActionsCheckMessage>) => finish(event.data);
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault?.();
      finish({ ok: false, message: event.message || "the check worker failed" });
    };
    worker.postMessage({ actionsPath });
  });
}

/** The {@link InputError} for a failed check of `actionsPath`. */
export function actionsImportError(
  actionsPath: string,
  failed: LocatedImportError,
): InputError {
  // The place names the file; the path is only repeated when the error is in another one.
  const where = failed.location && failed.location.file === actionsPath ? "" : `${actionsPath}: `;
  return new InputError(`${where}the actions file does not import: ${failed.message}`, {
    location: failed.location ?? { file: actionsPath, line: 1, column: 1 },
  });
}

/** How many check workers run at once: enough to overlap their start-up, few enough for 2 cores. */
const CHECKS_AT_ONCE = 4;

/**
 * Imports the actions file of each actor (each file once, a few at a time) and throws the
 * {@link InputError} of the first, in the actors' order, that does not import (`ays blueprint`:
 * refused before anything is written).
 */
export async function checkActorsImport(
  actors: Iterable<ActorRecord>,
  options: ActionsCheckOptions = {},
): Promise<void> {
  const paths = [...new Set([...actors].flatMap((actor) => importableActions(actor) ?? []))];
  const results: ActionsCheckMessage[] = new Array(paths.length);
  let next = 0;
  const lane = async () => {
    while (next < paths.length) {
      const index = next++;
      results[index] = await checkActionsFile(paths[index], options);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CHECKS_AT_ONCE, paths.length) }, lane));
  paths.forEach((path, index) => {
    const checked = results[index];
    if (!checked.ok) throw actionsImportError(path, checked);
  });
}
