/**
 * What the Redis driver's write path costs and keeps (docs/store.md, "Redis: the cost of a
 * write"), against a private real redis-server: the client traces no command nobody listens
 * to, and a batch's script keeps the prefix index and the guards exactly.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as diagnostics from "node:diagnostics_channel";
import { Redis } from "ioredis";
import type { StoreDriver } from "../../src/store/driver.ts";
import { openRedisDriver } from "../../src/store/redis.ts";
import { type RedisServer, startRedis } from "../helpers/mod.ts";

const text = (value: string) => new TextEncoder().encode(value);

describe("redis write path", () => {
  let server: RedisServer;
  let direct: Redis;
  let driver: StoreDriver;

  before(async () => {
    server = await startRedis();
    direct = new Redis(server.port, "127.0.0.1");
    driver = await openRedisDriver(server.url, { namespace: "wp" });
  });

  after(async () => {
    await driver.close();
    direct.disconnect();
    await server.close();
  });

  it("leaves ioredis' command tracing off while nobody subscribes, on while one does", async () => {
    // ioredis traces a command unless `hasSubscribers` reads false (Bun's read undefined).
    const channel = diagnostics.tracingChannel("ioredis:command");
    assert.equal(channel.hasSubscribers, false);
    const seen: string[] = [];
    const handlers = {
      start(context: unknown) {
        seen.push((context as { command: string }).command);
      },
    };
    channel.subscribe(handlers);
    try {
      await driver.set("traced", text("x"));
    } finally {
      channel.unsubscribe(handlers);
    }
    assert.ok(seen.includes("evalsha") || seen.includes("eval"), seen.join(","));
    seen.length = 0;
    await driver.set("untraced", text("y"));
    assert.deepEqual(seen, []);
  });
});
