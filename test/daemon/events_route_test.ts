import assert from "node:assert/strict";
import { connect } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type EventsRoute, eventsRoute } from "../../src/daemon/events_route.ts";
import { type HttpApi, startHttpApi } from "../../src/daemon/http.ts";
import { EventTail, openRepoEvents, type RepoEvents } from "../../src/events/mod.ts";
import { openSqliteDriver, type StoreDriver } from "../../src/store/mod.ts";
import { makeTempDir, openSse, type SseMessage, type TempDir, until } from "../helpers/mod.ts";
import { FakeBackend } from "./fake_backend.ts";

const TOKEN = "events-token-0123456789";

// deno-lint-ignore no-explicit-any
type Json = any;

const parse = (messages: SseMessage[]): Json[] => messages.map((m) => JSON.parse(m.data));

interface Fixture {
  dir: TempDir;
  drivers: StoreDriver[];
  repos: Map<string, RepoEvents>;
  tails: EventTail[];
  stream: EventsRoute;
  api: HttpApi;
}

async function setup(
  options: { token?: string; maxBufferedBytes?: number; authorize?: boolean } = {},
): Promise<Fixture> {
  const dir = await makeTempDir("ays-events-");
  const drivers: StoreDriver[] = [];
  const repos = new Map<string, RepoEvents>();
  const sources = new Map();
  const tails: EventTail[] = [];
  for (const name of ["alpha", "beta"]) {
    const driver = openSqliteDriver(join(dir.path, "store.db"), { namespace: name });
    drivers.push(driver);
    const events = openRepoEvents(driver, { repo: name });
    repos.set(name, events);
    const tail = new EventTail(events.log, { bus: events.bus, pollMs: 50 });
    await tail.start();
    tails.push(tail);
    sources.set(name, { log: events.log, tail });
  }
  const stream = eventsRoute(sources, { maxBufferedBytes: options.maxBufferedBytes });
  const api = await startHttpApi(new FakeBackend({ alpha: [], beta: [] }), {
    listen: { host: "127.0.0.1", port: 0 },
    token: options.token,
    routes: [stream.route],
    authorize: options.authorize
      ? (req) => (req.headers.cookie ?? "").includes(`session=${TOKEN}`)
      : undefined,
  });
  return { dir, drivers, repos, tails, stream, api };
}

async function teardown(f: Fixture): Promise<void> {
  f.stream.close();
  await Promise.all(f.tails.map((tail) => tail.stop()));
  await f.api.close();
  for (const driver of f.drivers) await driver.close();
  await f.dir.remove();
}

function started(n: number) {
  return { type: "run.started" as const, runId: `run-${n}`, jobs: n };
}

