// The example repository examples/webstack, driven through dist/ays with the commands of
// scripts/demo.sh (the README's main command), checking what the actions really do: folders
// and files, a server process that answers on its port, and that all of it is gone after
// stop and uninstall. Then scripts/demo.sh itself runs, on another free port.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cp, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  type AysResult,
  freePort,
  makeTempDir,
  projectRoot,
  runAys,
  type TempDir,
} from "../helpers/mod.ts";

const PASSWORD = "change-me-please"; // examples/webstack/blueprints/01_site.yaml

/** GETs a URL: status, body and one header, or the connection error's code. */
async function get(
  url: string,
): Promise<{ status: number; body: string; servedBy: string | null }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return {
    status: response.status,
    body: await response.text(),
    servedBy: response.headers.get("x-served-by"),
  };
}

async function refused(url: string): Promise<boolean> {
  try {
    await get(url);
    return false;
  } catch {
    return true;
  }
}

/** Whether a process exists and has not exited (a zombie has). */
async function alive(pid: number): Promise<boolean> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, "utf8");
    return !text.slice(text.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
}

/** Live processes whose command line mentions `text`. */
async function processesMentioning(text: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (cmdline.includes(text) && await alive(Number(entry))) {
      found.push(`${entry}: ${cmdline.replaceAll("\0", " ")}`);
    }
  }
  return found;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

const exists = (path: string) => stat(path).then(() => true, () => false);

