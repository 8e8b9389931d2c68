/**
 * The daemon's HTTP API (docs/daemon.md, "HTTP API") on `node:http`, which Bun and Deno both implement. It reads
 * through a {@link DaemonBackend} and answers with the JSON the CLI prints with `--json`.
 *
 * Token rules: off loopback the API refuses to start without a token; with a token every route
 * but `GET /health` needs `Authorization: Bearer <token>`, compared in constant time.
 *
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { z } from "zod";
import { AysError, ExitCode, InputError, UnavailableError } from "../errors.ts";
import { compileNameRegex, serviceName } from "../model/mod.ts";
import type { DaemonBackend, RunRequest } from "./backend.ts";
import { DEFAULT_LISTEN, formatListen, isLoopback, type ListenAddress } from "./listen.ts";
import { type Logger, silentLogger } from "./logger.ts";

/** Options of {@link startHttpApi}. */
export interface HttpApiOptions {
  /** Default `127.0.0.1:5000`; port 0 picks a free one. */
  listen?: ListenAddress;
  /** The bearer token (`--token` / `AYS_TOKEN`); required off loopback. */
  token?: string;
  logger?: Logger;
  /** Largest accepted request body; default 64 KiB. */
  maxBodyBytes?: number;
  /** Extra fields of `GET /health` (no secrets: it needs no token). */
  health?: () => Record<string, unknown>;
  /**
   * Routes that write their own answer (a stream, a file), tried in order after the token
   * check and before the JSON routes: `GET /events` (`events_route.ts`), the dashboard.
   */
  routes?: readonly HttpRoute[];
  /**
   * Another way a request may pass the token rule besides `Authorization: Bearer` (e.g. the
   * dashboard's session cookie, or its login page needing none). Asked only when a token is
   * set and the bearer header does not match; true lets the request through.
   */
  authorize?: RequestAuthorizer;
}

/**
 * A route that writes its own answer: returns true when it took the request (it answers on
 * `res`, also with errors), false when the path is not its own.
 */
export type HttpRoute = (
  req: IncomingMessage,
  res: ServerResponse,
  parts: readonly string[],
) => boolean | Promise<boolean>;

/** See {@link HttpApiOptions.authorize}; `parts` are the decoded path segments. */
export type RequestAuthorizer = (req: IncomingMessage, parts: readonly string[]) => boolean;

/** A running HTTP API. */
export interface HttpApi {
  /** Where it really listens (the port is the real one when 0 was asked). */
  address: ListenAddress;
  /** `http://host:port`. */
  url: string;
  /** Stops accepting, drops idle connections; resolves when the server is closed. */
  close(): Promise<void>;
}

/** An answer with a status other than 2xx, turned into `{error: {status, message}}`. */
class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly headers = {}) {
    super(message);
  }
}

/** Instance filters are regexes: one that does not compile is a 400, not a failed run later. */
const instanceRegex = z.string().min(1).superRefine((value, ctx) => {
  try {
    compileNameRegex(value, { what: "instance" });
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message });
  }
});

/** The body of `POST /repos/{name}/runs`; unknown keys are refused so typos do not pass. */
export const runRequestSchema: z.ZodType<RunRequest> = z.strictObject({
  action: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "expected an action name").optional(),
  role: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, "expected a role or actor name")
    .optional(),
  instance: instanceRegex.optional(),
  parallel: z.number().int().min(1).max(1000).optional(),
});

/**
 * Validates a run request body (already parsed JSON); the {@link InputError} names every
 * problem as `field: message`.
 */
export function parseRunRequest(body: unknown): RunRequest {
  const parsed = runRequestSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const where = issue.path.length > 0 ? issue.path.join(".") : "body";
    return `${where}: ${issue.message}`;
  });
  throw new InputError(`invalid run request: ${problems.join("; ")}`);
}

function digest(text: string): Uint8Array {
  return createHash("sha256").update(text).digest();
}

