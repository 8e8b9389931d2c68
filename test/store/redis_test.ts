/**
 * The Redis driver against a private real redis-server: the conformance suite, plus what only
 * a networked store does (credentials never printed, unreachable servers, a connection dropped
 * or a server killed in the middle of a batch).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import process from "node:process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { Redis } from "ioredis";
import { InputError, UnavailableError } from "../../src/errors.ts";
import type { BatchOp } from "../../src/store/driver.ts";
import { openStore } from "../../src/store/open.ts";
import { openRedisDriver } from "../../src/store/redis.ts";
import { maskUrl } from "../../src/store/url.ts";
import { freePort, makeTempDir, type RedisServer, startRedis } from "../helpers/mod.ts";
import { storeConformance } from "./conformance.ts";

storeConformance("redis", async () => {
  const server = await startRedis();
  const direct = new Redis(server.port, "127.0.0.1");
  return {
    open: (namespace) => openRedisDriver(server.url, { namespace }),
    child: { kind: "redis", url: server.url },
    wipe: async (namespace) => {
      const keys = await direct.keys(`ays:${namespace}:*`);
      if (keys.length > 0) await direct.del(...keys);
    },
    teardown: async () => {
      direct.disconnect();
      await server.close();
    },
  };
});

/**
 * A TCP proxy in front of Redis that can swallow the next reply from the server and cut the
 * connection, exactly as a network failure after the server applied a command would.
 */
interface CuttingProxy {
  port: number;
  /** The next server→client data is dropped and both sockets closed; resolves then. */
  cutNextReply(): Promise<void>;
  /** While set, new connections wait (so the test can act before the client reconnects). */
  hold(held: boolean): void;
  close(): Promise<void>;
}

