/**
 * A fan-out / fan-in repository for run tests, `ays run` end-to-end tests and the store run
 * bench: `base!main` → 10 `mid` children → 2 `leaf` children each → one `sink` consuming every
 * leaf. Every action appends `start <ms> <run>` and `end <ms> <run>` lines to
 * `trace/<role>!<instance>.<action>`, so tests can check order, overlap and how often each
 * action ran.
 *
 * @module
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { applyBlueprints } from "../../src/blueprint/mod.ts";
import { listBlueprints, readBlueprintFiles } from "../../src/blueprint/mod.ts";
import { loadRepoActors } from "../../src/repo/mod.ts";
import type { RunSession } from "../../src/run/mod.ts";
import { openRepositoryStore } from "../../src/store/open.ts";
import { makeTempRepo, type TempDir } from "../helpers/mod.ts";

/** Options of {@link fanRepoFiles}. */
export interface FanOptions {
  /** `mid` services (default 10). */
  mids?: number;
  /** `leaf` services per `mid` (default 2). */
  leaves?: number;
  /** Milliseconds each action works (default 100). */
  sleepMs?: number;
  /** The `mid` instance whose `install` throws (default none). */
  breakMid?: string;
  /** Extra files. */
  extra?: Record<string, string>;
}

/** The actions file of every fixture actor. */
export function fanActions(sleepMs: number, breakMid?: string): string {
  return `
import { appendFileSync, mkdirSync } from "node:fs";

function trace(job, what) {
  const dir = job.repo.path + "/trace";
  mkdirSync(dir, { recursive: true });
  appendFileSync(dir + "/" + job.service.role + "!" + job.service.name + "." + job.action,
    what + " " + Date.now() + " " + job.runId + "\\n");
}

async function work(job) {
  trace(job, "start");
  job.log("working on " + job.service.name);
  // Gives up when the run is cancelled (Ctrl-C), as a well-behaved action does.
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, ${sleepMs});
    job.signal.addEventListener("abort", () => { clearTimeout(timer); resolve(); });
  });
  if (job.signal.aborted) {
    trace(job, "cancelled");
    throw new Error("cancelled");
  }
  if (${JSON.stringify(breakMid ?? null)} === job.service.name && job.action === "install") {
    trace(job, "fail");
    throw new Error("broken " + job.service.name);
  }
  trace(job, "end");
  return { done: job.service.name };
}

export const init = work;
export const install = work;
`;
}

/** The files of the fan-out / fan-in repository. */
export function fanRepoFiles(options: FanOptions = {}): Record<string, string> {
  const mids = options.mids ?? 10;
  const leaves = options.leaves ?? 2;
  const actions = fanActions(options.sleepMs ?? 100, options.breakMid);
  const files: Record<string, string> = {
    "actorTemplates/base/schema.hrd": "note = type:str\n",
    "actorTemplates/mid/schema.hrd": "base = parent:base\n",
    "actorTemplates/leaf/schema.hrd": "mid = parent:mid\n",
    "actorTemplates/sink/schema.hrd": `leaf = consume:leaf:${mids * leaves}:${mids * leaves}\n`,
    ...options.extra,
  };
  for (const role of ["base", "mid", "leaf", "sink"]) {
    files[`actorTemplates/${role}/actions.js`] = actions;
  }
  const lines = ["base__main:", "  note: hello", ""];
  for (let m = 0; m < mids; m++) {
    lines.push(`mid__m${m}:`, "  base: main", "");
    for (let l = 0; l < leaves; l++) lines.push(`leaf__m${m}l${l}:`, `  mid: m${m}`, "");
  }
  lines.push("sink__all:", "");
  files["blueprints/1_fan.yaml"] = lines.join("\n");
  return files;
}

/** How many services {@link fanRepoFiles} makes. */
export function fanServiceCount(options: FanOptions = {}): number {
  const mids = options.mids ?? 10;
  return 2 + mids + mids * (options.leaves ?? 2);
}

/**
 * Creates actors and services from the templates and blueprints through the library (what
 * `ays blueprint` does), optionally scheduling `install` on every service, and saves them.
 */
export async function seedRepo(
  repoPath: string,
  options: { repoName: string; store?: string; env?: Record<string, string>; schedule?: string },
): Promise<void> {
  const { actors } = await loadRepoActors(repoPath, { globalDirs: [] });
  const docs = await readBlueprintFiles(await listBlueprints(repoPath));
  const change = applyBlueprints(docs, { repoName: options.repoName, actors, services: [] });
  const services = change.created.map((service) => {
    const action = options.schedule;
    if (!action || !service.actions[action]) return service;
    return {
      ...service,
      actions: {
        ...service.actions,
        [action]: { ...service.actions[action], state: "scheduled" as const },
      },
    };
  });
  const opened = await openRepositoryStore({
    repoPath,
    repoName: options.repoName,
    storeFlag: options.store,
    env: options.env ?? {},
    mirror: true,
  });
  try {
    await opened.store.save({ actors: [...actors.values()], services });
  } finally {
    await opened.driver.close();
  }
}

/** A temporary fan repository, seeded with `install` scheduled everywhere. */
export async function makeFanRepo(
  options: FanOptions & { name?: string; store?: string; env?: Record<string, string> } = {},
): Promise<TempDir> {
  const name = options.name ?? "fan";
  const repo = await makeTempRepo({ name, files: fanRepoFiles(options) });
  await seedRepo(repo.path, {
    repoName: name,
    store: options.store,
    env: options.env,
    schedule: "install",
  });
  return repo;
}

/** One line of a trace file. */
export interface TraceLine {
  what: "start" | "end" | "fail" | "cancelled";
  at: number;
  run: string;
}

/** Every trace file: `role!instance.action` → its lines. */
export async function readTraces(repoPath: string): Promise<Map<string, TraceLine[]>> {
  const dir = join(repoPath, "trace");
  const out = new Map<string, TraceLine[]>();
  let names: string[] = [];
  try {
    names = await readdir(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const text = await readFile(join(dir, name), "utf8");
    out.set(
      name,
      text.trim().split("\n").filter(Boolean).map((line) => {
        const [what, at, run] = line.split(" ");
        return { what: what as TraceLine["what"], at: Number(at), run };
      }),
    );
  }
  return out;
}

/** Counts of `start` lines per trace file. */
export function startCounts(traces: Map<string, TraceLine[]>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, lines] of traces) {
    out.set(name, lines.filter((l) => l.what === "start").length);
  }
  return out;
}

/** A repository with a run session open on its store; `close` closes it and removes the folder. */
export interface OpenedRepo {
  repo: TempDir;
  session: RunSession;
  close(): Promise<void>;
}

/** Opens a run session on the store of the temporary repository `repo` (named `name`). */
export async function openRunSession(
  repo: TempDir,
  options: { name: string; store?: string },
): Promise<OpenedRepo> {
  const { name, store } = options;
  const opened = await openRepositoryStore({
    repoPath: repo.path,
    repoName: name,
    storeFlag: store,
    env: {},
    mirror: true,
  });
  const session: RunSession = {
    store: opened.store,
    driver: opened.driver,
    repo: { name, path: repo.path },
  };
  return {
    repo,
    session,
    close: async () => {
      await opened.driver.close();
      await repo.remove();
    },
  };
}

/** A temporary repository of `files`, seeded with `install` scheduled, and a run session on it. */
export async function openSeededRepo(
  name: string,
  files: Record<string, string>,
): Promise<OpenedRepo> {
  const repo = await makeTempRepo({ name, files });
  await seedRepo(repo.path, { repoName: name, schedule: "install" });
  return await openRunSession(repo, { name });
}
