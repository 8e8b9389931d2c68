import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createTestHosts, netnsSkipReason, type TestHosts } from "./netns.ts";
import { type SshServer, startSshd } from "./sshd.ts";

/** Runs the system ssh client against `server` with its key; resolves with code and output. */
function ssh(
  server: SshServer,
  knownHosts: string,
  command: string,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("ssh", [
      "-i",
      server.keyPath,
      "-o",
      "BatchMode=yes",
      "-o",
      `UserKnownHostsFile=${knownHosts}`,
      "-o",
      "StrictHostKeyChecking=accept-new",
      "-o",
      "ConnectTimeout=10",
      `${server.user}@${server.address}`,
      command,
    ], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "", err = "";
    child.stdout.on("data", (c) => (out += String(c)));
    child.stderr.on("data", (c) => (err += String(c)));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, out, err }));
  });
}

describe("startSshd", { skip: await netnsSkipReason() }, () => {
  let set: TestHosts;
  let server: SshServer;
  let dir: string;
  before(async () => {
    set = await createTestHosts(1, { label: "sshd" });
    server = await startSshd(set.hosts[0]);
    dir = await mkdtemp(join(tmpdir(), "ays-sshd-test-"));
  });
  after(async () => {
    await server?.close();
    await set?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("accepts the test's key, and its log counts connections and sessions", async () => {
    const knownHosts = join(dir, "known_hosts");
    const first = await ssh(server, knownHosts, "echo $SSH_CONNECTION");
    assert.equal(first.code, 0, first.err);
    // SSH_CONNECTION: client address, client port, server address, server port.
    const [client, , address, port] = first.out.trim().split(" ");
    assert.deepEqual([client, address, port], [set.hosts[0].peerAddress, server.address, "22"]);
    const home = await ssh(server, knownHosts, "echo $HOME");
    assert.equal(home.out.trim(), server.home);
    assert.equal(await server.connections(), 2);
    assert.equal(await server.sessions(), 2);
  });

  it("refuses other keys and stops serving when stopped, and starts again", async () => {
    const other = join(dir, "known_other");
    const stranger = await new Promise<number | null>((resolve) => {
      const child = spawn("ssh", [
        "-o",
        "BatchMode=yes",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "IdentityFile=/dev/null",
        "-o",
        `UserKnownHostsFile=${other}`,
        "-o",
        "StrictHostKeyChecking=accept-new",
        `root@${server.address}`,
        "true",
      ], { stdio: "ignore" });
      child.once("close", resolve);
    });
    assert.equal(stranger, 255);
    await server.stop();
    const down = await ssh(server, join(dir, "known_hosts"), "true");
    assert.equal(down.code, 255);
    assert.match(down.err, /Connection refused/);
    await server.start();
    const up = await ssh(server, join(dir, "known_hosts"), "echo up");
    assert.equal(up.out.trim(), "up", up.err);
  });
});
