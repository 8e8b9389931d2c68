/**
 * Starts a private `redis-server` on a free loopback port with its own temporary folder, for
 * tests that need a real Redis. Never a shared or system instance.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A running private Redis. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>/0` */
  url: string;
  port: number;
  /** The server's working folder (AOF/RDB files). */
  dir: string;
  /** Stops the server (SIGTERM, then SIGKILL) and keeps its folder, so it can start again. */
  stop(): Promise<void>;
  /** Starts it again on the same port and folder (data survives with `appendonly`). */
  restart(): Promise<void>;
  /** Stops the server and removes its folder. */
  close(): Promise<void>;
}

/** Options of {@link startRedis}. */
export interface StartRedisOptions {
  /** Run with `appendonly yes` (durable across restarts). Default true. */
  appendonly?: boolean;
  /** `requirepass`, to test URLs with a password. */
  password?: string;
}

/** Asks the kernel for a free loopback TCP port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Starts a private redis-server; call `close()` when done. */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), "ays-redis-"));
  const port = await freePort();
  let child: ChildProcess | undefined;
  let stderr = "";

  const launch = async () => {
    const args = [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--save",
      "",
      "--appendonly",
      options.appendonly === false ? "no" : "yes",
      "--daemonize",
      "no",
      ...(options.password ? ["--requirepass", options.password] : []),
    ];
    child = spawn("redis-server", args, { stdio: ["ignore", "ignore", "pipe"] });
    child.stderr?.on("data", (chunk) => (stderr += String(chunk)));
    const spawned = child;
    const exited = new Promise<never>((_, reject) =>
      spawned.once("exit", (code) => reject(new Error(`redis-server exited (${code}): ${stderr}`)))
    );
    exited.catch(() => {});
    await Promise.race([waitUntil(() => canConnect(port), `redis-server on port ${port}`), exited]);
  };

  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const gone = new Promise<void>((resolve) => running.once("exit", () => resolve()));
    running.kill("SIGTERM");
    const timer = setTimeout(() => running.kill("SIGKILL"), 5_000);
    await gone;
    clearTimeout(timer);
  };

  await launch();
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : "";
  return {
    url: `redis://${auth}127.0.0.1:${port}/0`,
    port,
    dir,
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
    close: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
