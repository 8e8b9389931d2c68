/**
 * SHA-256, from `node:crypto` loaded at the first digest rather than at start-up: importing it
 * costs a few milliseconds (it brings the stream modules along), which `ays list` and every
 * other command that hashes nothing would pay (docs/benchmarks.md, "start-up"). The hex digest
 * is Bun's own hasher's where there is one (`src/runtime.ts`): the same digest, cheaper.
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import { runtimeSha256Hex } from "./runtime.ts";

/** The SHA-256 digest of `data` (text as UTF-8). */
export function sha256(data: string | Uint8Array): Buffer {
  const { createHash } = process.getBuiltinModule("node:crypto");
  return createHash("sha256").update(data).digest();
}

/** The SHA-256 digest of `data` (text as UTF-8) in lower-case hex. */
export function sha256Hex(data: string | Uint8Array): string {
  return runtimeSha256Hex(data) ?? sha256(data).toString("hex");
}
