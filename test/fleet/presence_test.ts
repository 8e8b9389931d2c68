/**
 * worker.joined / worker.left in a repository's stream (docs/fleet.md, "Events"): the
 * registry's live workers compared with what the stream has seen, on a real redis-server, with
 * an injected clock (no waiting on heartbeats); and through `ays run --fleet`, whose stream
 * gets the join of a worker that starts during the run.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Redis } from "ioredis";
import { captureIo, runCli } from "../../src/cli/mod.ts";
import type { AysEvent, EventBody } from "../../src/events/mod.ts";
import { checkPresence, fleetConnection, FleetWorker, watchPresence } from "../../src/fleet/mod.ts";
import { putWorker, removeWorker, type WorkerInfo } from "../../src/fleet/registry.ts";
import { makeTempRepo, type RedisServer, startRedis, until } from "../helpers/mod.ts";

// Waits for the gate file its service names, so the run lasts until the test opens it.
const GATED = `
import { existsSync } from "node:fs";
export async function install(job) {
  while (!existsSync(job.service.data.gate)) await new Promise((r) => setTimeout(r, 20));
  return "through";
}
`;

function info(name: string, instance: string, heartbeat: number): WorkerInfo {
  return {
    name,
    host: `${name}.example`,
    pid: 1000,
    labels: ["db", "default"],
    concurrency: 4,
    running: 0,
    startedAt: heartbeat,
    heartbeat,
    instance,
    signed: false,
  };
}

function recorder() {
  const events: EventBody[] = [];
  return { events, sink: { publish: (e: EventBody) => void events.push(e) } };
}

describe("fleet presence: worker.joined and worker.left per repository", () => {
  let redis: RedisServer;
  let client: Redis;
  const T0 = 1_800_000_000_000;

  before(async () => {
    redis = await startRedis();
    client = await fleetConnection(redis.url);
  });
  after(async () => {
    client?.disconnect();
    await redis?.close();
  });

  it("publishes each join and leave once per repository, whoever watches", async () => {
    const web = recorder();
    const web2 = recorder();
    const db = recorder();
    assert.deepEqual(await checkPresence(client, { repo: "web", sink: web.sink, now: T0 }), {
      joined: [],
      left: [],
    });
    await putWorker(client, info("w1", "i-1", T0));
    await checkPresence(client, { repo: "web", sink: web.sink, now: T0 + 1000 });
    assert.deepEqual(web.events, [{
      type: "worker.joined",
      worker: "w1",
      host: "w1.example",
      labels: ["db", "default"],
      concurrency: 4,
    }]);
    // A second watcher of the same repository (a run beside the daemon) does not tell it again.
    await checkPresence(client, { repo: "web", sink: web2.sink, now: T0 + 1500 });
    assert.deepEqual(web2.events, []);
    // Another repository's stream gets its own join.
    await checkPresence(client, { repo: "db", sink: db.sink, now: T0 + 1500 });
    assert.deepEqual(db.events.map((e) => e.type), ["worker.joined"]);

    // 15 s without a heartbeat: gone. 15 s exactly is still live.
    await checkPresence(client, { repo: "web", sink: web.sink, now: T0 + 15_000 });
    assert.equal(web.events.length, 1);
    await checkPresence(client, { repo: "web", sink: web.sink, now: T0 + 15_001 });
    assert.deepEqual(web.events[1], { type: "worker.left", worker: "w1", reason: "gone" });
    await checkPresence(client, { repo: "web", sink: web2.sink, now: T0 + 15_002 });
    assert.deepEqual(web2.events, [], "told once");

    // Its heartbeat is back (Redis was unreachable for a while): it joins again.
    await putWorker(client, info("w1", "i-1", T0 + 20_000));
    const back = await checkPresence(client, { repo: "web", sink: web.sink, now: T0 + 20_001 });
    assert.deepEqual(back, { joined: ["w1"], left: [] });

    // It stops (its entry goes): it left; the db stream, watched only now, catches up.
    await removeWorker(client, info("w1", "i-1", T0 + 20_000));
    await checkPresence(client, { repo: "web", sink: web.sink, now: T0 + 21_000 });
    assert.deepEqual(web.events.at(-1), { type: "worker.left", worker: "w1", reason: "stopped" });
    await checkPresence(client, { repo: "db", sink: db.sink, now: T0 + 60_000 });
    assert.deepEqual(db.events.map((e) => e.type), ["worker.joined", "worker.left"]);

    // A worker that starts again under its name is a new instance: it joins.
    await putWorker(client, info("w1", "i-2", T0 + 70_000));
    await checkPresence(client, { repo: "web", sink: web.sink, now: T0 + 70_001 });
    assert.deepEqual(web.events.map((e) => e.type), [
      "worker.joined",
      "worker.left",
      "worker.joined",
      "worker.left",
      "worker.joined",
    ]);
  });

  it("watchPresence compares at once and stops cleanly; bad options are refused", async () => {
    await removeWorker(client, info("w1", "i-2", T0));
    await putWorker(client, info("w9", "i-9", T0));
    const seen = recorder();
    const watch = watchPresence(client, { repo: "watched", sink: seen.sink, now: () => T0 + 10 });
    await until(() => seen.events.length === 1, { what: "the first comparison" });
    await watch.stop();
    await removeWorker(client, info("w9", "i-9", T0));
    assert.deepEqual(seen.events.map((e) => [e.type, (e as { worker: string }).worker]), [
      ["worker.joined", "w9"],
    ]);
    assert.throws(
      () => watchPresence(client, { repo: "x", sink: seen.sink, everyMs: 0 }),
      RangeError,
    );
    await assert.rejects(
      checkPresence(client, { repo: "x", sink: {} as never }),
      /sink must have publish/,
    );
  });

  it("ays run --fleet --events: a worker that joins during the run is in the run's events", async () => {
    const dir = await makeTempRepo({
      files: {
        "actorTemplates/gated/schema.hrd": "gate = type:str\n",
        "actorTemplates/gated/actions.js": GATED,
      },
    });
    const gate = join(dir.path, "gate");
    await writeFile(join(dir.path, "blueprints", "1.yaml"), `gated__g1:\n  gate: ${gate}\n`);
    await writeFile(
      join(dir.path, ".ays", "config.yaml"),
      `name: presrun\nstore: ${redis.url}\nfleet: true\n`,
    );
    const env = { XDG_CONFIG_HOME: join(dir.path, ".cfg") };
    let worker: FleetWorker | undefined;
    try {
      assert.equal(await runCli(["blueprint"], captureIo({ env, cwd: dir.path })), 0);
      const io = captureIo({ env, cwd: dir.path });
      const events = () =>
        io.out.join("").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as AysEvent);
      const scheduled = captureIo({ env, cwd: dir.path });
      assert.equal(await runCli(["install", "--schedule-only"], scheduled), 0);
      const running = runCli(["run", "--events"], io);
      await until(() => events().some((e) => e.type === "run.started"), { what: "the run" });
      worker = await FleetWorker.start(redis.url, {
        name: "latecomer",
        cacheDir: join(dir.path, ".cache"),
        workDir: join(dir.path, ".work"),
      });
      const joinedLate = (e: AysEvent) => e.type === "worker.joined" && e.worker === "latecomer";
      await until(() => events().some(joinedLate), {
        what: "worker.joined in the run's events",
        timeoutMs: 60_000,
      });
      await writeFile(gate, "");
      assert.equal(await running, 0, io.err.join(""));
      const types = events().map((e) => e.type);
      assert.equal(types[0], "run.started");
      assert.equal(types.at(-1), "run.ended", "run.ended stays the last event");
      const joined = events().find(joinedLate) as Extract<
        AysEvent,
        { type: "worker.joined" }
      >;
      assert.equal(joined.worker, "latecomer");
      assert.equal(joined.repo, "presrun");
      assert.ok(joined.id > 0);
      // Off a terminal, the view says it in one line.
      assert.match(io.err.join(""), /\d\d:\d\d:\d\d worker latecomer joined the fleet\n/);
      // ays watch shows it with the run, from the stored events.
      const runId = (events()[0] as { runId: string }).runId;
      const watched = captureIo({ env, cwd: dir.path });
      assert.equal(await runCli(["watch", runId, "--events"], watched), 0, watched.err.join(""));
      const again = watched.out.join("").trim().split("\n").map((l) => JSON.parse(l) as AysEvent);
      assert.deepEqual(again.filter(joinedLate).map((e) => e.id), [joined.id]);
      assert.equal(again.at(-1)?.type, "run.ended");
    } finally {
      await worker?.stop({ force: true });
      await dir.remove();
    }
  });
});
