/**
 * The dashboard served by the daemon's real HTTP API over a real store (SQLite, Redis) with real
 * workers: the page and its files, the `/ui/api/` routes (services with failed actions'
 * messages, the planner's graph, recurring history, a job's log, `do`), and the token rules —
 * the page asks once, the session cookie lets it in, requests without it or with a forged
 * Origin are refused.
 */
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import { applyBlueprints, listBlueprints, readBlueprintFiles } from "../../src/blueprint/mod.ts";
import { type HttpApi, startHttpApi } from "../../src/daemon/http.ts";
import {
  type ServedRepo,
  storeBackend,
  storeRunRecurring,
} from "../../src/daemon/store_backend.ts";
import { storeRunQueue } from "../../src/daemon/store_queue.ts";
import { dashboard } from "../../src/dashboard/extension.ts";
import { SESSION_COOKIE } from "../../src/dashboard/session.ts";
import { loadRepoActors } from "../../src/repo/mod.ts";
import { WorkerPool } from "../../src/run/pool.ts";
import { openRepositoryStore } from "../../src/store/open.ts";
import { makeTempRepo, type RedisServer, startRedis, type TempDir } from "../helpers/mod.ts";

const ACTIONS = `
export async function install(job) {}
export async function monitor(job) {
  job.log("checking " + job.service.name);
  if (job.service.name === "bad") throw new Error("monitor broke on " + job.service.name);
}
export async function backup(job) {}
`;

const FILES = {
  "actorTemplates/db/schema.hrd": "size = type:int default:1\n",
  "actorTemplates/db/actions.js": ACTIONS,
  "actorTemplates/app/schema.hrd": "db = consume:db:1:1 auto\n",
  "actorTemplates/app/actions.js": ACTIONS,
  "actorTemplates/app/actor.yaml": "actions:\n  backup: {}\n",
  "blueprints/a.yaml": [
    "db__main:",
    "app__good:\n  db: main",
    "app__bad:\n  db: main",
    "app__x.y:\n  db: main",
    "actions:",
    "  - action: monitor",
    "    actor: app",
    "    recurring: 1s",
    "",
  ].join("\n"),
};

const TOKEN = "dash-sekrit";

async function openSeeded(repo: TempDir, name: string, store?: string): Promise<ServedRepo> {
  const { actors } = await loadRepoActors(repo.path, { globalDirs: [] });
  const docs = await readBlueprintFiles(await listBlueprints(repo.path));
  const change = applyBlueprints(docs, { repoName: name, actors, services: [] });
  const services = change.created.map((service) => {
    const next = structuredClone(service);
    // Up: recurring monitors run while start is ok; install is ok except on db.
    next.actions.start.state = "ok";
    next.actions.install.state = service.role === "db" ? "new" : "ok";
    return next;
  });
  const opened = await openRepositoryStore({
    repoPath: repo.path,
    repoName: name,
    storeFlag: store,
    env: {},
    mirror: false,
  });
  await opened.store.save({ actors: [...actors.values()], services });
  return { name, path: repo.path, store: opened.store, driver: opened.driver };
}

