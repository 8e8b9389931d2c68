// Actions of the `httpconf` actor: the settings file that web servers consuming it read.
import type { Job } from "ays";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";

interface HttpConf {
  index: string;
  headers: string[];
  cacheSeconds: number;
  file: string;
}

function settingsFile(job: Job<HttpConf>): string {
  return resolve(job.repo.path, "etc", "httpconf", `${job.service.name}.json`);
}

/** Parses `Name: value` lines; a malformed one fails the job with a clear message. */
function parseHeaders(lines: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const at = line.indexOf(":");
    if (at <= 0) throw new Error(`header '${line}' is not 'Name: value'`);
    headers[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return headers;
}

/** Writes `etc/httpconf/<instance>.json`. */
export async function install(job: Job<HttpConf>) {
  const data = job.service.data;
  const file = settingsFile(job);
  const headers = parseHeaders(data.headers);
  headers["Cache-Control"] ??= `max-age=${data.cacheSeconds}`;
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify({ index: data.index, headers }, null, 2) + "\n");
  data.file = file;
  job.log(`wrote ${file}`);
  return { file };
}

/** New headers or index: write the file again; servers pick it up on their next start. */
export async function processChange(job: Job<HttpConf>) {
  return await install(job);
}

export async function uninstall(job: Job<HttpConf>) {
  await rm(settingsFile(job), { force: true });
  job.service.data.file = "";
}
