import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, describe, it } from "node:test";
import { type HttpApi, parseRunRequest, startHttpApi } from "../../src/daemon/http.ts";
import { createLogger } from "../../src/daemon/logger.ts";
import { AysError, InputError, UnavailableError } from "../../src/errors.ts";
import { FakeBackend, makeService } from "./fake_backend.ts";

const TOKEN = "s3cret-token-value-0123456789";

// Answers are checked field by field; typing every body would only repeat the assertions.
// deno-lint-ignore no-explicit-any
type Body = any;

async function call(
  api: HttpApi,
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; body: Body; headers: Headers }> {
  const response = await fetch(api.url + path, init);
  const text = await response.text();
  return {
    status: response.status,
    body: text ? JSON.parse(text) : null,
    headers: response.headers,
  };
}

function backend(): FakeBackend {
  return new FakeBackend({
    alpha: [makeService("node", "web1"), makeService("app", "shop")],
    beta: [],
  });
}

describe("http api without a token on loopback", () => {
  let api: HttpApi;
  let fake: FakeBackend;
  before(async () => {
    fake = backend();
    api = await startHttpApi(fake, { listen: { host: "127.0.0.1", port: 0 } });
  });
  after(() => api.close());

  it("answers health, repos, services, one service and runs", async () => {
    const health = await call(api, "/health");
    assert.equal(health.status, 200);
    assert.equal(health.body.status, "ok");
    assert.match(health.headers.get("content-type") ?? "", /application\/json/);
    const repos = await call(api, "/repos");
    assert.deepEqual(repos.body.map((r: { name: string }) => r.name), ["alpha", "beta"]);
    const services = await call(api, "/repos/alpha/services");
    assert.equal(services.status, 200);
    assert.deepEqual(services.body.map((s: { name: string }) => s.name), ["web1", "shop"]);
    const one = await call(api, "/repos/alpha/services/node/web1");
    assert.equal(one.status, 200);
    assert.equal(one.body.name, "web1");
    const runs = await call(api, "/repos/beta/runs/");
    assert.deepEqual(runs.body, []);
  });

  it("queues a run: 202 with the id, and the request is in the repository's queue", async () => {
    const answer = await call(api, "/repos/alpha/runs", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ action: "install", role: "node", instance: "web.*", parallel: 4 }),
    });
    assert.equal(answer.status, 202);
    assert.equal(typeof answer.body.id, "string");
    const queue = fake.queues.get("alpha")!;
    const item = await queue.pop("t", { timeoutMs: 0 });
    assert.equal(item?.id, answer.body.id);
    assert.deepEqual(
      { ...item!.request, queuedAt: 0 },
      {
        action: "install",
        role: "node",
        instance: "web.*",
        parallel: 4,
        repo: "alpha",
        queuedAt: 0,
        source: "http",
      },
    );
    // An empty body is an unfiltered run.
    const empty = await call(api, "/repos/beta/runs", { method: "POST" });
    assert.equal(empty.status, 202);
  });

  it("answers 400 naming the problem for malformed bodies", async () => {
    const cases: [string, RegExp][] = [
      ["{not json", /not valid JSON/],
      ["[1,2]", /body: .*expected object/],
      ['{"parallel": 0}', /parallel: /],
      ['{"parallel": "4"}', /parallel: .*expected number/],
      ['{"action": "in stall"}', /action: expected an action name/],
      ['{"instance": "web("}', /instance: invalid instance regex/],
      ['{"colour": "red"}', /colour/],
    ];
    for (const [body, message] of cases) {
      const answer = await call(api, "/repos/alpha/runs", { method: "POST", body });
      assert.equal(answer.status, 400, body);
      assert.equal(answer.body.error.status, 400);
      assert.match(answer.body.error.message, message, body);
    }
    assert.equal(fake.queues.get("beta")!.pending, 1, "nothing more was queued");
  });

  it("answers 404 for unknown repositories, services, runs and paths", async () => {
    const cases: [string, RequestInit, RegExp][] = [
      ["/repos/nope/services", {}, /unknown repository 'nope'/],
      ["/repos/nope/runs", {}, /unknown repository 'nope'/],
      ["/repos/nope/runs", { method: "POST", body: "{}" }, /unknown repository 'nope'/],
      ["/repos/alpha/services/node/web9", {}, /unknown service 'node!web9'/],
      ["/runs/r-404", {}, /unknown run 'r-404'/],
      ["/nothing/here", {}, /no such endpoint/],
    ];
    for (const [path, init, message] of cases) {
      const answer = await call(api, path, init);
      assert.equal(answer.status, 404, path);
      assert.match(answer.body.error.message, message);
    }
  });

  it("answers a run by id", async () => {
    fake.runs_.set("r-1", { id: "r-1", repo: "alpha", scope: {}, state: "ok" });
    const answer = await call(api, "/runs/r-1");
    assert.equal(answer.status, 200);
    assert.equal(answer.body.state, "ok");
  });

  it("answers 405 with Allow for a wrong method", async () => {
    const answer = await call(api, "/repos/alpha/services", { method: "DELETE" });
    assert.equal(answer.status, 405);
    assert.equal(answer.headers.get("allow"), "GET");
    const post = await call(api, "/health", { method: "POST" });
    assert.equal(post.status, 405);
    const put = await call(api, "/repos/alpha/runs", { method: "PUT" });
    assert.equal(put.headers.get("allow"), "GET, POST");
  });

  it("maps backend errors: input 400, unavailable 503, other 500 without details", async () => {
    const broken = backend();
    const lines: string[] = [];
    broken.runs = () => Promise.reject(new UnavailableError("store is down"));
    broken.run = () => Promise.reject(new Error("secret internals"));
    broken.queueRun = () => Promise.reject(new InputError("unknown role 'x'"));
    const api2 = await startHttpApi(broken, {
      listen: { host: "127.0.0.1", port: 0 },
      logger: createLogger({ write: (line) => lines.push(line) }),
    });
    try {
      assert.equal((await call(api2, "/repos/alpha/runs")).status, 503);
      const internal = await call(api2, "/runs/x");
      assert.equal(internal.status, 500);
      assert.equal(internal.body.error.message, "internal error");
      const bad = await call(api2, "/repos/alpha/runs", { method: "POST", body: "{}" });
      assert.equal(bad.status, 400);
      assert.match(bad.body.error.message, /unknown role/);
      assert.ok(lines.some((line) => line.includes("secret internals")), "logged, not answered");
    } finally {
      await api2.close();
    }
  });
});

