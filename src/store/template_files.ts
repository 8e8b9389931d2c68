/**
 * Template files by content hash (docs/fleet.md, "What a worker runs"): the files of an actor
 * template's folder kept in the repository's store under the SHA-256 of the folder's tree, as
 * the text of actions files is kept under theirs, so a worker of the fleet fetches exactly the
 * code a job was sent with and needs no checkout of the repository.
 *
 * One value per tree (`tree:<sha>`), written once: a tree with that hash holds those files.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { KeyValueStore } from "./driver.ts";

/** One file of a template tree: its path relative to the template folder (`/`-separated). */
export interface TreeFile {
  path: string;
  data: Uint8Array;
}

/** The store key of the tree with SHA-256 `sha` (hex). */
export function templateTreeKey(sha: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha)) throw new TypeError(`not a SHA-256 in hex: ${sha}`);
  return `tree:${sha}`;
}

/** Keeps the files of a tree under its hash; writes nothing when the store has it already. */
export async function saveTemplateTree(
  store: Pick<KeyValueStore, "get" | "set">,
  tree: { sha: string; files: readonly TreeFile[] },
): Promise<void> {
  const { sha, files } = tree;
  const key = templateTreeKey(sha);
  if ((await store.get(key)) !== null) return;
  const text = JSON.stringify({
    files: files.map((f) => ({ path: f.path, data: Buffer.from(f.data).toString("base64") })),
  });
  await store.set(key, new TextEncoder().encode(text));
}

/**
 * The files of the tree `sha`, or null when the store does not have it. The caller checks
 * that they hash to `sha` before running any of them.
 */
export async function loadTemplateTree(
  store: Pick<KeyValueStore, "get">,
  sha: string,
): Promise<TreeFile[] | null> {
  const bytes = await store.get(templateTreeKey(sha));
  if (bytes === null) return null;
  const parsed = JSON.parse(new TextDecoder().decode(bytes)) as {
    files?: { path?: unknown; data?: unknown }[];
  };
  if (!Array.isArray(parsed.files)) throw new Error(`template tree ${sha}: malformed record`);
  return parsed.files.map((f) => {
    if (typeof f.path !== "string" || typeof f.data !== "string") {
      throw new Error(`template tree ${sha}: malformed record`);
    }
    return { path: f.path, data: new Uint8Array(Buffer.from(f.data, "base64")) };
  });
}