/** Constant-time check of an `Authorization` header against the token. */
function authorized(header: string | undefined, tokenDigest: Uint8Array): boolean {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? "");
  // Comparing digests keeps the comparison constant-time even when the lengths differ.
  const given = digest(match ? match[1] : "");
  return timingSafeEqual(given, tokenDigest) && match !== null;
}

/** Answers with `body` as JSON (error bodies are `{error: {status, message}}`). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers = {}): void {
  const text = JSON.stringify(body) + "\n";
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": String(new TextEncoder().encode(text).length),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(text);
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  let size = 0;
  for await (const chunk of req) {
    const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk as Uint8Array;
    size += bytes.length;
    if (size > limit) throw new HttpError(413, `request body is larger than ${limit} bytes`);
    text += decoder.decode(bytes, { stream: true });
  }
  return text + decoder.decode();
}

/** Parses the body of a POST: empty means `{}`, anything else must be a JSON object. */
async function jsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const text = await readBody(req, limit);
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, `request body is not valid JSON: ${(error as Error).message}`);
  }
}

function segmentsOf(url: string): string[] {
  const path = new URL(url, "http://localhost").pathname.replace(/\/+$/, "");
  try {
    return path.split("/").slice(1).map((part) => decodeURIComponent(part));
  } catch {
    throw new HttpError(400, `malformed percent-encoding in path '${path}'`);
  }
}

/** One route: the methods it answers and what it does. */
type Handler = (req: IncomingMessage) => Promise<[number, unknown]>;

/**
 * Starts the API. Off loopback without a token it refuses ({@link InputError}, exit 2); a port
 * in use or an address this machine does not have is an {@link UnavailableError} (exit 4).
 */
