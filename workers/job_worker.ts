/**
 * The Web Worker that executes jobs. For now it answers a ping, which proves that worker
 * entry points start in every packaging (source, bundle, compiled binary).
 *
 * @module
 */
/// <reference lib="webworker" />

interface PingMessage {
  type: "ping";
  id: number;
}

self.onmessage = (event: MessageEvent<PingMessage>) => {
  const message = event.data;
  if (message?.type === "ping") {
    const g = globalThis as Record<string, unknown>;
    const runtime = typeof g.Bun !== "undefined"
      ? "bun"
      : typeof g.Deno !== "undefined"
      ? "deno"
      : "node";
    postMessage({ type: "pong", id: message.id, runtime });
  }
};