describe("examples/webstack end to end", () => {
  let temp: TempDir;
  let repo: string;
  let port: number;
  let serverPid = 0;
  /** Everything ays printed, to prove the secret never appears. */
  const printed: string[] = [];

  const ays = async (args: string[]): Promise<AysResult> => {
    const result = await runAys(args, {
      cwd: repo,
      extraEnv: { XDG_CONFIG_HOME: join(temp.path, "config"), NO_COLOR: "1" },
    });
    printed.push(result.stdout, result.stderr);
    return result;
  };
  const ok = async (args: string[]): Promise<AysResult> => {
    const result = await ays(args);
    assert.equal(result.code, 0, `ays ${args.join(" ")}\n${result.stdout}\n${result.stderr}`);
    return result;
  };
  const showJson = async (service: string) =>
    JSON.parse((await ok(["show", service, "--json"])).stdout);

  before(async () => {
    temp = await makeTempDir("ays-example-");
    repo = join(temp.path, "webstack");
    await cp(join(projectRoot, "examples", "webstack"), repo, { recursive: true });
    port = await freePort();
    // What demo.sh does with AYS_DEMO_PORT.
    const blueprint = join(repo, "blueprints", "02_web.yaml");
    const text = await readFile(blueprint, "utf8");
    assert.match(text, /^ {2}port: 8080$/m);
    await writeFile(blueprint, text.replace(/^ {2}port: 8080$/m, `  port: ${port}`));
  });
  after(async () => {
    // Never leave a server behind, whatever failed.
    if (serverPid > 0 && await alive(serverPid)) process.kill(-serverPid, "SIGKILL");
    await temp?.remove();
  });

  it("blueprint creates the services with their links, the secret masked", async () => {
    await ok(["blueprint"]);
    const list = JSON.parse((await ok(["list", "--json"])).stdout);
    assert.deepEqual(
      list.map((s: { role: string; name: string }) => `${s.role}!${s.name}`),
      ["httpconf!default", "site!main", "webserver!main"],
    );
    const web = await showJson("webserver:main");
    assert.equal(web.parent, "site!main");
    assert.deepEqual(web.producers.sort(), ["httpconf!default", "site!main"]);
    assert.equal(web.data.port, port);
    assert.equal(web.actions.monitor.period, 30);
    assert.equal(web.actions.start.state, "scheduled");
    const site = await showJson("site:main");
    assert.deepEqual(site.data.pages, ["index", "about", "contact"]);
    assert.equal(site.data.adminPassword, "***");
  });

  it("simulate plans producers before consumers and writes nothing", async () => {
    const plan = (await ok(["simulate"])).stdout;
    const at = (job: string) => plan.indexOf(job);
    assert.ok(at("site!main install") >= 0 && at("webserver!main start") >= 0, plan);
    assert.ok(at("site!main install") < at("webserver!main install"), plan);
    assert.ok(at("httpconf!default install") < at("webserver!main install"), plan);
    assert.ok(at("webserver!main install") < at("webserver!main start"), plan);
    assert.equal((await showJson("webserver:main")).actions.install.state, "scheduled");
    assert.ok(await refused(`http://127.0.0.1:${port}/`), "nothing may run before ays run");
  });

  it("run installs and starts: files written, the server answers on its port", async () => {
    await ok(["run"]);
    const site = join(repo, "sites", "main");
    for (const page of ["index", "about", "contact"]) {
      assert.ok(await exists(join(site, "public", `${page}.html`)), page);
    }
    const admin = join(site, "conf", "admin.conf");
    assert.equal(await readFile(admin, "utf8"), `user=admin\npassword=${PASSWORD}\n`);
    assert.equal((await stat(admin)).mode & 0o777, 0o600);
    assert.ok(await exists(join(repo, "etc", "httpconf", "default.json")));

    const web = await showJson("webserver:main");
    assert.equal(web.state, "ok");
    assert.equal(web.actions.start.state, "ok");
    serverPid = web.data.pid;
    assert.ok(serverPid > 0 && await alive(serverPid), `pid ${serverPid}`);

    const page = await get(`http://127.0.0.1:${port}/about.html`);
    assert.equal(page.status, 200);
    assert.match(page.body, /<title>Hello from ays - about<\/title>/);
    assert.equal(page.servedBy, "ays"); // from the httpconf producer
    assert.equal((await get(`http://127.0.0.1:${port}/missing.html`)).status, 404);
  });

  it("the server outlives the ays process and monitor finds it answering", async () => {
    // Every ays command so far has exited; the server is still there.
    assert.ok(await alive(serverPid));
    await ok(["do", "monitor", "-r", "webserver"]);
    assert.equal((await showJson("webserver:main")).actions.monitor.state, "ok");
  });

  it("monitor notices a server killed behind ays' back; start --force brings it back", async () => {
    process.kill(serverPid, "SIGKILL");
    for (let i = 0; i < 100 && await alive(serverPid); i++) await sleep(50);
    // monitor is ok from the last test: --force schedules it again.
    const monitor = await ays(["do", "monitor", "-r", "webserver", "--force"]);
    assert.equal(monitor.code, 1, monitor.stdout + monitor.stderr);
    assert.equal((await showJson("webserver:main")).actions.monitor.state, "error");

    await ok(["do", "start", "-r", "webserver", "--force"]);
    const pid = (await showJson("webserver:main")).data.pid;
    assert.ok(pid > 0 && pid !== serverPid && await alive(pid), `pid ${pid}`);
    serverPid = pid;
    assert.equal((await get(`http://127.0.0.1:${port}/`)).status, 200);
    await ok(["do", "monitor", "-r", "webserver", "--force"]);
  });

  it("a changed blueprint moves the server: processChange restarts it on the new port", async () => {
    const newPort = await freePort();
    const blueprint = join(repo, "blueprints", "02_web.yaml");
    const text = await readFile(blueprint, "utf8");
    await writeFile(blueprint, text.replace(`  port: ${port}`, `  port: ${newPort}`));
    const applied = JSON.parse((await ok(["blueprint", "--json"])).stdout);
    assert.deepEqual(applied.scheduled, [{
      service: "webserver!main",
      action: "processChange",
      changes: ["port"],
    }]);
    await ok(["run"]);
    const web = await showJson("webserver:main");
    assert.equal(web.data.port, newPort);
    assert.ok(!(await alive(serverPid)), "the old server still runs");
    assert.ok(await refused(`http://127.0.0.1:${port}/`));
    port = newPort;
    serverPid = web.data.pid;
    assert.equal((await get(`http://127.0.0.1:${port}/`)).status, 200);
  });

  it("stop kills the recorded server: the port no longer answers", async () => {
    await ok(["do", "stop"]);
    assert.ok(!(await alive(serverPid)), `pid ${serverPid} still runs`);
    assert.ok(await refused(`http://127.0.0.1:${port}/`));
    const web = await showJson("webserver:main");
    assert.equal(web.data.pid, 0);
    assert.equal(web.actions.stop.state, "ok");
    assert.equal(web.actions.start.state, "new");
  });

  it("uninstall removes the files and leaves no process of the repository", async () => {
    await ok(["do", "uninstall"]);
    assert.ok(!(await exists(join(repo, "sites", "main"))));
    assert.ok(!(await exists(join(repo, "etc", "httpconf", "default.json"))));
    assert.ok(await refused(`http://127.0.0.1:${port}/`));
    assert.deepEqual(await processesMentioning(repo), []);
    const web = await showJson("webserver:main");
    assert.equal(web.actions.uninstall.state, "ok");
    assert.equal(web.actions.install.state, "new"); // a later install really installs
  });

  it("never printed the admin password", () => {
    const hits = printed.filter((text) => text.includes(PASSWORD));
    assert.deepEqual(hits, []);
  });
});