describe("http api token rules", () => {
  it("refuses to start off loopback without a token (exit 2)", async () => {
    for (const host of ["0.0.0.0", "::", "192.0.2.1"]) {
      await assert.rejects(
        startHttpApi(backend(), { listen: { host, port: 0 } }),
        (error: unknown) =>
          error instanceof InputError && error.exitCode === 2 && /token/.test(error.message),
      );
    }
  });

  it("with a token: 401 for a missing or wrong one, health stays open", async () => {
    const lines: string[] = [];
    const api = await startHttpApi(backend(), {
      listen: { host: "0.0.0.0", port: 0 },
      token: TOKEN,
      logger: createLogger({ write: (line) => lines.push(line), level: "debug", secrets: [TOKEN] }),
    });
    try {
      const url = `http://127.0.0.1:${api.address.port}`;
      const get = async (path: string, headers: Record<string, string> = {}) => {
        const response = await fetch(url + path, { headers });
        return { status: response.status, body: await response.json(), headers: response.headers };
      };
      const health = await get("/health");
      assert.equal(health.status, 200);
      const missing = await get("/repos");
      assert.equal(missing.status, 401);
      assert.match(missing.body.error.message, /missing Authorization/);
      assert.match(missing.headers.get("www-authenticate") ?? "", /^Bearer/);
      for (
        const header of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, `Basic ${TOKEN}`, TOKEN]
      ) {
        const wrong = await get("/repos", { authorization: header });
        assert.equal(wrong.status, 401, header);
        assert.equal(wrong.body.error.message, "wrong token");
      }
      // 401 comes before 404: without the token nothing about repositories is revealed.
      assert.equal((await get("/repos/nope/services")).status, 401);
      const ok = await get("/repos", { authorization: `Bearer ${TOKEN}` });
      assert.equal(ok.status, 200);
      const lower = await get("/repos/alpha/services", { authorization: `bearer ${TOKEN}` });
      assert.equal(lower.status, 200);
      const post = await fetch(url + "/repos/alpha/runs", {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}` },
        body: "{}",
      });
      assert.equal(post.status, 202);
      await post.body?.cancel();
      assert.ok(lines.length > 0);
      assert.ok(lines.every((line) => !line.includes(TOKEN)), "the token is never logged");
    } finally {
      await api.close();
    }
  });

  it("refuses a token with whitespace (no header could carry it)", async () => {
    await assert.rejects(
      startHttpApi(backend(), { listen: { host: "127.0.0.1", port: 0 }, token: "two words" }),
      InputError,
    );
  });

  it("a token given on loopback is required as well", async () => {
    const api = await startHttpApi(backend(), {
      listen: { host: "127.0.0.1", port: 0 },
      token: TOKEN,
    });
    try {
      const response = await fetch(api.url + "/repos");
      assert.equal(response.status, 401);
      await response.body?.cancel();
    } finally {
      await api.close();
    }
  });
});

describe("http api listening", () => {
  it("a port in use is an UnavailableError (exit 4)", async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, "127.0.0.1", resolve));
    const port = (squatter.address() as { port: number }).port;
    try {
      await assert.rejects(
        startHttpApi(backend(), { listen: { host: "127.0.0.1", port } }),
        (error: unknown) =>
          error instanceof UnavailableError && error.exitCode === 4 &&
          error.message.includes(`127.0.0.1:${port}`) && /in use/.test(error.message),
      );
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  it("says in its start line whether a token guards the API", async () => {
    for (const [token, auth] of [[undefined, "none"], ["s3cret-token", "bearer token"]]) {
      const lines: string[] = [];
      const logger = createLogger({ format: "json", write: (text) => void lines.push(text) });
      const api = await startHttpApi(backend(), {
        listen: { host: "127.0.0.1", port: 0 },
        token,
        logger,
      });
      await api.close();
      const start = lines.map((l) => JSON.parse(l)).find((l) => l.msg === "http api listening");
      assert.equal(start?.auth, auth);
      assert.ok(!lines.join("").includes("s3cret-token"));
    }
  });

  it("close() resolves and frees the port", async () => {
    const api = await startHttpApi(backend(), { listen: { host: "127.0.0.1", port: 0 } });
    const port = api.address.port;
    const response = await fetch(api.url + "/health");
    assert.equal(response.status, 200);
    await response.body?.cancel();
    await api.close();
    // Nothing answers on the old address any more.
    await assert.rejects(fetch(api.url + "/health"));
    // The same port can be bound again, by the API and then by anything else.
    const again = await startHttpApi(backend(), { listen: { host: "127.0.0.1", port } });
    assert.equal(again.address.port, port);
    const second = await fetch(again.url + "/health");
    assert.equal(second.status, 200);
    await second.body?.cancel();
    await again.close();
    const squatter = createServer();
    await new Promise<void>((resolve, reject) => {
      squatter.once("error", reject);
      squatter.listen(port, "127.0.0.1", resolve);
    });
    assert.equal((squatter.address() as { port: number }).port, port);
    await new Promise((resolve) => squatter.close(resolve));
  });
});

describe("parseRunRequest", () => {
  it("accepts the documented fields and refuses the rest with a located message", () => {
    assert.deepEqual(parseRunRequest({}), {});
    assert.deepEqual(parseRunRequest({ role: "node.ssh", parallel: 2 }), {
      role: "node.ssh",
      parallel: 2,
    });
    assert.throws(
      () => parseRunRequest({ parallel: -1, action: 3 }),
      (error: unknown) =>
        error instanceof AysError && error.exitCode === 2 &&
        /action: /.test(error.message) && /parallel: /.test(error.message),
    );
  });
});
