/**
 * A small Server-Sent Events client for tests and benches: reads a `text/event-stream`
 * response message by message, as `EventSource` would, keeping the `id:` of each.
 *
 * @module
 */

/** One message of the stream. */
export interface SseMessage {
  /** The `id:` field, if the message had one. */
  id?: string;
  /** The `event:` field, if any. */
  event?: string;
  /** The `data:` lines joined by newlines. */
  data: string;
}

/** An open stream. */
export interface SseStream {
  status: number;
  headers: Headers;
  /** The next message; null when the stream ended. Comments (`: ping`) are skipped. */
  next(): Promise<SseMessage | null>;
  /** Reads messages until `done` says stop (or the stream ends); returns those read. */
  take(done: (messages: SseMessage[]) => boolean): Promise<SseMessage[]>;
  /** Ends the request. */
  close(): void;
}

/** Opens `url` as an event stream (a non-2xx answer is returned with no messages). */
export async function openSse(
  url: string,
  headers: Record<string, string> = {},
): Promise<SseStream> {
  const abort = new AbortController();
  const response = await fetch(url, { headers, signal: abort.signal });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let ended = false;
  const next = async (): Promise<SseMessage | null> => {
    for (;;) {
      const cut = buffer.indexOf("\n\n");
      if (cut >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const message = parseBlock(block);
        if (message) return message;
        continue;
      }
      if (ended) return null;
      let chunk;
      try {
        chunk = await reader.read();
      } catch {
        ended = true;
        continue;
      }
      if (chunk.done) ended = true;
      else buffer += decoder.decode(chunk.value, { stream: true });
    }
  };
  return {
    status: response.status,
    headers: response.headers,
    next,
    async take(done) {
      const messages: SseMessage[] = [];
      while (!done(messages)) {
        const message = await next();
        if (message === null) break;
        messages.push(message);
      }
      return messages;
    },
    close: () => abort.abort(),
  };
}

function parseBlock(block: string): SseMessage | null {
  const data: string[] = [];
  const message: SseMessage = { data: "" };
  let any = false;
  for (const line of block.split("\n")) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "data") {
      data.push(value);
      any = true;
    } else if (field === "id") message.id = value;
    else if (field === "event") message.event = value;
  }
  if (!any) return null;
  message.data = data.join("\n");
  return message;
}