describe("examples/webstack/ays.d.ts", () => {
  it("is what ays types prints today", async () => {
    const types = await runAys(["types"]);
    assert.equal(types.code, 0, types.stderr);
    const file = await readFile(join(projectRoot, "examples", "webstack", "ays.d.ts"), "utf8");
    assert.equal(file, types.stdout, "regenerate: dist/ays types > examples/webstack/ays.d.ts");
  });
});

describe("scripts/demo.sh (the README's main command)", () => {
  it("runs the example end to end and leaves nothing running", async () => {
    const port = await freePort();
    const apiPort = await freePort();
    const result = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
      const child = spawn("bash", [join(projectRoot, "scripts", "demo.sh")], {
        env: {
          ...process.env,
          AYS_DEMO_SKIP_BUILD: "1",
          AYS_DEMO_PORT: String(port),
          AYS_DEMO_API_PORT: String(apiPort),
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout.on("data", (chunk) => (out += String(chunk)));
      child.stderr.on("data", (chunk) => (out += String(chunk)));
      child.once("error", reject);
      child.once("close", (code) => resolve({ code, out }));
    });
    assert.equal(result.code, 0, result.out);
    assert.match(result.out, new RegExp(`127\\.0\\.0\\.1:${port}/about\\.html answered 200`));
    assert.match(result.out, new RegExp(`127\\.0\\.0\\.1:${port}/ does not answer`));
    // The run took the scheduled monitor once (the daemon repeats it 30 s later); the daemon
    // answered its API with it and stopped on SIGTERM.
    assert.match(result.out, /ok webserver!main monitor/);
    assert.match(result.out, /\nmonitor: ok, every 30 s, last run \d{4}-/);
    assert.match(result.out, /daemon started/);
    assert.match(result.out, /daemon stopped/);
    assert.ok(await refused(`http://127.0.0.1:${apiPort}/health`));
    assert.match(result.out, /\ndemo: ok\n/);
    assert.ok(!result.out.includes(PASSWORD));
    assert.ok(await refused(`http://127.0.0.1:${port}/`));
  });
});

describe("examples/webstack on Deno (dist/ays.js)", () => {
  it("starts the server with deno, then stops and removes it", async () => {
    const temp = await makeTempDir("ays-example-deno-");
    let pid = 0;
    try {
      const repo = join(temp.path, "webstack");
      await cp(join(projectRoot, "examples", "webstack"), repo, { recursive: true });
      const port = await freePort();
      const blueprint = join(repo, "blueprints", "02_web.yaml");
      await writeFile(
        blueprint,
        (await readFile(blueprint, "utf8")).replace(/^ {2}port: 8080$/m, `  port: ${port}`),
      );
      const deno = join(projectRoot, "node_modules", ".bin", "deno");
      const ays = async (args: string[]) => {
        const result = await runAys(["run", "-A", join(projectRoot, "dist", "ays.js"), ...args], {
          binary: deno,
          cwd: repo,
          extraEnv: { XDG_CONFIG_HOME: join(temp.path, "config"), NO_COLOR: "1" },
        });
        assert.equal(result.code, 0, `ays ${args.join(" ")}\n${result.stdout}\n${result.stderr}`);
        return result;
      };
      await ays(["blueprint"]);
      await ays(["run"]);
      pid = JSON.parse((await ays(["show", "webserver:main", "--json"])).stdout).data.pid;
      const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8");
      assert.match(cmdline, /deno\0run\0-A\0.*server\.js/);
      assert.equal((await get(`http://127.0.0.1:${port}/contact.html`)).status, 200);
      await ays(["do", "uninstall"]);
      assert.ok(!(await alive(pid)));
      assert.ok(await refused(`http://127.0.0.1:${port}/`));
    } finally {
      if (pid > 0 && await alive(pid)) process.kill(-pid, "SIGKILL");
      await temp.remove();
    }
  });
});