describe("GET /events", () => {
  let f: Fixture;
  before(async () => {
    f = await setup();
  });
  after(() => teardown(f));

  it("streams a repository's new events with the event id as the SSE id", async () => {
    const alpha = f.repos.get("alpha")!;
    alpha.writer.publish(started(0));
    await alpha.writer.flush();
    const sse = await openSse(`${f.api.url}/events?repo=alpha`);
    assert.equal(sse.status, 200);
    assert.match(sse.headers.get("content-type") ?? "", /^text\/event-stream/);
    // Only what comes after the connection: the first event was before it.
    // At least one: a client an earlier test of this fixture closed may not be noticed yet (Deno's
    // server sees a close at its next write to it). The stream subscribes in the same synchronous
    // call that writes its headers, so the one just opened is live.
    await until(() => f.stream.clients() >= 1, { what: "the client" });
    alpha.writer.publish(started(1));
    alpha.writer.publish(started(2));
    const messages = await sse.take((m) => m.length === 2);
    sse.close();
    const events = parse(messages);
    assert.deepEqual(events.map((e) => e.runId), ["run-1", "run-2"]);
    assert.deepEqual(messages.map((m) => m.id), events.map((e) => String(e.id)));
    assert.equal(events[1].id, events[0].id + 1);
    assert.equal(events[0].repo, "alpha");
    assert.equal(events[0].type, "run.started");
    assert.ok(!Number.isNaN(Date.parse(events[0].time)));
  });

  it("resumes after Last-Event-ID with the stored events, then the live ones, losing nothing", async () => {
    const beta = f.repos.get("beta")!;
    for (let i = 1; i <= 5; i++) beta.writer.publish(started(i));
    await beta.writer.flush();
    const stored = await beta.log.since(0);
    const cursor = stored[1].id;
    const sse = await openSse(`${f.api.url}/events?repo=beta`, {
      "last-event-id": String(cursor),
    });
    const first = parse(await sse.take((m) => m.length === 3));
    assert.deepEqual(first.map((e) => e.runId), ["run-3", "run-4", "run-5"]);
    beta.writer.publish(started(6));
    const live = parse(await sse.take((m) => m.length === 1));
    sse.close();
    assert.deepEqual(live.map((e) => e.runId), ["run-6"]);
    assert.equal(live[0].id, first[2].id + 1);
  });

  it("takes ?since= as the cursor, and Last-Event-ID over it", async () => {
    const sse = await openSse(`${f.api.url}/events?repo=beta&since=0`);
    const all = parse(await sse.take((m) => m.length === 6));
    sse.close();
    assert.deepEqual(all.map((e) => e.runId), [1, 2, 3, 4, 5, 6].map((n) => `run-${n}`));
    const again = await openSse(`${f.api.url}/events?repo=beta&since=0`, {
      "last-event-id": String(all[4].id),
    });
    const rest = parse(await again.take((m) => m.length === 1));
    again.close();
    assert.equal(rest[0].runId, "run-6");
  });

  it("delivers events another process stored (no in-process signal), in id order", async () => {
    const alpha = f.repos.get("alpha")!;
    const sse = await openSse(`${f.api.url}/events?repo=alpha`);
    await until(() => f.stream.clients() >= 1, { what: "the client" });
    // A second driver on the same file: what an `ays run` beside the daemon writes.
    const other = openSqliteDriver(join(f.dir.path, "store.db"), { namespace: "alpha" });
    const otherEvents = openRepoEvents(other, { repo: "alpha" });
    otherEvents.writer.publish(started(10));
    await otherEvents.writer.flush();
    // Found by polling the store: nothing in this process said it was written.
    const polled = parse(await sse.take((m) => m.length === 1));
    assert.equal(polled[0].runId, "run-10");
    alpha.writer.publish(started(11));
    const events = [...polled, ...parse(await sse.take((m) => m.length === 1))];
    sse.close();
    await other.close();
    assert.deepEqual(events.map((e) => e.runId), ["run-10", "run-11"]);
    assert.equal(events[1].id, events[0].id + 1);
  });

  it("streams every repository without ?repo, with a cursor id that resumes each", async () => {
    const sse = await openSse(`${f.api.url}/events`);
    await until(() => f.stream.clients() >= 1, { what: "the client" });
    f.repos.get("alpha")!.writer.publish(started(20));
    await f.repos.get("alpha")!.writer.flush();
    f.repos.get("beta")!.writer.publish(started(21));
    const messages = await sse.take((m) => m.length === 2);
    sse.close();
    assert.deepEqual(parse(messages).map((e) => [e.repo, e.runId]), [
      ["alpha", "run-20"],
      ["beta", "run-21"],
    ]);
    const cursor = new URLSearchParams(messages[1].id);
    assert.equal(Number(cursor.get("alpha")), parse(messages)[0].id);
    assert.equal(Number(cursor.get("beta")), parse(messages)[1].id);
    // Resuming from the first message's cursor gives the second again, and then new ones.
    const again = await openSse(`${f.api.url}/events`, { "last-event-id": messages[0].id! });
    f.repos.get("alpha")!.writer.publish(started(22));
    const resumed = parse(await again.take((m) => m.length === 2));
    again.close();
    assert.deepEqual(resumed.map((e) => e.runId).sort(), ["run-21", "run-22"]);
  });

  it("refuses an unknown repository, a bad cursor and other methods", async () => {
    const unknown = await fetch(`${f.api.url}/events?repo=nope`);
    assert.equal(unknown.status, 404);
    assert.match((await unknown.json()).error.message, /unknown repository 'nope'/);
    const constructorName = await fetch(`${f.api.url}/events?repo=constructor`);
    assert.equal(constructorName.status, 404);
    await constructorName.body?.cancel();
    const bad = await fetch(`${f.api.url}/events?repo=alpha`, {
      headers: { "last-event-id": "x1" },
    });
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).error.message, /Last-Event-ID must be an event id/);
    const since = await fetch(`${f.api.url}/events?since=-1`);
    assert.equal(since.status, 400);
    await since.body?.cancel();
    const typo = await fetch(`${f.api.url}/events?rep=alpha`);
    assert.equal(typo.status, 400);
    await typo.body?.cancel();
    const post = await fetch(`${f.api.url}/events`, { method: "POST" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET");
    await post.body?.cancel();
  });
});

