/**
 * `GET /events` of the daemon (docs/events.md, "GET /events"): the event stream of the served
 * repositories as Server-Sent Events. With `?repo=R` one repository and the SSE `id:` is the
 * event's id; without, every served repository, with a cursor `id:` naming each one's last id.
 * Resumable with `Last-Event-ID` (or `?since=`): what the store still has after the cursor is
 * sent first, then the live events, nothing lost and nothing twice.
 *
 * A client that reads slower than events come is never waited for: its unsent bytes are
 * bounded, and past the bound it gets a final `stream.dropped` event and is disconnected (it
 * can come back with its `Last-Event-ID`). Catching up on stored events is paced by the
 * client instead, since it holds nothing of the daemon's back.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AysEvent, EventLog, EventTail } from "../events/mod.ts";
import { type HttpRoute, sendJson } from "./http.ts";
import { type Logger, silentLogger } from "./logger.ts";

/** The stream of one served repository: its stored log and the shared follower of it. */
export interface RepoEventSource {
  log: EventLog;
  tail: EventTail;
}

/** Options of {@link eventsRoute}. */
export interface EventsRouteOptions {
  /** Unsent bytes a client may have before it is dropped; default 1 MiB. */
  maxBufferedBytes?: number;
  /** Stored events a client may still have to catch up on while live ones wait; default 10 000. */
  maxPending?: number;
  /** A comment line this often keeps proxies from closing an idle stream; default 15 s. */
  heartbeatMs?: number;
  logger?: Logger;
}

/** The route and the way to end its streams when the daemon stops. */
export interface EventsRoute {
  route: HttpRoute;
  /** How many clients are connected. */
  clients(): number;
  /** Ends every stream (each gets no final event: the daemon's `daemon.stopped` was the last). */
  close(): void;
}

/**
 * How much of a burst of live events goes to a client's socket in one write (characters of SSE
 * text; one event more may pass it): small enough that the unread bound is checked often, large
 * enough that a burst of short events takes a few writes, not one per event.
 */
const WRITE_SLICE_BYTES = 64 * 1024;

/** The event a dropped client gets last; it is not one of the repository's events (no id). */
export interface StreamDroppedEvent {
  type: "stream.dropped";
  time: string;
  reason: string;
}

/** An answer of the route other than the stream. */
class RouteError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/**
 * Makes `GET /events` over the sources of the served repositories (by name). Everything else
 * is left to the other routes.
 */
export function eventsRoute(
  sources: ReadonlyMap<string, RepoEventSource>,
  options: EventsRouteOptions = {},
): EventsRoute {
  const {
    maxBufferedBytes = 1024 * 1024,
    maxPending = 10_000,
    heartbeatMs = 15_000,
    logger = silentLogger,
  } = options;
  if (!(maxBufferedBytes > 0)) throw new RangeError("maxBufferedBytes must be positive");
  const open = new Set<() => void>();
  // Every client gets the same event: turn it into JSON once, not once per client.
  const texts = new WeakMap<AysEvent, string>();
  const textOf = (event: AysEvent): string => {
    let text = texts.get(event);
    if (text === undefined) {
      text = JSON.stringify(event);
      texts.set(event, text);
    }
    return text;
  };
  const frames = new WeakMap<AysEvent, string>();
  const frameOf = (event: AysEvent): string => {
    let text = frames.get(event);
    if (text === undefined) {
      text = `id: ${event.id}\ndata: ${textOf(event)}\n\n`;
      frames.set(event, text);
    }
    return text;
  };

  const route: HttpRoute = (req, res, parts) => {
    if (parts.length !== 1 || parts[0] !== "events") return false;
    try {
      if ((req.method ?? "GET") !== "GET") {
        throw new RouteError(405, `${req.method} is not allowed here; use GET`);
      }
      const start = startOf(req, sources);
      serve(req, res, start);
    } catch (error) {
      if (!(error instanceof RouteError)) throw error;
      const headers = error.status === 405 ? { allow: "GET" } : {};
      sendJson(
        res,
        error.status,
        { error: { status: error.status, message: error.message } },
        headers,
      );
    }
    return true;
  };

  /** Streams from the cursors of `start` (null: only what comes from now on). */
  function serve(req: IncomingMessage, res: ServerResponse, start: Start): void {
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    res.write("retry: 2000\n\n");
    const single = start.single;
    const sent = new Map<string, number>();
    let closed = false;
    const unsubscribes: (() => void)[] = [];
    const end = () => {
      if (closed) return;
      closed = true;
      clearInterval(beat);
      for (const unsubscribe of unsubscribes) unsubscribe();
      open.delete(end);
      res.end();
    };
    open.add(end);
    req.on("close", end);
    res.on("error", end);
    const beat = setInterval(() => {
      if (!closed) res.write(": ping\n\n");
    }, heartbeatMs);

    const cursorText = (): string => {
      if (single) return String(sent.get(single) ?? 0);
      const params = new URLSearchParams();
      for (const [repo, id] of sent) params.set(repo, String(id));
      return params.toString();
    };
    const drop = (reason: string) => {
      if (closed) return;
      const event: StreamDroppedEvent = {
        type: "stream.dropped",
        time: new Date().toISOString(),
        reason,
      };
      res.write(`data: ${JSON.stringify(event)}\n\n`);
      logger.warn("dropped an event stream client", { reason });
      end();
    };
    /** The message of one event, or null when this client had it already. */
    const frame = (event: AysEvent): string | null => {
      const repo = event.repo;
      if (event.id <= (sent.get(repo) ?? 0)) return null;
      sent.set(repo, event.id);
      // One repository: the message is the same for every client, made once.
      return single ? frameOf(event) : `id: ${cursorText()}\ndata: ${textOf(event)}\n\n`;
    };
    // Live events come in bursts (a stored batch of up to 2,000): one socket write per slice of
    // a burst, not per event, and the bound checked after each slice — a burst written whole
    // would hold all of it for a client that does not read, whatever the bound.
    let burst: string[] = [];
    const flushBurst = () => {
      const texts = burst;
      burst = [];
      for (let at = 0; at < texts.length && !closed;) {
        let size = 0;
        let upto = at;
        while (upto < texts.length && (upto === at || size < WRITE_SLICE_BYTES)) {
          size += texts[upto++].length;
        }
        res.write(texts.slice(at, upto).join(""));
        at = upto;
        if (res.writableLength > maxBufferedBytes) {
          drop(`more than ${maxBufferedBytes} bytes unread: reconnect with Last-Event-ID`);
        }
      }
    };
    /**
     * Writes one event at once (a stored one while catching up); false when the client's buffer
     * is full. A burst of live events waiting goes first: frames go out in the order they were
     * made, since with every repository streamed a frame's cursor names the events framed before
     * it — sent after a later one, a client that disconnected in between would resume past it.
     */
    const write = (event: AysEvent): boolean => {
      if (burst.length > 0) flushBurst();
      if (closed) return true;
      const text = frame(event);
      return text === null ? true : res.write(text);
    };
    const enqueue = (event: AysEvent) => {
      const text = frame(event);
      if (text === null) return;
      if (burst.length === 0) queueMicrotask(flushBurst);
      burst.push(text);
    };

    for (const [repo, source] of start.repos) {
      const pending: AysEvent[] = [];
      let live = false;
      unsubscribes.push(source.tail.subscribe((event) => {
        if (closed) return;
        if (!live) {
          if (pending.length >= maxPending) return drop("too far behind while catching up");
          pending.push(event);
          return;
        }
        enqueue(event);
      }));
      const cursor = start.cursors.get(repo);
      if (cursor === undefined) {
        // Only new events: everything the tail has handed out so far counts as seen.
        sent.set(repo, source.tail.lastId);
        live = true;
        // Through the bursts: the unread bound holds for what piled up, too.
        for (const event of pending.splice(0)) enqueue(event);
        continue;
      }
      sent.set(repo, cursor);
      void catchUp(source.log, cursor, {
        write,
        isClosed: () => closed,
        drained: () => waitDrain(res),
      }).then(() => {
        live = true;
        for (const event of pending.splice(0)) enqueue(event);
      }, (error) => {
        logger.error("reading stored events failed", { repo, error });
        end();
      });
    }
  }

  return {
    route,
    clients: () => open.size,
    close() {
      for (const end of [...open]) end();
    },
  };
}

