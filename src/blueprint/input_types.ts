/**
 * The shapes of the `input(ctx)` hook of `actions.ts` (docs/blueprints.md), shared by the
 * host (`input_hook.ts`) and its worker (`workers/input_worker.ts`).
 *
 * @module
 */

/** A service as `input` sees the repository: read-only, secrets left out. */
export interface InputServiceView {
  name: string;
  actor: string;
  role: string;
  data: Record<string, unknown>;
}

/** What `input(ctx)` is called with. */
export interface InputContext {
  /** The service being declared, with the blueprint's attributes as written. */
  service: { name: string; actor: string; role: string; args: Record<string, unknown> };
  /** The repository: its name, folder and the services in the store (frozen). */
  repo: { name: string; path: string; services: InputServiceView[] };
}

/** One further service `input` asks for, applied as if a blueprint declared it. */
export interface InputService {
  actor: string;
  instance: string;
  args?: Record<string, unknown>;
  /** The parent: `role!instance` or an instance name. */
  parent?: string;
  /** Producers by role: an instance name or a list of them. */
  producers?: Record<string, string | string[]>;
}

/** What `input(ctx)` may return (or nothing). */
export interface InputResult {
  /** Attributes replacing or adding to the blueprint's (by the key as written). */
  args?: Record<string, unknown>;
  services?: InputService[];
}

/** The host's one message to the input worker. */
export interface InputHostMessage {
  actionsPath: string;
  context: InputContext;
}

/** The worker's one answer. */
export type InputWorkerMessage =
  | { ok: true; result: unknown }
  | { ok: false; error: string };
