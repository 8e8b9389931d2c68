// Actions of the `site` actor: make, refresh and remove a folder tree of static pages.
// They run in a Web Worker of ays, one job at a time per service; they may run more than once
// (delivery is at least once), so each one makes the world look as it should instead of
// assuming what was there before.
import type { Job } from "ays";
import { access, chmod, mkdir, rm, writeFile } from "node:fs/promises";
import { relative, resolve } from "node:path";

interface Site {
  title: string;
  root: string;
  pages: string[];
  adminUser: string;
  adminPassword: string;
  path: string;
}

/** The site's folder: `<repository>/<root>/<instance>`, refused when it would leave the repository. */
function siteFolder(job: Job<Site>): string {
  const folder = resolve(job.repo.path, job.service.data.root, job.service.name);
  const inside = relative(job.repo.path, folder);
  if (inside.startsWith("..") || inside === "") {
    throw new Error(`root '${job.service.data.root}' leads outside the repository`);
  }
  return folder;
}

const escapeHtml = (text: string) =>
  text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");

function page(title: string, name: string, pages: string[]): string {
  const nav = pages.map((p) => `<a href="/${p}.html">${p}</a>`).join(" | ");
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title)} - ${name}</title></head>
<body><h1>${escapeHtml(title)}</h1><p>This is the ${name} page.</p><nav>${nav}</nav></body></html>
`;
}

/** Creates `public/` (one page per item of `pages`), `conf/` and `logs/`. */
export async function install(job: Job<Site>) {
  const data = job.service.data;
  const folder = siteFolder(job);
  for (const sub of ["public", "conf", "logs"]) {
    await mkdir(resolve(folder, sub), { recursive: true });
  }
  const pages = data.pages.length > 0 ? data.pages : ["index"];
  for (const name of pages) {
    await writeFile(resolve(folder, "public", `${name}.html`), page(data.title, name, pages));
  }
  await writeFile(
    resolve(folder, "conf", "site.json"),
    JSON.stringify({ name: job.service.name, title: data.title, pages }, null, 2) + "\n",
  );
  // The secret goes into a file only its owner can read, and nowhere else: not into the log,
  // not into the result.
  const admin = resolve(folder, "conf", "admin.conf");
  await writeFile(admin, `user=${data.adminUser}\npassword=${data.adminPassword}\n`, {
    mode: 0o600,
  });
  await chmod(admin, 0o600);
  data.path = folder;
  job.log(`site ${job.service.name}: ${pages.length} page(s) in ${folder}`);
  return { path: folder, pages };
}

/** A changed title, page list or password: write the tree again (its files are ours). */
export async function processChange(job: Job<Site>) {
  job.log(`changed: ${Object.keys(job.args.changes ?? {}).join(", ")}`);
  // Before the first install there is nothing to redo: install will use the new values.
  if (!(await access(siteFolder(job)).then(() => true, () => false))) return;
  await rm(resolve(siteFolder(job), "public"), { recursive: true, force: true });
  return await install(job);
}

/** Removes the whole folder tree. */
export async function uninstall(job: Job<Site>) {
  const folder = siteFolder(job);
  await rm(folder, { recursive: true, force: true });
  job.service.data.path = "";
  job.log(`removed ${folder}`);
}
