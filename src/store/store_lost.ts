/**
 * A store that lost its data while ays used it (`docs/store.md`, "A store that lost its data"):
 * typically a Redis without persistence that restarted. Once a driver has seen the store's layout
 * record, every write checks — in the same atomic step, so it costs no round trip — that the
 * record still exists; when it is gone the driver stops at once and every later call fails with
 * {@link StoreLostError}. A later command that finds a store without a layout record but a mirror
 * with records says the same instead of showing an empty repository.
 *
 * @module
 */
import { UnavailableError } from "../errors.ts";
import type { StoreKind } from "./driver.ts";

/** The marker a backend's guarded write answers with when the layout record is gone. */
export const STORE_LOST_REPLY = "AYSLOST";

/** What probably happened, by backend. */
function likelyCause(kind: StoreKind): string {
  return kind === "redis" ? "restarted without persistence?" : "its file was replaced?";
}

/** The store at `location` lost its data while in use, or since the mirror was written (exit 4). */
export class StoreLostError extends UnavailableError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = "StoreLostError";
  }
}

/** The error of a store whose layout record vanished while this process used it. */
export function storeLostWhileInUse(kind: StoreKind, location: string): StoreLostError {
  return new StoreLostError(
    `the store ${location} lost its data (${likelyCause(kind)}): ays stopped writing to it; ` +
      `ays restore rebuilds its actors and services from the mirror`,
  );
}

/**
 * The error of a store that has no records although the repository's mirror shows `actors`
 * actors and `services` services.
 */
export function storeLostSinceMirror(
  kind: StoreKind,
  location: string,
  counts: { actors: number; services: number },
): StoreLostError {
  return new StoreLostError(
    `the store ${location} lost its data (${likelyCause(kind)}): it holds no records, but ` +
      `the mirror shows ${counts.actors} actors and ${counts.services} services; ` +
      `ays restore rebuilds them from the mirror`,
  );
}