async function startCuttingProxy(target: number): Promise<CuttingProxy> {
  let cut: (() => void) | null = null;
  let held = false;
  const waiting: (() => void)[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.pause();
    const connect = () => {
      const upstream = createConnection({ host: "127.0.0.1", port: target });
      sockets.add(upstream);
      upstream.on("data", (chunk) => {
        if (cut) {
          const done = cut;
          cut = null;
          client.destroy();
          upstream.destroy();
          done();
          return;
        }
        client.write(chunk);
      });
      client.on("data", (chunk) => upstream.write(chunk));
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
      client.on("error", () => upstream.destroy());
      upstream.on("error", () => client.destroy());
      client.resume();
    };
    if (held) waiting.push(connect);
    else connect();
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    port,
    cutNextReply: () => new Promise<void>((resolve) => (cut = resolve)),
    hold(value) {
      held = value;
      if (!held) { for (const connect of waiting.splice(0)) connect(); }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function manyOps(prefix: string, count: number): BatchOp[] {
  const ops: BatchOp[] = [];
  for (let i = 0; i < count; i++) {
    ops.push({ op: "set", key: `${prefix}:${i}`, value: new Uint8Array([i % 256]) });
  }
  return ops;
}

describe("redis store", () => {
  let server: RedisServer;
  let direct: Redis;

  before(async () => {
    server = await startRedis();
    direct = new Redis(server.port, "127.0.0.1");
  });
  after(async () => {
    direct.disconnect();
    await server.close();
  });

  it("keeps values at ays:<repo>:<key> with a prefix index", async () => {
    const store = await openRedisDriver(server.url, { namespace: "layout" });
    await store.set("service:abc", new TextEncoder().encode("v"));
    assert.equal(await direct.get("ays:layout:service:abc"), "v");
    assert.deepEqual(await direct.zrangebylex("ays:layout:~keys", "-", "+"), ["service:abc"]);
    await store.close();
  });

  it("does not apply a batch twice when the reply is lost and ioredis re-sends it", async () => {
    const proxy = await startCuttingProxy(server.port);
    const store = await openRedisDriver(`redis://127.0.0.1:${proxy.port}/0`, {
      namespace: "resend",
    });
    try {
      // Loaded up front, so the first send is not a NOSCRIPT round trip.
      await store.set("warm-up", new Uint8Array());
      const scriptsBefore = await scriptCalls(direct);
      const cutDone = proxy.cutNextReply();
      proxy.hold(true);
      const batch = store.batch([
        { op: "set", key: "k", value: new TextEncoder().encode("from batch") },
        { op: "set", key: "other", value: new TextEncoder().encode("x") },
      ]);
      await cutDone;
      // The server applied the batch but the client never heard; someone writes in between.
      assert.equal(await direct.get("ays:resend:k"), "from batch");
      await direct.set("ays:resend:k", "written in between");
      proxy.hold(false);
      assert.equal(await batch, true);
      assert.equal(await direct.get("ays:resend:k"), "written in between");
      // Executed twice (the re-send happened), applied once.
      assert.equal((await scriptCalls(direct)) - scriptsBefore, 2);
    } finally {
      await store.close();
      await proxy.close();
    }
  });

  it("leaves all or none of a batch when the server is killed in the middle", async () => {
    const own = await startRedis();
    try {
      const store = await openRedisDriver(own.url, { namespace: "atom" });
      const pid = Number(/process_id:(\d+)/.exec(await directInfo(own.port))?.[1]);
      const count = 200_000;
      const batch = store.batch(manyOps("atom", count));
      batch.catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 80));
      process.kill(pid, "SIGKILL");
      await own.restart();
      let outcome: string;
      try {
        outcome = String(await batch);
      } catch (error) {
        outcome = error instanceof UnavailableError ? "unavailable" : String(error);
      }
      const check = new Redis(own.port, "127.0.0.1");
      const stored = await check.zcard("ays:atom:~keys");
      const values = await check.dbsize();
      check.disconnect();
      // Either the batch survived (reconnect and re-send, applied once) or it is reported.
      assert.ok(outcome === "true" || outcome === "unavailable", outcome);
      assert.ok(stored === 0 || stored === count, `${stored} of ${count} keys indexed`);
      if (outcome === "true") assert.equal(stored, count);
      assert.ok(values === 0 || values >= count, `${values} keys in the database`);
      await store.close();
    } finally {
      await own.close();
    }
  });

  it("survives a restart of the server between commands", async () => {
    const own = await startRedis();
    try {
      const store = await openRedisDriver(own.url, { namespace: "restart" });
      await store.set("a", new Uint8Array([1]));
      await own.restart();
      assert.deepEqual(await store.get("a"), new Uint8Array([1]));
      await store.close();
    } finally {
      await own.close();
    }
  });

  it("reports a server that stays away as UnavailableError, without hanging", async () => {
    const own = await startRedis();
    const store = await openRedisDriver(own.url, { namespace: "gone", maxReconnects: 2 });
    await own.close();
    await assert.rejects(store.get("a"), UnavailableError);
    await store.close();
  });

  it("fails fast with UnavailableError when nothing listens", async () => {
    const port = await freePort();
    const url = `redis://admin:hunter2secret@127.0.0.1:${port}/0`;
    await assert.rejects(openRedisDriver(url, { namespace: "x" }), (error: Error) => {
      assert.ok(error instanceof UnavailableError);
      assert.equal(error.exitCode, 4);
      assert.match(error.message, /cannot reach the store redis:\/\/admin:\*\*\*@127\.0\.0\.1/);
      assert.doesNotMatch(error.message, /hunter2secret/);
      return true;
    });
  });

  describe("with a password", () => {
    let locked: RedisServer;
    before(async () => {
      locked = await startRedis({ password: "s3cret-pw" });
    });
    after(() => locked.close());

    it("connects with the password and never shows it", async () => {
      assert.match(locked.url, /s3cret-pw/);
      const store = await openRedisDriver(locked.url, { namespace: "pw" });
      assert.equal(store.location.includes("s3cret-pw"), false);
      assert.match(store.location, /^redis:\/\/:\*\*\*@127\.0\.0\.1:/);
      await store.set("a", new Uint8Array([1]));
      assert.deepEqual(await store.get("a"), new Uint8Array([1]));
      await store.close();
    });

    it("a wrong password is UnavailableError with the password masked", async () => {
      const wrong = locked.url.replace("s3cret-pw", "wrong-pw-123");
      await assert.rejects(openRedisDriver(wrong, { namespace: "pw" }), (error: Error) => {
        assert.ok(error instanceof UnavailableError);
        assert.doesNotMatch(error.message, /wrong-pw-123|s3cret-pw/);
        assert.doesNotMatch(String((error.cause as Error)?.message), /wrong-pw-123/);
        return true;
      });
    });

    it("masks passwords in URLs", () => {
      assert.equal(maskUrl("redis://user:pa:ss@h:1/0"), "redis://user:***@h:1/0");
      assert.equal(maskUrl("rediss://:pw@h"), "rediss://:***@h");
      assert.equal(
        maskUrl("see redis://u:p@h/2 and rediss://x:y@z"),
        "see redis://u:***@h/2 and rediss://x:***@z",
      );
      assert.equal(maskUrl("redis://h:6379"), "redis://h:6379");
    });
  });

  describe("repository identity", () => {
    it("refuses a second folder using the same name on one store", async () => {
      const a = await makeTempDir();
      const b = await makeTempDir();
      try {
        // Both are repositories: a folder that no longer holds `.ays` would hand its name over
        // (a moved repository, docs/repositories.md).
        await mkdir(join(a.path, ".ays"));
        await mkdir(join(b.path, ".ays"));
        const first = await openStore(server.url, { repoName: "shared", repoPath: a.path });
        await first.close();
        const again = await openStore(server.url, { repoName: "shared", repoPath: a.path });
        await again.close();
        await assert.rejects(
          openStore(server.url, { repoName: "shared", repoPath: b.path }),
          (error: Error) => error instanceof InputError && /already holds/.test(error.message),
        );
        const other = await openStore(server.url, { repoName: "other", repoPath: b.path });
        await other.close();
      } finally {
        await a.remove();
        await b.remove();
      }
    });
  });
});

async function directInfo(port: number): Promise<string> {
  const client = new Redis(port, "127.0.0.1");
  try {
    return await client.info("server");
  } finally {
    client.disconnect();
  }
}

/** How many scripts the server ran (EVAL and EVALSHA, NOSCRIPT refusals not counted). */
async function scriptCalls(client: Redis): Promise<number> {
  const info = await client.info("commandstats");
  let total = 0;
  for (
    const match of info.matchAll(/cmdstat_(?:eval|evalsha):calls=(\d+),.*?failed_calls=(\d+)/g)
  ) {
    total += Number(match[1]) - Number(match[2]);
  }
  return total;
}