for (const backend of ["sqlite", "redis"] as const) {
  describe(`the dashboard on the daemon's API (${backend})`, () => {
    let redis: RedisServer | undefined;
    let repo: TempDir;
    let served: ServedRepo;
    let pool: WorkerPool;
    let open: HttpApi;
    let guarded: HttpApi;
    let clock = Date.now();
    const name = "dash";

    before(async () => {
      if (backend === "redis") redis = await startRedis();
      repo = await makeTempRepo({ name, files: FILES });
      served = await openSeeded(repo, name, redis?.url);
      pool = new WorkerPool({ size: 2 });
      const recurring = storeRunRecurring([served], { pool });
      for (const instance of ["good", "bad"]) {
        const service = (await served.store.loadServiceByName("app", instance))!;
        const signal = new AbortController().signal;
        for (const at of [1000, 2000]) {
          await recurring({ repo: name, service }, "monitor", {
            dueAt: at,
            startedAt: at,
            signal,
          }).catch(() => {});
        }
      }
      const listen = { host: "127.0.0.1", port: 0 };
      open = await startHttpApi(storeBackend([served]), {
        listen,
        ...dashboard([served]),
      });
      guarded = await startHttpApi(storeBackend([served]), {
        listen,
        token: TOKEN,
        ...dashboard([served], { token: TOKEN, now: () => clock }),
      });
    });
    after(async () => {
      await open?.close();
      await guarded?.close();
      await pool?.close();
      await served?.driver.close();
      await redis?.close();
      await repo?.remove();
    });

    const json = async (res: Response) => JSON.parse(await res.text());

    it("serves the page and its files with their types, gzip, an ETag and a strict CSP", async () => {
      for (const path of ["/ui/", "/ui", "/ui/index.html"]) {
        const res = await fetch(open.url + path);
        assert.equal(res.status, 200, path);
        assert.match(res.headers.get("content-type")!, /^text\/html/);
        assert.match(await res.text(), /<script type="module" src="\/ui\/app\.js">/);
      }
      const js = await fetch(open.url + "/ui/app.js");
      assert.match(js.headers.get("content-type")!, /^text\/javascript/);
      assert.match(js.headers.get("content-security-policy")!, /script-src 'self'/);
      assert.match(js.headers.get("content-security-policy")!, /frame-ancestors 'none'/);
      const etag = js.headers.get("etag")!;
      const text = await js.text();
      const again = await fetch(open.url + "/ui/app.js", { headers: { "if-none-match": etag } });
      assert.equal(again.status, 304);
      await again.body?.cancel();
      // Raw bytes over node:http, to see the gzip the daemon sends.
      const { request } = await import("node:http");
      const gz = await new Promise<Uint8Array>((resolve, reject) => {
        request(open.url + "/ui/app.js", { headers: { "accept-encoding": "gzip" } }, (res) => {
          assert.equal(res.headers["content-encoding"], "gzip");
          const parts: Uint8Array[] = [];
          res.on("data", (part) => parts.push(part));
          res.on("end", () => resolve(Buffer.concat(parts)));
        }).on("error", reject).end();
      });
      assert.equal(new TextDecoder().decode(gunzipSync(gz)), text);
      const missing = await fetch(open.url + "/ui/nope.js");
      assert.equal(missing.status, 404);
      await missing.body?.cancel();
    });

    it("lists services with the message of each failed action's last job", async () => {
      const services = await json(await fetch(`${open.url}/ui/api/repos/${name}/services`));
      assert.deepEqual(services.map((s: { name: string }) => s.name), [
        "bad",
        "good",
        "x.y",
        "main",
      ]);
      const bad = services.find((s: { name: string }) => s.name === "bad");
      assert.equal(bad.state, "error");
      assert.deepEqual(bad.errors, { monitor: "monitor broke on bad" });
      assert.deepEqual(services.find((s: { name: string }) => s.name === "good").errors, {});
      const missing = await fetch(`${open.url}/ui/api/repos/nope/services`);
      assert.equal(missing.status, 404);
      assert.match((await json(missing)).error.message, /unknown repository 'nope'/);
    });

    it("gives the planner's graph: producers first, cut at a limit, bad queries refused", async () => {
      const base = `${open.url}/ui/api/repos/${name}/graph`;
      const graph = await json(await fetch(`${base}?action=install`));
      assert.equal(graph.total, 4);
      assert.equal(graph.truncated, false);
      assert.equal(graph.steps, 2);
      const edges = graph.edges.map((e: { from: string; to: string }) => `${e.from} -> ${e.to}`);
      assert.deepEqual(edges.sort(), [
        "app!bad:install -> db!main:install",
        "app!good:install -> db!main:install",
        "app!x.y:install -> db!main:install",
      ]);
      const db = graph.nodes.find((n: { id: string }) => n.id === "db!main:install");
      assert.deepEqual({ step: db.step, state: db.state }, { step: 0, state: "new" });
      // Without an action: what `ays run` would do now — only x.y's monitor is still scheduled.
      const pending = await json(await fetch(base));
      assert.deepEqual(pending.nodes.map((n: { id: string }) => n.id), ["app!x.y:monitor"]);
      const cut = await json(await fetch(`${base}?action=install&limit=2`));
      assert.equal(cut.truncated, true);
      assert.equal(cut.nodes.length, 2);
      assert.ok(
        cut.edges.every((e: { from: string; to: string }) =>
          cut.nodes.some((n: { id: string }) => n.id === e.from) &&
          cut.nodes.some((n: { id: string }) => n.id === e.to)
        ),
      );
      for (
        const query of ["limit=0", "limit=x", "limit=99999", "action=in%20stall", "instance=("]
      ) {
        const res = await fetch(`${base}?${query}`);
        assert.equal(res.status, 400, query);
        await res.body?.cancel();
      }
    });

    it("lists recurring actions and a history newest first with log tails", async () => {
      const entries = await json(await fetch(`${open.url}/ui/api/repos/${name}/recurring`));
      const byService = new Map(entries.map((e: { service: string }) => [e.service, e]));
      assert.deepEqual(
        [...byService.keys()].sort(),
        ["app!bad", "app!good", "app!x.y"],
      );
      assert.deepEqual(byService.get("app!bad"), {
        service: "app!bad",
        action: "monitor",
        period: 1,
        state: "error",
        lastRun: new Date(2000).toISOString(),
        paused: null,
      });
      const history = await json(
        await fetch(`${open.url}/ui/api/repos/${name}/recurring/app/bad/monitor`),
      );
      assert.deepEqual(history.map((j: { startedAt: string }) => j.startedAt), [
        new Date(2000).toISOString(),
        new Date(1000).toISOString(),
      ]);
      assert.equal(history[0].error.message, "monitor broke on bad");
      assert.deepEqual(history[0].log.slice(0, 1), ["[info] checking bad"]);
      // The same job's whole log through the log route.
      const log = await json(
        await fetch(
          `${open.url}/ui/api/repos/${name}/runs/${
            encodeURIComponent(history[0].id.replace(/\.\d+$/, ""))
          }/jobs/${encodeURIComponent(history[0].id)}/log`,
        ),
      );
      assert.equal(log.lines[0], "[info] checking bad");
      const none = await fetch(`${open.url}/ui/api/repos/${name}/runs/r1/jobs/r1.000001/log`);
      assert.equal(none.status, 404);
      await none.body?.cancel();
    });

    it("do queues the action of exactly one service, and refuses what could never run", async () => {
      const url = `${open.url}/ui/api/repos/${name}/do`;
      const post = (body: unknown) =>
        fetch(url, { method: "POST", body: JSON.stringify(body), headers: { origin: open.url } });
      const res = await post({ service: "app!x.y", action: "backup" });
      assert.equal(res.status, 202);
      const { id } = await json(res);
      const item = await storeRunQueue(served.driver).pop("test", { timeoutMs: 0 });
      assert.equal(item?.id, id);
      // The instance is a literal: "x.y" must not match "xzy".
      assert.deepEqual(
        {
          action: item?.request.action,
          role: item?.request.role,
          instance: item?.request.instance,
        },
        { action: "backup", role: "app", instance: "x\\.y" },
      );
      await item?.ack();
      const refused: [unknown, number, RegExp][] = [
        [
          { service: "app!good", action: "bakup" },
          400,
          /has no action bakup \(did you mean 'backup'\?\)/,
        ],
        [{ service: "app!good", action: "install" }, 400, /install is already ok on app!good/],
        [{ service: "app!nope", action: "backup" }, 404, /unknown service 'app!nope'/],
        [{ service: "nobang", action: "backup" }, 400, /role!instance/],
        [
          { service: "app!good", action: "backup", force: true },
          400,
          /unknown key\(s\) in the body: force/,
        ],
        ["[]", 400, /JSON object/],
      ];
      for (const [body, status, message] of refused) {
        const answer = await post(body);
        assert.equal(answer.status, status, JSON.stringify(body));
        assert.match((await json(answer)).error.message, message);
      }
      assert.equal(await storeRunQueue(served.driver).pop("test", { timeoutMs: 0 }), null);
    });

    it("without a token, a cross-site change is refused (Origin, Sec-Fetch-Site) and nothing is queued", async () => {
      const url = `${open.url}/repos/${name}/runs`;
      const cases: Record<string, string>[] = [
        { origin: "http://evil.example", "content-type": "text/plain" },
        { "sec-fetch-site": "cross-site" },
        { "sec-fetch-site": "same-site" },
      ];
      for (const headers of cases) {
        const res = await fetch(url, { method: "POST", body: "{}", headers });
        assert.equal(res.status, 403, JSON.stringify(headers));
        assert.match((await json(res)).error.message, /cross-site request refused/);
      }
      assert.equal(await storeRunQueue(served.driver).pop("test", { timeoutMs: 0 }), null);
    });

    it("without a token, a request addressed to another name is refused (DNS rebinding)", async () => {
      const { request } = await import("node:http");
      const statusFor = (path: string, host: string) =>
        new Promise<number>((resolve, reject) => {
          request(open.url + path, { headers: { host } }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          }).on("error", reject).end();
        });
      const port = new URL(open.url).port;
      for (const path of ["/repos", "/ui/", `/ui/api/repos/${name}/services`, "/events"]) {
        assert.equal(await statusFor(path, `evil.example:${port}`), 403, path);
      }
      assert.equal(await statusFor("/repos", `localhost:${port}`), 200);
      // The health check reveals nothing and stays open to any name.
      assert.equal(await statusFor("/health", `evil.example:${port}`), 200);
    });

    it("with a token: the page is public, the API needs the bearer or the session cookie", async () => {
      const page = await fetch(`${guarded.url}/ui/`);
      assert.equal(page.status, 200);
      await page.body?.cancel();
      assert.deepEqual(await json(await fetch(`${guarded.url}/ui/session`)), {
        auth: "token",
        signedIn: false,
      });
      for (const path of ["/repos", `/ui/api/repos/${name}/services`]) {
        const res = await fetch(guarded.url + path);
        assert.equal(res.status, 401, path);
        await res.body?.cancel();
      }
      const own = { origin: guarded.url, "x-ays-request": "dashboard" };
      const wrong = await fetch(`${guarded.url}/ui/session`, {
        method: "POST",
        headers: own,
        body: JSON.stringify({ token: "guess" }),
      });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.headers.get("set-cookie"), null);
      await wrong.body?.cancel();
      const forgedLogin = await fetch(`${guarded.url}/ui/session`, {
        method: "POST",
        headers: { origin: "http://evil.example", "x-ays-request": "1" },
        body: JSON.stringify({ token: TOKEN }),
      });
      assert.equal(forgedLogin.status, 403);
      await forgedLogin.body?.cancel();

      const login = await fetch(`${guarded.url}/ui/session`, {
        method: "POST",
        headers: own,
        body: JSON.stringify({ token: TOKEN }),
      });
      assert.equal(login.status, 204);
      const setCookie = login.headers.get("set-cookie")!;
      assert.match(setCookie, /; HttpOnly; SameSite=Strict$/);
      const cookie = setCookie.split(";")[0];
      assert.ok(cookie.startsWith(`${SESSION_COOKIE}=`));

      const repos = await fetch(`${guarded.url}/repos`, { headers: { cookie } });
      assert.equal(repos.status, 200);
      assert.equal((await json(repos))[0].name, name);
      assert.deepEqual(
        await json(await fetch(`${guarded.url}/ui/session`, { headers: { cookie } })),
        {
          auth: "token",
          signedIn: true,
        },
      );

      const queue = (headers: Record<string, string>) =>
        fetch(`${guarded.url}/repos/${name}/runs`, { method: "POST", body: "{}", headers });
      const refusals: [Record<string, string>, number][] = [
        [{}, 401],
        [{ cookie }, 403],
        [{ cookie, origin: "http://evil.example", "x-ays-request": "1" }, 403],
        [{ cookie: `${SESSION_COOKIE}=1.${"A".repeat(43)}`, ...own }, 401],
      ];
      for (const [headers, status] of refusals) {
        const res = await queue(headers);
        assert.equal(res.status, status, JSON.stringify(headers));
        await res.body?.cancel();
      }
      assert.equal(await storeRunQueue(served.driver).pop("test", { timeoutMs: 0 }), null);
      const accepted = await queue({ cookie, ...own });
      assert.equal(accepted.status, 202);
      const { id } = await json(accepted);
      const item = await storeRunQueue(served.driver).pop("test", { timeoutMs: 0 });
      assert.equal(item?.id, id);
      await item?.ack();
      // Scripts keep using the bearer header, without Origin.
      const bearer = await fetch(`${guarded.url}/repos`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      assert.equal(bearer.status, 200);
      await bearer.body?.cancel();

      // The session ends at its expiry (the injected clock), and signing out clears the cookie.
      clock += 13 * 60 * 60 * 1000;
      const late = await fetch(`${guarded.url}/repos`, { headers: { cookie } });
      assert.equal(late.status, 401);
      await late.body?.cancel();
      const out = await fetch(`${guarded.url}/ui/session`, { method: "DELETE", headers: own });
      assert.equal(out.status, 204);
      assert.match(out.headers.get("set-cookie")!, /^ays_session=; Path=\/; Max-Age=0;/);
      await out.body?.cancel();
    });
  });
}
