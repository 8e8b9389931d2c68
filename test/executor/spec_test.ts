import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  classifyFailure,
  describeExecutor,
  type ExecutorLink,
  LOCAL,
  parseExecutorSpec,
  resolveExecutor,
} from "../../src/executor/mod.ts";

describe("parseExecutorSpec", () => {
  it("copies a local or an ssh executor, own properties only", () => {
    assert.equal(parseExecutorSpec({ kind: "local" }), LOCAL);
    const spec = parseExecutorSpec({
      kind: "ssh",
      host: "10.0.0.5",
      port: 2222,
      user: "root",
      key: "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n",
      hostKeys: "strict",
      maxSessions: 4,
    });
    assert.equal(spec.kind === "ssh" && spec.port, 2222);
    assert.equal(describeExecutor(spec), "ssh root@10.0.0.5:2222");
    const inherited = Object.create({ host: "evil" });
    inherited.kind = "ssh";
    assert.throws(() => parseExecutorSpec(inherited), /needs a host/);
  });

  it("refuses what is not an executor, naming the problem", () => {
    const cases: [unknown, RegExp][] = [
      [null, /must be an object like \{kind: "ssh", host\}, got null/],
      [{ kind: "docker" }, /kind must be "local" or "ssh", got "docker"/],
      [{ kind: "local", host: "x" }, /a local executor has no host/],
      [{ kind: "ssh", hots: "x" }, /an ssh executor has no hots/],
      [{ kind: "ssh", host: "-oProxyCommand=x" }, /host must not start with "-"/],
      [{ kind: "ssh", host: "root@x" }, /no spaces, no @/],
      [{ kind: "ssh", host: "x", port: 70000 }, /port must be a whole number from 1 to 65535/],
      [{ kind: "ssh", host: "x", user: "a\nb" }, /user must not contain control characters/],
      [{ kind: "ssh", host: "x", key: "hello" }, /key must be the text of a private key/],
      [
        { kind: "ssh", host: "x", keyPath: "/k", key: "-----BEGIN PRIVATE KEY-----" },
        /keyPath or key, not both/,
      ],
      [{ kind: "ssh", host: "x", hostKeys: "no" }, /hostKeys must be "accept-new" or "strict"/],
      [{ kind: "ssh", host: "x", maxSessions: 0 }, /maxSessions must be a whole number/],
    ];
    for (const [value, message] of cases) assert.throws(() => parseExecutorSpec(value), message);
  });
});

describe("resolveExecutor", () => {
  const modules: Record<string, Record<string, unknown>> = {
    "/t/app.js": { install() {} },
    "/t/os.js": {
      executor: (job: { service: { data: { addr: string } } }) => ({
        kind: "ssh",
        host: job.service.data.addr,
      }),
    },
    "/t/node.js": { executor: () => ({ kind: "ssh", host: "node" }) },
    "/t/bad.js": { executor: () => ({ kind: "ssh" }) },
    "/t/throws.js": {
      executor: () => {
        throw new Error("no address yet");
      },
    },
  };
  const load = (path: string) => Promise.resolve(modules[path]);
  const link = (name: string, actionsPath: string | null, data = {}): ExecutorLink => ({
    name,
    actionsPath,
    job: { service: { data } },
  });

  it("takes the nearest service on the parent chain that exports executor", async () => {
    const chain = [
      link("app!a", "/t/app.js"),
      link("os!o", "/t/os.js", { addr: "10.1.1.1" }),
      link("node!n", "/t/node.js"),
    ];
    assert.deepEqual(await resolveExecutor(chain, { load }), {
      spec: { kind: "ssh", host: "10.1.1.1" },
      from: "os!o",
    });
    assert.deepEqual(await resolveExecutor(chain.slice(2), { load }), {
      spec: { kind: "ssh", host: "node" },
      from: "node!n",
    });
    assert.deepEqual(
      await resolveExecutor([link("app!a", "/t/app.js"), link("x!y", null)], { load }),
      {
        spec: LOCAL,
        from: null,
      },
    );
    assert.deepEqual(await resolveExecutor(chain, { load, pinnedLocal: true }), {
      spec: LOCAL,
      from: null,
    });
  });

  it("names the service whose executor failed or returned a bad value", async () => {
    await assert.rejects(
      resolveExecutor([link("os!o", "/t/bad.js")], { load }),
      /^Error: executor\(\) of os!o \(\/t\/bad\.js\): an ssh executor needs a host$/,
    );
    await assert.rejects(
      resolveExecutor([link("os!o", "/t/throws.js")], { load }),
      /executor\(\) of os!o \(\/t\/throws\.js\) failed: no address yet/,
    );
  });
});

describe("classifyFailure", () => {
  it("tells unreachable hosts, host key problems and refused logins apart", () => {
    assert.equal(
      classifyFailure("ssh: connect to host x port 22: Connection refused"),
      "unreachable",
    );
    assert.equal(
      classifyFailure("ssh: connect to host x port 22: No route to host"),
      "unreachable",
    );
    assert.equal(
      classifyFailure("@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n"),
      "host-key-changed",
    );
    assert.equal(
      classifyFailure(
        "No ED25519 host key is known for x and you have requested strict checking.\nHost key verification failed.",
      ),
      "host-key-unknown",
    );
    assert.equal(classifyFailure("root@x: Permission denied (publickey)."), "auth");
  });
});
