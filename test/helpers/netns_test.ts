import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createTestHosts, heldIndexes, netnsSkipReason, type TestHosts } from "./netns.ts";

/** Runs `ip ARGS` in the root namespace and returns its output. */
function ipOutput(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("ip", args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk) => (out += String(chunk)));
    child.once("error", reject);
    child.once("close", () => resolve(out));
  });
}

/** A TCP server in the root namespace on `host` that answers "root:<what it received>". */
async function echoServer(host: string): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    socket.once("data", (data) => socket.end(`root:${String(data).trim()}\n`));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const address = server.address();
  return { server, port: typeof address === "object" && address ? address.port : 0 };
}

/** Bash inside a host: sends `message` to host:port over /dev/tcp and prints the answer. */
function tcpClientScript(host: string, port: number, message: string): string[] {
  return [
    "bash",
    "-c",
    `exec 3<>/dev/tcp/${host}/${port}; echo ${message} >&3; read -r line <&3; echo "$line"`,
  ];
}

describe("createTestHosts", { skip: await netnsSkipReason() }, () => {
  let set: TestHosts;
  before(async () => {
    set = await createTestHosts(2, { label: "t" });
  });
  after(async () => {
    await set?.close();
  });

  it("gives each host its own /30 in a range this machine uses nowhere else", async () => {
    const [a, b] = set.hosts;
    assert.notEqual(a.address, b.address);
    assert.match(a.name, new RegExp(`^ays-t-${process.pid}-i\\d+$`));
    assert.notEqual(a.name, b.name);
    // The namespace side has the host address, lo is up, the default route is via the peer.
    const inside = await a.run(["ip", "-4", "-o", "addr"]);
    assert.equal(inside.code, 0);
    assert.match(inside.stdout, new RegExp(`inet ${a.address.replaceAll(".", "\\.")}/30`));
    assert.match(inside.stdout, /lo\s+inet 127\.0\.0\.1/);
    const route = await a.run(["ip", "-4", "route"]);
    assert.match(route.stdout, new RegExp(`default via ${a.peerAddress.replaceAll(".", "\\.")}`));
    // No address of the root namespace outside our own pairs lies in the chosen range.
    const rootAddrs = await ipOutput(["-4", "-o", "addr"]);
    const foreign = rootAddrs.split("\n").filter((l) => l && !/ ays[rn]\d+ /.test(l));
    const prefix = set.range.split(".").slice(0, 2).join(".") + ".";
    assert.ok(foreign.every((l) => !l.includes(`inet ${prefix}`)), foreign.join("\n"));
  });

  it("reaches a server bound to the root-side address from every host", async () => {
    const { server, port } = await echoServer(set.rootAddress);
    try {
      for (const host of set.hosts) {
        const result = await host.run(tcpClientScript(set.rootAddress, port, host.name));
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout.trim(), `root:${host.name}`);
      }
    } finally {
      server.close();
    }
  });

  it("runs spawned servers inside the namespace, reachable from the root namespace", async () => {
    const [a] = set.hosts;
    const script = "import socket,sys\n" +
      "s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n" +
      `s.bind(('${a.address}',0));s.listen();print(s.getsockname()[1],flush=True)\n` +
      "while True:\n c,_=s.accept();d=c.recv(100);c.sendall(b'ns:'+d);c.close()\n";
    const child = a.spawn("python3", ["-c", script], { stdio: ["ignore", "pipe", "inherit"] });
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout?.once("data", (chunk) => resolve(Number(String(chunk).trim())));
      child.once("exit", (code) => reject(new Error(`server exited ${code}`)));
    });
    // The root namespace (where ays runs) reaches it at the host address. Host to host would
    // need forwarding in the root namespace, which the helper does not turn on.
    const fromRoot = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, a.address, () => socket.write("hi"));
      let answer = "";
      socket.on("data", (chunk) => (answer += String(chunk)));
      socket.once("error", reject);
      socket.once("close", () => resolve(answer));
    });
    assert.equal(fromRoot, "ns:hi");
    child.kill("SIGKILL");
  });

  it("passes input and reports exit codes of commands run inside", async () => {
    const result = await set.hosts[0].run(["bash", "-c", "cat; exit 3"], { input: "data" });
    assert.deepEqual([result.code, result.stdout], [3, "data"]);
  });
});

describe("test host removal", { skip: await netnsSkipReason() }, () => {
  it("close() removes namespaces, veths and locks, also with a process still running", async () => {
    const set = await createTestHosts(1, { label: "c" });
    const [host] = set.hosts;
    host.spawn("sleep", ["1000"], { stdio: "ignore" });
    // A detached process the helper did not spawn itself, as a daemon would leave.
    await host.run(["bash", "-c", "setsid sleep 1000 >/dev/null 2>&1 < /dev/null &"]);
    const index = Number(host.rootDevice.slice(4));
    assert.ok((await heldIndexes()).includes(index));
    await set.close();
    await set.close(); // idempotent
    assert.ok(!(await ipOutput(["netns", "list"])).includes(host.name));
    assert.ok(!(await ipOutput(["-o", "link"])).includes(`${host.rootDevice}@`));
    assert.ok(!(await heldIndexes()).includes(index));
  });

  it("removes what a killed test process left when hosts are made next", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ays-netns-test-"));
    try {
      const script = join(dir, "leave.ts");
      const helper = new URL("./netns.ts", import.meta.url).pathname;
      await writeFile(
        script,
        `import { createTestHosts } from ${JSON.stringify(helper)};\n` +
          `const set = await createTestHosts(1, { label: "k" });\n` +
          `console.log(set.hosts[0].name);\nawait new Promise(() => setInterval(() => {}, 1000));\n`,
      );
      const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
      const args = isDeno ? ["run", "-A", script] : ["run", script];
      const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
      const name = await new Promise<string>((resolve, reject) => {
        child.stdout.once("data", (chunk) => resolve(String(chunk).trim()));
        child.once("exit", (code) => reject(new Error(`helper child exited ${code}`)));
      });
      const gone = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await gone;
      assert.ok((await ipOutput(["netns", "list"])).includes(name), "left behind before");
      const set = await createTestHosts(1, { label: "r" });
      await set.close();
      assert.ok(!(await ipOutput(["netns", "list"])).includes(name), `${name} still there`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
