/**
 * How the dashboard's routes answer: JSON, and errors as `{"error": {"status", "message"}}` like
 * the rest of the daemon's API (docs/daemon.md, "HTTP API"), with the same status per kind of
 * failure (bad input 400, locked 409, store unavailable 503, anything else 500 with details only
 * in the log).
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { AysError, ExitCode } from "../errors.ts";
import { type Logger, sendJson, silentLogger } from "../daemon/mod.ts";

/** A failure with its HTTP status (404 an unknown repository, 413 a body too large…). */
export class DashboardError extends Error {
  constructor(readonly status: number, message: string, readonly headers = {}) {
    super(message);
  }
}

/** The methods of one path, each answering `[status, JSON body]`. */
export type JsonRoute = Record<string, (req: IncomingMessage) => Promise<[number, unknown]>>;

/** The status, message and headers for a failure. */
export function errorAnswer(error: unknown): [number, string, Record<string, string>] {
  if (error instanceof DashboardError) return [error.status, error.message, error.headers];
  if (error instanceof AysError) {
    if (error.exitCode === ExitCode.badInput) return [400, error.message, {}];
    if (error.exitCode === ExitCode.locked) return [409, error.message, {}];
    if (error.exitCode === ExitCode.unavailable) return [503, error.message, {}];
  }
  return [500, "internal error", {}];
}

/** Sends `{error: {status, message}}`. */
export function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { error: { status, message } }, headers);
}

/** Answers a request with the method's handler of `route`: 405 for another method. */
export async function answerRoute(
  req: IncomingMessage,
  res: ServerResponse,
  route: JsonRoute,
  options: { logger?: Logger } = {},
): Promise<void> {
  const { logger = silentLogger } = options;
  const method = req.method ?? "GET";
  try {
    const handler = Object.hasOwn(route, method) ? route[method] : undefined;
    if (!handler) {
      const allow = Object.keys(route).join(", ");
      throw new DashboardError(405, `${method} is not allowed here; use ${allow}`, { allow });
    }
    const [status, body] = await handler(req);
    sendJson(res, status, body);
  } catch (error) {
    const [status, message, headers] = errorAnswer(error);
    if (status >= 500) logger.error("request failed", { method, url: req.url, error });
    if (!res.headersSent) sendError(res, status, message, headers);
    else res.end();
  }
}

/** Reads a JSON object body of at most `limit` bytes (413 beyond, 400 when it is not one). */
export async function readJson(
  req: IncomingMessage,
  limit: number,
): Promise<Record<string, unknown>> {
  let text = "";
  const decoder = new TextDecoder();
  let size = 0;
  for await (const chunk of req) {
    const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk as Uint8Array;
    size += bytes.length;
    if (size > limit) throw new DashboardError(413, `request body is larger than ${limit} bytes`);
    text += decoder.decode(bytes, { stream: true });
  }
  text += decoder.decode();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new DashboardError(400, `request body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new DashboardError(400, "request body must be a JSON object");
  }
  return body as Record<string, unknown>;
}