describe("GET /events behind a token", () => {
  let f: Fixture;
  before(async () => {
    f = await setup({ token: TOKEN, authorize: true });
  });
  after(() => teardown(f));

  it("needs the bearer token, or what the authorize hook accepts", async () => {
    const none = await fetch(`${f.api.url}/events`);
    assert.equal(none.status, 401);
    await none.body?.cancel();
    const wrong = await fetch(`${f.api.url}/events`, { headers: { authorization: "Bearer no" } });
    assert.equal(wrong.status, 401);
    await wrong.body?.cancel();
    const bearer = await openSse(`${f.api.url}/events?repo=alpha&since=0`, {
      authorization: `Bearer ${TOKEN}`,
    });
    assert.equal(bearer.status, 200);
    bearer.close();
    const cookie = await openSse(`${f.api.url}/events?repo=alpha&since=0`, {
      cookie: `session=${TOKEN}`,
    });
    assert.equal(cookie.status, 200);
    cookie.close();
  });
});

describe("GET /events with a client that does not read", () => {
  let f: Fixture;
  before(async () => {
    f = await setup({ maxBufferedBytes: 64 * 1024 });
  });
  after(() => teardown(f));

  it("drops it with a final stream.dropped event, without holding the publisher back", async () => {
    const { port } = f.api.address;
    const socket = connect({ host: "127.0.0.1", port });
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.pause();
    socket.write("GET /events?repo=alpha HTTP/1.1\r\nhost: localhost\r\n\r\n");
    await until(() => f.stream.clients() === 1, { what: "the client" });
    const alpha = f.repos.get("alpha")!;
    const line = "x".repeat(8 * 1024);
    // Far more than the socket buffers and the bound hold together.
    for (let i = 0; i < 2000; i++) {
      alpha.writer.publish({ type: "job.log", runId: "r", jobId: `j${i}`, lines: [line] });
    }
    await alpha.writer.flush();
    await until(() => f.stream.clients() === 0, { what: "the client to be dropped" });
    // A second, reading client still gets everything.
    const reader = await openSse(`${f.api.url}/events?repo=alpha&since=0`);
    const all = await reader.take((m) => m.length === 2000);
    reader.close();
    assert.equal(all.length, 2000);
    // What the slow client got ends with the drop notice.
    socket.resume();
    let text = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk) => (text += chunk));
    await new Promise((resolve) => socket.once("end", resolve));
    socket.destroy();
    const blocks = text.split("\n\n").filter((b) => b.includes("data: "));
    const last = JSON.parse(blocks.at(-1)!.slice(blocks.at(-1)!.indexOf("data: ") + 6));
    assert.equal(last.type, "stream.dropped");
    assert.match(last.reason, /unread/);
    assert.ok(blocks.length < 2001);
    // Not the whole burst: written in slices with the bound checked after each, it got what the
    // sockets' buffers held and the 64 KiB bound allow (67 KB here), not a whole stored append
    // (516 KB when a burst was written whole).
    assert.ok(text.length < 256 * 1024, `the client got ${text.length} characters`);
  });
});
