import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { DaemonStatus } from "../../src/daemon/backend.ts";
import { formatDaemonStatus, resolveDaemonSettings } from "../../src/daemon/settings.ts";
import { InputError } from "../../src/errors.ts";

describe("resolveDaemonSettings", () => {
  it("defaults to 127.0.0.1:5000, text, no token", () => {
    assert.deepEqual(resolveDaemonSettings({}, {}), {
      listen: { host: "127.0.0.1", port: 5000 },
      token: undefined,
      logFormat: "text",
      color: false,
    });
  });

  it("takes --token over AYS_TOKEN, and AYS_TOKEN alone", () => {
    assert.equal(
      resolveDaemonSettings({ token: "a-flag" }, { AYS_TOKEN: "an-env" }).token,
      "a-flag",
    );
    assert.equal(resolveDaemonSettings({}, { AYS_TOKEN: "an-env" }).token, "an-env");
    assert.equal(resolveDaemonSettings({ token: "" }, { AYS_TOKEN: "" }).token, undefined);
  });

  it("colours text on a terminal unless --no-color or NO_COLOR; never JSON", () => {
    assert.equal(resolveDaemonSettings({}, {}, { isTerminal: true }).color, true);
    assert.equal(resolveDaemonSettings({ color: false }, {}, { isTerminal: true }).color, false);
    assert.equal(resolveDaemonSettings({}, { NO_COLOR: "1" }, { isTerminal: true }).color, false);
    assert.equal(
      resolveDaemonSettings({ logFormat: "json" }, {}, { isTerminal: true }).color,
      false,
    );
  });

  it("refuses a bad --log-format or --listen with an InputError", () => {
    assert.throws(() => resolveDaemonSettings({ logFormat: "xml" }, {}), InputError);
    assert.throws(() => resolveDaemonSettings({ listen: "nowhere" }, {}), InputError);
    assert.deepEqual(resolveDaemonSettings({ listen: "0.0.0.0:8080" }, {}).listen, {
      host: "0.0.0.0",
      port: 8080,
    });
  });
});

describe("formatDaemonStatus", () => {
  const status: DaemonStatus = {
    pid: 42,
    host: "box",
    since: "2026-01-01T00:00:00.000Z",
    address: "127.0.0.1:5000",
    repos: ["web"],
    jobs: [
      {
        kind: "recurring",
        repo: "web",
        service: "node!web1",
        action: "monitor",
        startedAt: "2026-01-01T00:01:00.000Z",
      },
      {
        kind: "run",
        repo: "web",
        runId: "r1",
        action: "install",
        startedAt: "2026-01-01T00:00:30.000Z",
      },
    ],
    updatedAt: "2026-01-01T00:01:00.000Z",
    heartbeatMs: 5000,
  };

  it("says who serves the repository, since when, where, and its jobs", () => {
    assert.equal(
      formatDaemonStatus("web", status, { now: Date.parse("2026-01-01T00:01:02.500Z") }),
      "daemon pid 42 on box serves web since 2026-01-01T00:00:00.000Z\n" +
        "api: http://127.0.0.1:5000\n" +
        "jobs: 2\n" +
        "  web: recurring node!web1 monitor, running 2.5 s\n" +
        "  web: run r1 (install), running 32.5 s\n",
    );
  });

  it("says when no daemon serves it, naming a dead one", () => {
    assert.equal(formatDaemonStatus("web", null), "no daemon serves web\n");
    assert.match(
      formatDaemonStatus("web", status, { alive: false }),
      /^no daemon serves web \(a daemon with pid 42 on box stopped answering at /,
    );
  });
});
