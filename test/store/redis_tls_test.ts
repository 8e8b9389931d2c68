/**
 * `rediss://`: the Redis driver over TLS against a real redis-server with a certificate from
 * a throw-away CA made with openssl.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { join } from "node:path";
import { UnavailableError } from "../../src/errors.ts";
import { openRedisDriver } from "../../src/store/redis.ts";
import { freePort, makeTempDir, type TempDir } from "../helpers/mod.ts";

function openssl(dir: string, args: string[]): void {
  const result = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`openssl ${args[0]} failed: ${result.stderr}`);
}

async function listening(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: "127.0.0.1", port });
      socket.once("connect", () => (socket.destroy(), resolve(true)));
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`redis-server with TLS did not listen on ${port}`);
}

describe("redis store over TLS", () => {
  let dir: TempDir;
  let server: ChildProcess;
  let port: number;

  before(async () => {
    dir = await makeTempDir("ays-tls-");
    const d = dir.path;
    openssl(d, [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      "1",
      "-subj",
      "/CN=ays test CA",
    ]);
    openssl(d, [
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      "server.key",
      "-out",
      "server.csr",
      "-subj",
      "/CN=localhost",
    ]);
    writeFileSync(join(d, "ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    openssl(d, [
      "x509",
      "-req",
      "-in",
      "server.csr",
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      "server.pem",
      "-days",
      "1",
      "-extfile",
      "ext.cnf",
    ]);
    port = await freePort();
    server = spawn("redis-server", [
      "--port",
      "0",
      "--tls-port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--tls-cert-file",
      join(d, "server.pem"),
      "--tls-key-file",
      join(d, "server.key"),
      "--tls-ca-cert-file",
      join(d, "ca.pem"),
      "--tls-auth-clients",
      "no",
      "--requirepass",
      "tls-pw",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      d,
    ], { stdio: "ignore" });
    await listening(port);
  });

  after(async () => {
    const gone = new Promise((resolve) => server.once("exit", resolve));
    server.kill("SIGKILL");
    await gone;
    await dir.remove();
  });

  it("connects with the CA given in the URL", async () => {
    const ca = encodeURIComponent(join(dir.path, "ca.pem"));
    const store = await openRedisDriver(`rediss://:tls-pw@127.0.0.1:${port}/2?ca=${ca}`, {
      namespace: "tls",
    });
    assert.match(store.location, /^rediss:\/\/:\*\*\*@127\.0\.0\.1/);
    assert.equal(await store.batch([{ op: "set", key: "k", value: new Uint8Array([1, 2]) }]), true);
    assert.deepEqual(await store.getByPrefix(""), [{ key: "k", value: new Uint8Array([1, 2]) }]);
    await store.close();
  });

  it("refuses a server whose certificate it cannot verify: exit 4, password masked", async () => {
    await assert.rejects(
      openRedisDriver(`rediss://:tls-pw@127.0.0.1:${port}/0`, { namespace: "tls" }),
      (error: Error) => {
        assert.ok(error instanceof UnavailableError);
        assert.doesNotMatch(error.message, /tls-pw/);
        return true;
      },
    );
  });

  it("does not speak plain redis:// to a TLS port", async () => {
    await assert.rejects(
      openRedisDriver(`redis://:tls-pw@127.0.0.1:${port}/0`, {
        namespace: "tls",
        connectTimeoutMs: 1000,
      }),
      UnavailableError,
    );
  });
});
