/**
 * The Web Worker that checks an actions file for `ays validate` and `ays blueprint`
 * (docs/blueprints.md#checking-actions-files): it imports the file by its absolute path and
 * posts back the names it exports as functions, or why the import failed with its
 * `file:line:column`. One check per worker; the host terminates it afterwards, or on timeout.
 * Importing runs the module's top level, as the job worker does before every action.
 *
 * @module
 */
/// <reference lib="webworker" />
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { locateImportError } from "../src/blueprint/import_error.ts";
import type { ActionsCheckMessage } from "../src/blueprint/actions_check.ts";

function send(message: ActionsCheckMessage): void {
  postMessage(message);
}

function readSource(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

self.onmessage = async (event: MessageEvent<{ actionsPath: string }>) => {
  const { actionsPath } = event.data;
  try {
    const module = await import(pathToFileURL(actionsPath).href) as Record<string, unknown>;
    const functions = Object.keys(module).filter((name) => typeof module[name] === "function");
    send({ ok: true, functions });
  } catch (error) {
    send({ ok: false, ...locateImportError(error, actionsPath, { readSource }) });
  }
};
