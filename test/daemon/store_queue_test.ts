import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { QueuedRequest, QueueItem } from "../../src/daemon/backend.ts";
import { startRunQueue } from "../../src/daemon/run_queue.ts";
import {
  decodeQueuedRequest,
  encodeQueuedRequest,
  queueRunRequest,
  storeRunQueue,
} from "../../src/daemon/store_queue.ts";
import { InputError } from "../../src/errors.ts";
import { runtimeName } from "../../src/runtime.ts";
import type { StoreDriver } from "../../src/store/driver.ts";
import { openRedisDriver } from "../../src/store/redis.ts";
import { openSqliteDriver } from "../../src/store/sqlite.ts";
import { RUN_QUEUE } from "../../src/store/repo_store.ts";
import { makeTempDir, startRedis } from "../helpers/mod.ts";
import { delay } from "./fake_backend.ts";

const here = dirname(fileURLToPath(import.meta.url));

async function until(check: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not reached");
    await delay(10);
  }
}

/** A real store of one backend, emptied for each test. */
interface TestStore {
  kind: "sqlite" | "redis";
  /** The SQLite file or the Redis URL, for the child process. */
  location: string;
  driver: StoreDriver;
  close(): Promise<void>;
}

async function sqliteStore(): Promise<TestStore> {
  const dir = await makeTempDir("ays-daemon-queue-");
  const path = join(dir.path, ".ays", "store.db");
  const driver = openSqliteDriver(path, { namespace: "alpha" });
  return {
    kind: "sqlite",
    location: path,
    driver,
    async close() {
      await driver.close();
      await dir.remove();
    },
  };
}

async function redisStore(): Promise<TestStore> {
  const server = await startRedis();
  const driver = await openRedisDriver(server.url, { namespace: "alpha" });
  return {
    kind: "redis",
    location: server.url,
    driver,
    async close() {
      await driver.close();
      await server.close();
    },
  };
}

describe("queued run requests", () => {
  it("round-trip through bytes and refuse what is not a request", () => {
    const request: QueuedRequest = {
      action: "install",
      role: "node",
      instance: "web.*",
      parallel: 3,
      repo: "alpha",
      queuedAt: 1700000000000,
      source: "http",
    };
    assert.deepEqual(decodeQueuedRequest(encodeQueuedRequest(request)), request);
    const bytes = (text: string) => new TextEncoder().encode(text);
    assert.throws(() => decodeQueuedRequest(bytes("{")), InputError);
    assert.throws(() => decodeQueuedRequest(new Uint8Array([0xff, 0xfe])), InputError);
    assert.throws(
      () =>
        decodeQueuedRequest(
          bytes('{"repo":"a","queuedAt":1,"source":"cli","request":{"parallel":0}}'),
        ),
      /request.parallel/,
    );
  });
});

for (const open of [sqliteStore, redisStore]) {
  const kind = open === sqliteStore ? "sqlite" : "redis";
  describe(`run queue on the real ${kind} store`, () => {
    it("runs what the CLI queued, one at a time, and acknowledges it", async () => {
      const store = await open();
      try {
        const ids = [
          await queueRunRequest(store.driver, { action: "install" }, { repo: "alpha" }),
          await queueRunRequest(store.driver, {}, { repo: "alpha", source: "http" }),
        ];
        const seen: QueueItem[] = [];
        const loop = startRunQueue(storeRunQueue(store.driver), {
          consumerId: "d1",
          execute: (item) => {
            seen.push(item);
            return Promise.resolve();
          },
          pollMs: 20,
        });
        await until(() => seen.length === 2);
        await loop.stop();
        assert.deepEqual(seen.map((item) => item.id), ids);
        assert.equal(seen[0].request.action, "install");
        assert.equal(seen[1].request.source, "http");
        assert.deepEqual(await store.driver.queueStats(RUN_QUEUE), { pending: 0, inFlight: 0 });
      } finally {
        await store.close();
      }
    });

    it("acknowledges and reports an item that is not a request, then runs the next", async () => {
      const store = await open();
      try {
        const junk = await store.driver.push(RUN_QUEUE, new TextEncoder().encode("junk"));
        const good = await queueRunRequest(store.driver, {}, { repo: "alpha" });
        const invalid: string[] = [];
        const ran: string[] = [];
        const loop = startRunQueue(
          storeRunQueue(store.driver, { onInvalid: (id) => invalid.push(id) }),
          {
            consumerId: "d1",
            execute: (item) => (ran.push(item.id), Promise.resolve()),
            pollMs: 20,
          },
        );
        await until(() => ran.length === 1);
        await loop.stop();
        assert.deepEqual(invalid, [junk]);
        assert.deepEqual(ran, [good]);
        assert.deepEqual(await store.driver.queueStats(RUN_QUEUE), { pending: 0, inFlight: 0 });
      } finally {
        await store.close();
      }
    });

    it("kill -9 of a daemon holding a queued run: the next daemon runs it", async () => {
      const store = await open();
      try {
        const id = await queueRunRequest(store.driver, { role: "node" }, { repo: "alpha" });
        const fixture = join(here, "pop_fixture.ts");
        const args = runtimeName() === "deno"
          ? ["run", "-A", fixture, store.kind, store.location, "alpha"]
          : [fixture, store.kind, store.location, "alpha"];
        const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
        const exited = new Promise((resolve) => child.on("exit", resolve));
        let out = "";
        child.stdout.setEncoding("utf8");
        child.stdout.on("data", (chunk: string) => (out += chunk));
        await until(() => out.includes("\n"));
        assert.equal(out.trim(), `popped ${id}`);
        assert.deepEqual(await store.driver.queueStats(RUN_QUEUE), { pending: 0, inFlight: 1 });
        process.kill(child.pid!, "SIGKILL");
        await exited;

        const ran: QueueItem[] = [];
        const loop = startRunQueue(storeRunQueue(store.driver, { leaseMs: 60_000 }), {
          consumerId: "next-daemon",
          execute: (item) => (ran.push(item), Promise.resolve()),
          pollMs: 20,
        });
        // The lease had 60 s left: only the dead-process rule can give it back this soon.
        await until(() => ran.length === 1);
        await loop.stop();
        assert.equal(ran[0].id, id);
        assert.equal(ran[0].request.role, "node");
        assert.deepEqual(await store.driver.queueStats(RUN_QUEUE), { pending: 0, inFlight: 0 });
      } finally {
        await store.close();
      }
    });
  });
}
