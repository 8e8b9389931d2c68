/**
 * The job protocol's message contract: every message kind validates, malformed ones are
 * refused with a ProtocolError, and a worker that breaks the protocol fails its job.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, it } from "node:test";
import { parseHostMessage, parseWorkerMessage, ProtocolError } from "../../src/run/job_protocol.ts";
import { WorkerPool } from "../../src/run/pool.ts";
import { makeTempDir, type TempDir } from "../helpers/mod.ts";
import { request } from "./fixtures.ts";

const REQUEST = request("/x/actions.js", "install", "/repo");

const TARGET = { kind: "ssh", host: "10.0.0.1", knownHosts: "/repo/.ays/known_hosts" };

describe("job protocol messages", () => {
  it("accepts every host message kind", () => {
    for (
      const message of [
        { type: "ping", id: 0 },
        { type: "run", id: 1, request: REQUEST },
        { type: "cancel", id: 1, reason: "stop" },
        {
          type: "batch",
          id: 0,
          messages: [{ type: "run", id: 1, request: REQUEST }, {
            type: "cancel",
            id: 1,
            reason: "x",
          }],
        },
        { type: "remote-reply", id: 1, call: 3, ok: true, reply: { op: "put" } },
        { type: "remote-reply", id: 1, call: 4, ok: false, error: { message: "host unreachable" } },
        {
          type: "run",
          id: 2,
          request: {
            ...REQUEST,
            ancestors: [{ actionsPath: null, service: REQUEST.service }],
            executorLocal: true,
          },
        },
      ]
    ) assert.deepEqual(parseHostMessage(message), message);
  });

  it("accepts every worker message kind", () => {
    for (
      const message of [
        { type: "pong", id: 0, runtime: "bun" },
        { type: "log", id: 1, text: "[info] hi\n" },
        { type: "exec", id: 1, pid: 42, state: "started", detached: false },
        { type: "exec", id: 1, pid: 42, state: "exited", detached: false },
        { type: "result", id: 1, result: null, data: { a: 1 } },
        { type: "result", id: 1, result: null, data: {}, millis: 0.25 },
        { type: "error", id: 1, error: { message: "boom", stack: "at x" }, data: {} },
        { type: "exit", id: 1, code: 3 },
        {
          type: "remote",
          id: 1,
          call: 1,
          request: { op: "exec", target: TARGET, command: "true" },
        },
        {
          type: "remote",
          id: 1,
          call: 2,
          request: { op: "get", target: TARGET, remotePath: "/x" },
        },
      ]
    ) assert.deepEqual(parseWorkerMessage(message), message);
  });

  it("refuses malformed messages, naming what is wrong", () => {
    const bad: [unknown, RegExp][] = [
      [null, /must be an object/],
      [{ type: "run", id: 1 }, /run message: no request/],
      [{ type: "run", id: -1, request: REQUEST }, /bad id/],
      [{ type: "run", id: 1, request: { ...REQUEST, action: "" } }, /bad action/],
      [{ type: "run", id: 1, request: { ...REQUEST, secrets: [1] } }, /bad secrets/],
      [{ type: "cancel", id: 1 }, /bad reason/],
      [{ type: "remote-reply", id: 1, call: -1, ok: true, reply: {} }, /bad call/],
      [{ type: "remote-reply", id: 1, call: 1, ok: "yes" }, /bad ok/],
      [{ type: "remote-reply", id: 1, call: 1, ok: false, error: "x" }, /bad error/],
      [{ type: "run", id: 1, request: { ...REQUEST, ancestors: [{}] } }, /bad ancestors/],
      [{ type: "explode", id: 1 }, /unknown host message type "explode"/],
      [{ type: "batch", id: 1, messages: [] }, /bad messages/],
      [{ type: "batch", id: 0 }, /bad messages/],
      [{ type: "batch", id: 0, messages: [{ type: "batch", id: 0, messages: [] }] }, /nested/],
      [{ type: "batch", id: 0, messages: [{ type: "cancel", id: 1 }] }, /bad reason/],
    ];
    for (const [message, pattern] of bad) {
      assert.throws(
        () => parseHostMessage(message),
        (e) => e instanceof ProtocolError && pattern.test(e.message),
      );
    }
    const badWorker: [unknown, RegExp][] = [
      [{ type: "log", id: 1 }, /bad text/],
      [{ type: "exec", id: 1, pid: 0, state: "started", detached: false }, /bad pid/],
      [{ type: "exec", id: 1, pid: 5, state: "gone", detached: false }, /bad state/],
      [{ type: "result", id: 1, result: 1 }, /bad data/],
      [{ type: "result", id: 1, result: 1, data: {}, millis: -1 }, /bad millis/],
      [{ type: "result", id: 1, result: 1, data: {}, millis: "2" }, /bad millis/],
      [{ type: "error", id: 1, error: "boom", data: {} }, /bad error/],
      [{ type: "exit", id: 1, code: "3" }, /exit message: bad code/],
      [{ type: "done", id: 1 }, /unknown worker message type "done"/],
      [{ type: "remote", id: 1, call: 1, request: { op: "rm", target: TARGET } }, /bad request/],
      [
        { type: "remote", id: 1, call: 1, request: { op: "exec", target: { kind: "local" } } },
        /remote message: bad target/,
      ],
      [
        { type: "remote", id: 1, call: 1, request: { op: "put", target: TARGET } },
        /bad remotePath/,
      ],
    ];
    for (const [message, pattern] of badWorker) {
      assert.throws(
        () => parseWorkerMessage(message),
        (e) => e instanceof ProtocolError && pattern.test(e.message),
      );
    }
  });
});

describe("a worker that breaks the protocol", () => {
  let dir: TempDir;
  let pool: WorkerPool;

  before(async () => {
    dir = await makeTempDir();
    const specifier = join(dir.path, "bad_worker.js");
    // Answers pings, then reports a result without the service data.
    await writeFile(
      specifier,
      `self.onmessage = (event) => {
        const m = event.data;
        if (m.type === "ping") postMessage({ type: "pong", id: m.id, runtime: "test" });
        if (m.type === "run") postMessage({ type: "result", id: m.id, result: 1 });
      };\n`,
    );
    pool = new WorkerPool({ size: 1, specifier: pathToFileURL(specifier).href });
  });
  after(async () => {
    await pool.close();
    await dir.remove();
  });

  it("fails its job with a protocol error and is replaced", async () => {
    const outcome = await pool.run(REQUEST);
    assert.equal(outcome.ok, false);
    assert.match(outcome.error!.message, /job protocol: result message: bad data/);
    assert.equal(pool.workers, 0, "the broken worker was discarded");
  });
});
