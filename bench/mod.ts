/**
 * Runs every benchmark in `bench/` one after another (`npm run bench`), or the ones named:
 * `bun bench/mod.ts startup codec`.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const skip = new Set(["mod.ts", "stats.ts", "binary_runs.ts"]);
const available = readdirSync(here).filter((f) =>
  f.endsWith(".ts") && !skip.has(f) && !f.endsWith("_test.ts")
)
  .map((f) => f.slice(0, -3)).sort();
const wanted = process.argv.slice(2);
const chosen = wanted.length ? wanted : available;
let failed = 0;
for (const name of chosen) {
  const file = join(here, `${name}.ts`);
  if (!existsSync(file)) {
    console.error(`no benchmark ${name}; available: ${available.join(", ")}`);
    failed++;
    continue;
  }
  console.log(`\n### ${name}`);
  const result = spawnSync(process.execPath, [file], { stdio: "inherit" });
  if (result.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
