/**
 * The Web Worker that runs a template's `input(ctx)` hook during `ays blueprint`
 * (docs/blueprints.md): it imports the actions file by its absolute path, calls the exported
 * `input` with the context it was sent, and posts back what it returned (or the error). One
 * call per worker; the host terminates it afterwards, or on timeout.
 *
 * @module
 */
/// <reference lib="webworker" />
import { pathToFileURL } from "node:url";
import type { InputHostMessage, InputWorkerMessage } from "../src/blueprint/input_types.ts";

function send(message: InputWorkerMessage): void {
  postMessage(message);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

self.onmessage = async (event: MessageEvent<InputHostMessage>) => {
  const { actionsPath, context } = event.data;
  try {
    const module = await import(pathToFileURL(actionsPath).href) as Record<string, unknown>;
    const hook = module.input;
    if (typeof hook !== "function") throw new Error("export input is not a function");
    // The repository view is read-only: input may only describe services, not change others.
    deepFreeze(context.repo);
    const value = await hook(context);
    // Only JSON crosses back: functions, symbols and cycles are refused here.
    const text = JSON.stringify(value === undefined ? null : value);
    send({ ok: true, result: text === undefined ? null : JSON.parse(text) });
  } catch (error) {
    send({ ok: false, error: error instanceof Error ? error.message : String(error) });
  }
};