export async function startHttpApi(
  backend: DaemonBackend,
  options: HttpApiOptions = {},
): Promise<HttpApi> {
  const listen = options.listen ?? DEFAULT_LISTEN;
  const logger = options.logger ?? silentLogger;
  const limit = options.maxBodyBytes ?? 64 * 1024;
  const token = options.token === "" ? undefined : options.token;
  if (token === undefined && !isLoopback(listen.host)) {
    throw new InputError(
      `refusing to serve the API on ${
        formatListen(listen)
      } without a token: give --token or AYS_TOKEN, or listen on loopback`,
    );
  }
  if (token !== undefined && !/^\S+$/.test(token)) {
    // An Authorization header cannot carry it as one word, so no client could ever match.
    throw new InputError("the API token must not contain whitespace");
  }
  const tokenDigest = token === undefined ? undefined : digest(token);

  const needRepo = async (name: string) => {
    if (!(await backend.hasRepo(name))) throw new HttpError(404, `unknown repository '${name}'`);
  };

  /** The routes: path pattern → method → handler. */
  const route = (parts: string[]): Record<string, Handler> | null => {
    const [a, b, c, d, e] = parts;
    const n = parts.length;
    if (n === 1 && a === "health") {
      return { GET: () => Promise.resolve([200, { status: "ok", ...options.health?.() }]) };
    }
    if (n === 1 && a === "repos") return { GET: async () => [200, await backend.repos()] };
    if (n === 2 && a === "runs") {
      return {
        GET: async () => {
          const run = await backend.run(b);
          if (run === null) throw new HttpError(404, `unknown run '${b}'`);
          return [200, run];
        },
      };
    }
    if (a !== "repos" || n < 3) return null;
    if (n === 3 && c === "services") {
      return { GET: async () => (await needRepo(b), [200, await backend.services(b)]) };
    }
    if (n === 5 && c === "services") {
      return {
        GET: async () => {
          await needRepo(b);
          const service = await backend.service(b, { role: d, instance: e });
          if (service === null) {
            throw new HttpError(404, `unknown service '${serviceName(d, e)}' in '${b}'`);
          }
          return [200, service];
        },
      };
    }
    if (n === 3 && c === "runs") {
      return {
        GET: async () => (await needRepo(b), [200, await backend.runs(b)]),
        POST: async (req) => {
          await needRepo(b);
          const request = parseRunRequest(await jsonBody(req, limit));
          const id = await backend.queueRun(b, request);
          logger.info("run queued", { repo: b, id, ...request, source: "http" });
          return [202, { id }];
        },
      };
    }
    return null;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? "GET";
    const started = performance.now();
    let status = 500;
    try {
      const parts = segmentsOf(req.url ?? "/");
      const isHealth = parts.length === 1 && parts[0] === "health";
      if (
        tokenDigest && !isHealth && !authorized(req.headers.authorization, tokenDigest) &&
        !options.authorize?.(req, parts)
      ) {
        throw new HttpError(
          401,
          req.headers.authorization ? "wrong token" : "missing Authorization: Bearer <token>",
          { "www-authenticate": 'Bearer realm="ays"' },
        );
      }
      for (const own of options.routes ?? []) {
        if (await own(req, res, parts)) {
          status = res.statusCode;
          return;
        }
      }
      const methods = route(parts);
      if (methods === null) throw new HttpError(404, `no such endpoint: ${method} ${req.url}`);
      const handler = methods[method];
      if (!handler) {
        const allow = Object.keys(methods).join(", ");
        throw new HttpError(405, `${method} is not allowed here; use ${allow}`, { allow });
      }
      const [code, body] = await handler(req);
      status = code;
      sendJson(res, code, body);
    } catch (error) {
      const [code, message, headers] = errorAnswer(error);
      status = code;
      if (code >= 500) logger.error("request failed", { method, url: req.url, error });
      if (!res.headersSent) sendJson(res, code, { error: { status: code, message } }, headers);
      else res.end();
    } finally {
      logger.debug("request", {
        method,
        url: req.url,
        status,
        ms: Math.round((performance.now() - started) * 10) / 10,
      });
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => reject(listenError(error, listen));
    server.once("error", onError);
    server.listen({ host: listen.host, port: listen.port }, () => {
      server.off("error", onError);
      resolve();
    });
  });
  server.on("error", (error) => logger.error("http server error", { error }));
  const bound = server.address();
  const address = typeof bound === "object" && bound !== null
    ? { host: bound.address, port: bound.port }
    : listen;
  logger.info("http api listening", {
    address: formatListen(address),
    // Not named "token": the logger masks such fields, which would hide whether auth is on.
    auth: token === undefined ? "none" : "bearer token",
  });
  let closing: Promise<void> | undefined;
  return {
    address,
    url: `http://${formatListen(address)}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        // Requests still in flight get a moment to finish, then are cut.
        const cut = setTimeout(() => server.closeAllConnections?.(), 2000);
        server.close(() => {
          clearTimeout(cut);
          resolve();
        });
        server.closeIdleConnections?.();
      });
      return closing;
    },
  };
}

/** Maps a failure to status, message and extra headers. */
function errorAnswer(error: unknown): [number, string, Record<string, string>] {
  if (error instanceof HttpError) return [error.status, error.message, error.headers];
  if (error instanceof AysError) {
    if (error.exitCode === ExitCode.badInput) return [400, error.message, {}];
    if (error.exitCode === ExitCode.locked) return [409, error.message, {}];
    if (error.exitCode === ExitCode.unavailable) return [503, error.message, {}];
  }
  return [500, "internal error", {}];
}

/** Turns a listen failure into the error docs/daemon.md states (port in use: exit 4). */
function listenError(error: NodeJS.ErrnoException, listen: ListenAddress): AysError {
  const where = formatListen(listen);
  switch (error.code) {
    case "EADDRINUSE":
      return new UnavailableError(`cannot listen on ${where}: the port is in use`, {
        cause: error,
      });
    case "EACCES":
      return new UnavailableError(`cannot listen on ${where}: permission denied`, {
        cause: error,
      });
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new InputError(`cannot listen on ${where}: unknown host '${listen.host}'`, {
        cause: error,
      });
    default:
      return new UnavailableError(`cannot listen on ${where}: ${error.message}`, { cause: error });
  }
}
