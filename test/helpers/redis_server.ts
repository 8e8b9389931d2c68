/**
 * Starts a private `redis-server` on a free loopback port with its own temporary folder, for
 * tests that need a real Redis. Never a shared or system instance.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
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
  /**
   * The address to listen on (default 127.0.0.1): a root-side address of the test network
   * (`test/helpers/netns.ts`) serves test hosts in network namespaces. Never a public one.
   * Redis' protected mode then wants a `password`.
   */
  bind?: string;
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

/** How often a start is tried again when another process took the free port first. */
const PORT_ATTEMPTS = 5;

/**
 * Starts a private redis-server; call `close()` when done. It counts as started when it says it
 * is ready on its own output, not when something answers on the port: with test runs in
 * parallel, another run's server could have taken the port between {@link freePort} and the
 * start, and is then retried on another port.
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const { bind = "127.0.0.1" } = options;
  const dir = await mkdtemp(join(tmpdir(), "ays-redis-"));
  let port = 0;
  let child: ChildProcess | undefined;

  /** Starts redis-server on `port`; resolves once it is ready, rejects if it exits first. */
  const launch = () => {
    const args = [
      "--port",
      String(port),
      "--bind",
      bind,
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
    const spawned = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
    child = spawned;
    let output = "";
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        spawned.kill("SIGKILL");
        reject(new Error(`redis-server on port ${port} did not start: ${output}`));
      }, 10_000);
      const onData = (chunk: Buffer) => {
        output += String(chunk);
        if (output.includes("Ready to accept connections")) {
          clearTimeout(timer);
          resolve();
        }
      };
      spawned.stdout?.on("data", onData);
      spawned.stderr?.on("data", onData);
      spawned.once("error", reject);
      spawned.once("exit", (code) => {
        clearTimeout(timer);
        const error = new Error(`redis-server exited (${code}): ${output}`);
        reject(Object.assign(error, { portTaken: /already in use/i.test(output) }));
      });
    });
  };

  const start = async () => {
    for (let attempt = 1;; attempt++) {
      port = await freePort();
      try {
        return await launch();
      } catch (error) {
        const taken = (error as { portTaken?: boolean }).portTaken === true;
        if (!taken || attempt >= PORT_ATTEMPTS) throw error;
      }
    }
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

  await start();
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : "";
  return {
    url: `redis://${auth}${bind}:${port}/0`,
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
