/**
 * The in-process emitter of stored events (docs/events.md, "One stream"): a writer hands
 * every event to it once the store gave the event its id, and the views of the same process
 * (the terminal view, `--events`, the daemon's SSE) listen. An instance is passed to who needs
 * it; there is no global one.
 *
 * @module
 */
import type { AysEvent } from "./types.ts";

/** Receives events in id order. */
export type EventListener = (event: AysEvent) => void;

/** A set of listeners; a listener that throws does not stop the others. */
export class EventBus {
  readonly #listeners = new Set<EventListener>();

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: EventListener): () => void {
    if (typeof listener !== "function") throw new TypeError("an event listener must be a function");
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** Hands `event` to every listener. */
  emit(event: AysEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch {
        // A view's failure must never reach the publisher.
      }
    }
  }

  /** How many listen. */
  get size(): number {
    return this.#listeners.size;
  }
}
