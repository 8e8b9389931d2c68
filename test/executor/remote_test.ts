import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { after, before, describe, it } from "node:test";
import {
  type RemoteReply,
  RemoteRunner,
  SshConnectError,
  SshConnections,
  type SshTarget,
} from "../../src/executor/mod.ts";
import { createTestHosts, netnsSkipReason, type TestHosts } from "../helpers/netns.ts";
import { type SshServer, startSshd } from "../helpers/sshd.ts";
import { until } from "../helpers/until.ts";
import { writeFiles } from "../helpers/temp_repo.ts";

function execResult(reply: RemoteReply) {
  assert.equal(reply.op, "exec");
  return (reply as Extract<RemoteReply, { op: "exec" }>).result;
}

describe("RemoteRunner over SshConnections", { skip: await netnsSkipReason() }, () => {
  let set: TestHosts;
  let server: SshServer;
  let dir: string;
  let tmpRoot: string;
  let connections: SshConnections;
  let runner: RemoteRunner;
  let target: SshTarget;
  // The test host shares this machine's file system, so what is put there is removed in after.
  // Named by process: a Bun and a Deno run at once do not remove each other's.
  const put1 = `/tmp/ays-put-${process.pid}-1`;
  const put2 = `/tmp/ays-put-${process.pid}-2`;
  before(async () => {
    set = await createTestHosts(2, { label: "rem" });
    server = await startSshd(set.hosts[0]);
    dir = await mkdtemp(join(tmpdir(), "ays-remote-test-"));
    tmpRoot = join(dir, "tmp");
    await import("node:fs/promises").then((fs) => fs.mkdir(tmpRoot));
    // What an ays killed with kill -9 left: its private folder with a key file; its owner is gone.
    const { spawnSync } = await import("node:child_process");
    const deadPid = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" }).stdout.trim();
    await writeFiles(join(tmpRoot, "ays-ssh-left"), { owner: deadPid, "k-0": "secret" });
    connections = new SshConnections({ tmpRoot, backoffMs: [50] });
    runner = new RemoteRunner(connections);
    target = {
      kind: "ssh",
      host: server.address,
      user: "root",
      key: server.privateKey,
      knownHosts: join(dir, "repo", ".ays", "known_hosts"),
    };
  });
  after(async () => {
    for (const path of [put1, put2]) await rm(path, { force: true });
    await connections?.close();
    await server?.close();
    await set?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("runs commands on the target over one master, with env, cwd, input and exit codes", async () => {
    const logged: string[] = [];
    const first = execResult(
      await runner.run({
        op: "exec",
        target,
        command: 'echo "$SSH_CONNECTION"; echo "$AYS_X" >&2; pwd; cat',
        env: { AYS_X: "it's x" },
        cwd: "/tmp",
        input: "from stdin",
      }, { onOutput: (text) => logged.push(text) }),
    );
    assert.equal(first.code, 0, first.stderr);
    const [connection, pwd, input] = first.stdout.trim().split("\n");
    assert.equal(connection.split(" ")[2], server.address);
    assert.deepEqual([pwd, input], ["/tmp", "from stdin"]);
    assert.equal(first.stderr, "it's x\n");
    assert.match(logged.join(""), /it's x/);
    const failed = execResult(await runner.run({ op: "exec", target, command: "exit 7" }));
    assert.equal(failed.code, 7);
    // Parallel commands share the one connection.
    const many = await Promise.all(
      Array.from(
        { length: 12 },
        (_, i) => runner.run({ op: "exec", target, command: `echo ${i}` }),
      ),
    );
    assert.deepEqual(
      many.map((r) => execResult(r).stdout.trim()),
      [...Array(12).keys()].map(String),
    );
    assert.equal(await server.connections(), 1);
    // The host key was accepted into the repository's known_hosts.
    const known = await readFile(target.knownHosts, "utf8");
    assert.ok(known.includes(server.hostPublicKey.split(" ")[1]), known);
  });

  it("puts and gets files, from bytes and from local files", async () => {
    const local = join(dir, "local.bin");
    const bytes = new Uint8Array([0, 1, 2, 255, 10, 13]);
    await writeFile(local, bytes);
    await runner.run({
      op: "put",
      target,
      remotePath: put1,
      localPath: local,
      mode: 0o750,
    });
    await runner.run({
      op: "put",
      target,
      remotePath: put2,
      bytes: new TextEncoder().encode("text"),
    });
    const stat = execResult(
      await runner.run({ op: "exec", target, command: `stat -c %a ${put1}` }),
    );
    assert.equal(stat.stdout.trim(), "750");
    const got = await runner.run({ op: "get", target, remotePath: put1 });
    assert.deepEqual(got.op === "get" && [...got.bytes!], [...bytes]);
    const copy = join(dir, "copy.txt");
    await runner.run({ op: "get", target, remotePath: put2, localPath: copy });
    assert.equal(await readFile(copy, "utf8"), "text");
    await assert.rejects(
      runner.run({ op: "get", target, remotePath: "/nonexistent/file" }),
      /reading \/nonexistent\/file failed \(exit 1\)/,
    );
  });

  it("kills the remote process group when the request is aborted", async () => {
    const abort = new AbortController();
    // Test hosts share the machine's process table, and the Bun and Deno suites run this test at
    // the same time: sleeps of durations derived from this process's pid are this test's alone.
    const first = 1_000_000 + process.pid * 2;
    const running = runner.run({
      op: "exec",
      target,
      command: `sleep ${first} & sleep ${first + 1}; echo never`,
    }, { signal: abort.signal });
    const host = set.hosts[0];
    const sleeping = () =>
      host.run(["pgrep", "-f", `^sleep (${first}|${first + 1})$`]).then((r) => r.stdout.trim());
    await until(async () => (await sleeping()).split("\n").length === 2, { what: "both sleeps" });
    abort.abort(new Error("timed out"));
    await assert.rejects(running, /timed out/);
    await until(async () => (await sleeping()) === "", { what: "the remote group killed" });
  });

  it("leaves detached commands running and returns their pid", async () => {
    const reply = await runner.run({ op: "exec", target, command: "exec sleep 302", detach: true });
    assert.equal(reply.op, "detach");
    const pid = (reply as { pid: number }).pid;
    const alive = execResult(
      await runner.run({ op: "exec", target, command: `kill -0 ${pid} && echo yes` }),
    );
    assert.equal(alive.stdout.trim(), "yes");
    await runner.run({ op: "exec", target, command: `kill ${pid}` });
  });

  it("reports a host that does not answer as unreachable, after retrying", async () => {
    const down: SshTarget = { ...target, host: set.hosts[1].address, connectAttempts: 2 };
    await assert.rejects(
      runner.run({ op: "exec", target: down, command: "true" }),
      (error: unknown) => {
        assert.ok(error instanceof SshConnectError);
        assert.equal(error.reason, "unreachable");
        assert.match(error.message, /^host unreachable: .* \(2 attempts\): .*Connection refused/);
        return true;
      },
    );
  });

  it("refuses a changed host key and, under strict, an unknown one", async () => {
    const knownHosts = join(dir, "changed_known_hosts");
    const other = set.hosts[1];
    const otherServer = await startSshd(other);
    try {
      // A known_hosts line for the address with another key.
      await writeFile(knownHosts, `${other.address} ${server.hostPublicKey}\n`);
      await assert.rejects(
        runner.run({
          op: "exec",
          target: { ...target, host: other.address, knownHosts },
          command: "true",
        }),
        /^SshConnectError: host key changed: .*refusing to connect/,
      );
      await assert.rejects(
        runner.run({
          op: "exec",
          target: {
            ...target,
            host: other.address,
            knownHosts: join(dir, "empty"),
            hostKeys: "strict",
          },
          command: "true",
        }),
        /host key unknown: .* host key checking is strict/,
      );
    } finally {
      await otherServer.close();
    }
  });

  it("logs in with a password given through SSH_ASKPASS, never as an argument", async () => {
    const other = set.hosts[1];
    const password = `pw-${process.pid}-secret`;
    const withPassword = await startSshd(other, { rootPassword: password });
    try {
      const viaPassword: SshTarget = {
        kind: "ssh",
        host: other.address,
        user: "root",
        password,
        knownHosts: join(dir, "pw_known_hosts"),
      };
      const seen: string[] = [];
      const sampling = (async () => {
        const { spawnSync } = await import("node:child_process");
        for (let i = 0; i < 40; i++) {
          seen.push(spawnSync("ps", ["-eo", "args"], { encoding: "utf8" }).stdout);
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      const reply = await runner.run({ op: "exec", target: viaPassword, command: "echo in" });
      assert.equal(execResult(reply).stdout, "in\n");
      await sampling;
      assert.ok(seen.every((s) => !s.includes(password)), "the password appeared in ps");
      await assert.rejects(
        runner.run({
          op: "exec",
          target: { ...viaPassword, password: "wrong", knownHosts: join(dir, "pw2") },
          command: "true",
        }),
        /^SshConnectError: authentication failed on root@/,
      );
    } finally {
      await withPassword.close();
    }
  });

  it("removes the key files and control sockets on close (and those of dead owners)", async () => {
    const folders = await readdir(tmpRoot);
    assert.equal(folders.length, 1);
    assert.notEqual(folders[0], "ays-ssh-left");
    const files = await readdir(join(tmpRoot, folders[0]));
    assert.ok(files.some((f) => f.startsWith("k-")), files.join(","));
    await connections.close();
    assert.ok(!existsSync(join(tmpRoot, folders[0])));
    await assert.rejects(runner.run({ op: "exec", target, command: "true" }), /closed/);
  });
});
