/**
 * What a coordinator sends a worker of the fleet (docs/fleet.md, "What a worker runs"): the
 * job request with the actor template named by the hash of its tree, the attempt's settings,
 * and — when the fleet has a key (`AYS_FLEET_KEY`) — an HMAC-SHA256 of the payload's text, so
 * a worker with the key runs only what a holder of the key sent.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createHmac, timingSafeEqual } from "node:crypto";
import type { JobRequest } from "../run/mod.ts";

/** The version of the payload format. */
export const PAYLOAD_VERSION = 1;

/** A template tree's name: the hex SHA-256 of its files. */
const SHA = /^[0-9a-f]{64}$/;

/** The job as a worker gets it. */
export interface FleetPayload {
  v: number;
  /** The request, its `actionsPath` relative to the template tree (or null: no file). */
  request: JobRequest;
  /** SHA-256 of the template folder's tree (null when the actor has no actions file). */
  tree: string | null;
  /**
   * The template trees of `request.ancestors`, in their order (null for one without an actions
   * file); each ancestor's `actionsPath` is relative to its tree. Absent: the request has no
   * ancestors.
   */
  ancestorTrees?: (string | null)[];
  /** The label of the queue it was sent to. */
  label: string;
  timeoutMs?: number;
  isolation?: "pool" | "job" | "process";
}

/** The data of a BullMQ job of the fleet: the payload's text and its signature. */
export interface FleetJobData {
  payload: string;
  /** `hmac-sha256:<hex>`, or null when the coordinator has no key. */
  signature: string | null;
}

/** Signs a payload's text with the fleet key. */
export function signPayload(text: string, key: string): string {
  return `hmac-sha256:${createHmac("sha256", key).update(text).digest("hex")}`;
}

/** The job data of a payload, signed when `key` is set. */
export function encodePayload(payload: FleetPayload, key?: string): FleetJobData {
  const text = JSON.stringify(payload);
  return { payload: text, signature: key ? signPayload(text, key) : null };
}

/** A job a worker refuses to run (unsigned, wrongly signed, malformed). */
export class RefusedJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RefusedJobError";
  }
}

/**
 * The payload of job data; a worker with `key` refuses (RefusedJobError) a job that is
 * unsigned or whose signature does not match, before reading anything else of it.
 */
export function decodePayload(data: unknown, key?: string): FleetPayload {
  const d = data as Partial<FleetJobData> | null;
  if (typeof d !== "object" || d === null || typeof d.payload !== "string") {
    throw new RefusedJobError("refused: not a job of the ays fleet");
  }
  if (key) {
    if (typeof d.signature !== "string") {
      throw new RefusedJobError("refused: the job is not signed and this worker has a fleet key");
    }
    const want = Buffer.from(signPayload(d.payload, key));
    const got = Buffer.from(d.signature);
    if (want.length !== got.length || !timingSafeEqual(want, got)) {
      throw new RefusedJobError(
        "refused: the job's signature does not match this worker's fleet key",
      );
    }
  }
  let payload: FleetPayload;
  try {
    payload = JSON.parse(d.payload) as FleetPayload;
  } catch {
    throw new RefusedJobError("refused: the job's payload is not JSON");
  }
  if (payload?.v !== PAYLOAD_VERSION) {
    throw new RefusedJobError(
      `refused: payload version ${String(payload?.v)} (this worker reads ${PAYLOAD_VERSION})`,
    );
  }
  if (payload.tree !== null && !SHA.test(String(payload.tree))) {
    throw new RefusedJobError("refused: the job names no valid template tree");
  }
  const trees = payload.ancestorTrees;
  if (
    trees !== undefined &&
    (!Array.isArray(trees) || trees.length !== (payload.request?.ancestors?.length ?? 0) ||
      !trees.every((t) => t === null || SHA.test(String(t))))
  ) {
    throw new RefusedJobError("refused: the job names no valid template trees of its ancestors");
  }
  return payload;
}
