// Actions of the `webserver` actor: serve the folder of the parent site over HTTP.
//
// `start` runs server.js (beside this file) as a long-running process with
// `job.exec(cmd, {detach: true})`, so the server outlives the job and the ays process, and
// records its pid in the service data; `stop` kills it by that pid, `monitor` checks that it
// answers. The server runs on the runtime ays itself runs on, so it needs nothing else.
import type { Job } from "ays";
import { access, readFile, rm, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { resolve } from "node:path";
import process from "node:process";

interface WebServer {
  host: string;
  port: number;
  pid: number;
  url: string;
}

const SERVER_SCRIPT = fileURLToPath(new URL("./server.js", import.meta.url));

/** The parent site's folder, as the site's own actions compute it. */
function siteFolder(job: Job<WebServer>): string {
  const site = job.service.parent;
  if (!site) throw new Error("a webserver needs its site (parent:site)");
  return resolve(job.repo.path, String(site.data.root), site.name);
}

function configFile(job: Job<WebServer>): string {
  return resolve(siteFolder(job), "conf", `webserver-${job.service.name}.json`);
}

function logFile(job: Job<WebServer>): string {
  return resolve(siteFolder(job), "logs", `webserver-${job.service.name}.log`);
}

const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

/**
 * The command that runs server.js on this runtime. In the compiled ays binary
 * `process.execPath` is ays itself, and BUN_BE_BUN=1 makes it behave as the Bun runtime;
 * under Deno it is deno.
 */
function serverCommand(
  config: string,
  log: string,
): { command: string; env: Record<string, string> } {
  const runtime = quote(process.execPath);
  const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
  const run = isDeno ? `${runtime} run -A` : runtime;
  // exec: the recorded pid is the server's own, not a shell's.
  return {
    command: `exec ${run} ${quote(SERVER_SCRIPT)} ${quote(config)} >>${quote(log)} 2>&1`,
    env: isDeno ? {} : { BUN_BE_BUN: "1" },
  };
}

/** Whether process `pid` exists and has not exited (a zombie has; its parent has not reaped it). */
async function isAlive(pid: number): Promise<boolean> {
  if (pid <= 0) return false;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    return !stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
}

/** Whether `pid` is a live server.js: a recycled pid running something else does not count. */
async function isOurServer(pid: number): Promise<boolean> {
  if (!(await isAlive(pid))) return false;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
  return cmdline.includes(SERVER_SCRIPT);
}

/** Answers `url` with a status, or null when nothing listens. */
async function probe(url: string, signal: AbortSignal): Promise<number | null> {
  try {
    const response = await fetch(url, {
      signal: AbortSignal.any([signal, AbortSignal.timeout(2000)]),
    });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return null;
  }
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Writes the server's configuration: the site's public folder plus the httpconf settings. */
export async function install(job: Job<WebServer>) {
  const data = job.service.data;
  const httpconf = job.service.producers.httpconf?.[0];
  if (!httpconf) throw new Error("a webserver consumes one httpconf");
  // The producer's install wrote this file; it runs before ours (producers first).
  const settings = JSON.parse(
    await readFile(resolve(job.repo.path, "etc", "httpconf", `${httpconf.name}.json`), "utf8"),
  );
  const config = {
    host: data.host,
    port: data.port,
    root: resolve(siteFolder(job), "public"),
    index: settings.index,
    headers: settings.headers,
  };
  await writeFile(configFile(job), JSON.stringify(config, null, 2) + "\n");
  data.url = `http://${data.host}:${data.port}/`;
  job.log(`configured ${data.url} for ${config.root}`);
  return { url: data.url };
}

/** Starts the server unless it already runs, and waits until it answers. */
export async function start(job: Job<WebServer>) {
  const data = job.service.data;
  if (await isOurServer(data.pid) && (await probe(data.url, job.signal)) !== null) {
    job.log(`already running (pid ${data.pid})`);
    return { pid: data.pid, url: data.url };
  }
  const { command, env } = serverCommand(configFile(job), logFile(job));
  const pid = await job.exec(command, { detach: true, env });
  data.pid = pid;
  for (let waited = 0; waited < 15_000; waited += 100) {
    // isAlive, not isOurServer: for an instant the new process may not have exec'd yet.
    if (!(await isAlive(pid))) {
      const log = await readFile(logFile(job), "utf8").catch(() => "");
      throw new Error(`the server exited at once:\n${log.split("\n").slice(-5).join("\n")}`);
    }
    if ((await probe(data.url, job.signal)) !== null) {
      job.log(`serving ${data.url} (pid ${pid})`);
      return { pid, url: data.url };
    }
    await sleep(100);
  }
  process.kill(-pid, "SIGKILL");
  throw new Error(`the server (pid ${pid}) did not answer on ${data.url} within 15 s`);
}

/** Stops the recorded server: SIGTERM to its process group, SIGKILL after 5 s. */
export async function stop(job: Job<WebServer>) {
  const data = job.service.data;
  const pid = data.pid;
  if (!(await isOurServer(pid))) {
    job.log(pid > 0 ? `pid ${pid} is not running any more` : "not running");
    data.pid = 0;
    return { stopped: false };
  }
  process.kill(-pid, "SIGTERM");
  for (let waited = 0; await isOurServer(pid); waited += 100) {
    if (waited === 5_000) process.kill(-pid, "SIGKILL");
    await sleep(100);
  }
  data.pid = 0;
  job.log(`stopped pid ${pid}`);
  return { stopped: true };
}

/** Fails unless the recorded server runs and answers its index page with 200. */
export async function monitor(job: Job<WebServer>) {
  const data = job.service.data;
  if (!(await isOurServer(data.pid))) throw new Error(`not running (pid ${data.pid})`);
  const began = Date.now();
  const status = await probe(data.url, job.signal);
  if (status !== 200) throw new Error(`${data.url} answered ${status ?? "nothing"}`);
  return { status, millis: Date.now() - began };
}

/** New host or port: write the configuration again and restart a running server. */
export async function processChange(job: Job<WebServer>) {
  // A change applied before the first install needs nothing here: install will use the new
  // values (processChange has no prerequisites, so it can run first).
  if (!(await access(configFile(job)).then(() => true, () => false))) {
    job.log("not installed yet: install will use the new values");
    return;
  }
  const running = await isOurServer(job.service.data.pid);
  if (running) await stop(job);
  await install(job);
  if (running) await start(job);
}

/** Removes what install wrote (stop runs first: it is uninstall's prerequisite). */
export async function uninstall(job: Job<WebServer>) {
  await rm(configFile(job), { force: true });
  await rm(logFile(job), { force: true });
  job.service.data.url = "";
}