/** Where a stream starts. */
interface Start {
  /** The repository of `?repo=`, or null for every one. */
  single: string | null;
  repos: Map<string, RepoEventSource>;
  /** The last id the client saw per repository; absent: start with new events. */
  cursors: Map<string, number>;
}

function startOf(req: IncomingMessage, sources: ReadonlyMap<string, RepoEventSource>): Start {
  const url = new URL(req.url ?? "/", "http://localhost");
  for (const key of url.searchParams.keys()) {
    if (key !== "repo" && key !== "since") {
      throw new RouteError(400, `unknown query parameter '${key}' (use repo and since)`);
    }
  }
  const repo = url.searchParams.get("repo");
  const since = url.searchParams.get("since");
  const header = req.headers["last-event-id"];
  const last = typeof header === "string" && header.trim() !== "" ? header.trim() : null;
  const cursors = new Map<string, number>();
  if (repo !== null) {
    const source = sources.get(repo);
    if (!source) throw new RouteError(404, `unknown repository '${repo}'`);
    // Last-Event-ID (a reconnect) wins over the since of the URL it reconnects to.
    const given = last ?? since;
    if (given !== null) {
      cursors.set(repo, eventId(given, last !== null ? "Last-Event-ID" : "since"));
    }
    return { single: repo, repos: new Map([[repo, source]]), cursors };
  }
  if (last !== null) {
    // The cursor of the all-repositories stream: repo=id pairs, as a query string.
    for (const [name, id] of new URLSearchParams(last)) {
      if (sources.has(name)) cursors.set(name, eventId(id, "Last-Event-ID"));
    }
    // A repository the cursor does not name started after it: all of its stored events.
    for (const name of sources.keys()) if (!cursors.has(name)) cursors.set(name, 0);
  } else if (since !== null) {
    const id = eventId(since, "since");
    for (const name of sources.keys()) cursors.set(name, id);
  }
  return { single: null, repos: new Map(sources), cursors };
}

function eventId(text: string, what: string): number {
  if (!/^\d{1,15}$/.test(text)) {
    throw new RouteError(400, `${what} must be an event id (a whole number ≥ 0), not '${text}'`);
  }
  return Number(text);
}

/** Sends the stored events after `cursor`, waiting for the client when its buffer is full. */
async function catchUp(
  log: EventLog,
  cursor: number,
  io: { write(event: AysEvent): boolean; isClosed(): boolean; drained(): Promise<void> },
): Promise<void> {
  let after = cursor;
  while (!io.isClosed()) {
    const batch = await log.since(after, { limit: 500 });
    if (batch.length === 0) return;
    for (const event of batch) {
      after = event.id;
      if (!io.write(event)) await io.drained();
      if (io.isClosed()) return;
    }
  }
}

function waitDrain(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}
