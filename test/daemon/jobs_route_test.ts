import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type HttpApi, startHttpApi } from "../../src/daemon/http.ts";
import { jobsRoute } from "../../src/daemon/jobs_route.ts";
import type { JobFilter } from "../../src/run/mod.ts";
import { checkJobFilter } from "../../src/run/mod.ts";
import { FakeBackend } from "./fake_backend.ts";

/** Answers the filter it was given, checked as the store backend checks it. */
class JobsBackend extends FakeBackend {
  jobs(repo: string, filter: JobFilter): Promise<unknown[]> {
    checkJobFilter(filter);
    return Promise.resolve([{ repo, filter }]);
  }
}

describe("GET /repos/{name}/jobs", () => {
  let api: HttpApi;
  before(async () => {
    const backend = new JobsBackend({ alpha: [] });
    api = await startHttpApi(backend, {
      listen: { host: "127.0.0.1", port: 0 },
      routes: [jobsRoute(backend)],
    });
  });
  after(() => api.close());

  const get = async (path: string) => {
    const response = await fetch(api.url + path);
    return { status: response.status, body: await response.json() };
  };

  it("passes the filters of ays jobs as query parameters", async () => {
    const answer = await get(
      "/repos/alpha/jobs?role=mid&instance=m.*&action=install&recurring=true&state=error&limit=5",
    );
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, [{
      repo: "alpha",
      filter: {
        role: "mid",
        instance: "m.*",
        action: "install",
        recurring: true,
        state: "error",
        limit: 5,
      },
    }]);
    assert.deepEqual((await get("/repos/alpha/jobs")).body, [{ repo: "alpha", filter: {} }]);
  });

  it("refuses an unknown repository, parameter, state or limit", async () => {
    assert.equal((await get("/repos/nope/jobs")).status, 404);
    assert.equal((await get("/repos/__proto__/jobs")).status, 404);
    const typo = await get("/repos/alpha/jobs?sate=error");
    assert.equal(typo.status, 400);
    assert.match(typo.body.error.message, /unknown query parameter 'sate'/);
    const state = await get("/repos/alpha/jobs?state=broken");
    assert.equal(state.status, 400);
    assert.match(state.body.error.message, /unknown job state 'broken'/);
    assert.equal((await get("/repos/alpha/jobs?limit=-1")).status, 400);
    assert.equal((await get("/repos/alpha/jobs?recurring=yes")).status, 400);
    const post = await fetch(api.url + "/repos/alpha/jobs", { method: "POST" });
    assert.equal(post.status, 405);
    await post.body?.cancel();
  });
});
