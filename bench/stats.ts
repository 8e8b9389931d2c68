/**
 * Small helpers shared by the benchmarks: timing statistics, a printed table, JSON results.
 *
 * @module
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Median, minimum and maximum of a series. */
export interface Stats {
  median: number;
  min: number;
  max: number;
  runs: number;
}

/** Statistics of a non-empty series of numbers. */
export function stats(values: number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], runs: sorted.length };
}

/** One printed row: a label, its statistics and the unit. */
export interface Row {
  name: string;
  stats: Stats;
  unit: string;
}

/** Prints rows as an aligned table on stdout. */
export function printTable(title: string, rows: Row[]): void {
  const fmt = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(2));
  const width = Math.max(4, ...rows.map((r) => r.name.length));
  console.log(`\n${title}`);
  console.log(
    `${"name".padEnd(width)}  ${"median".padStart(10)}  ${"min".padStart(10)}  ${
      "max".padStart(10)
    }  unit`,
  );
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(width)}  ${fmt(r.stats.median).padStart(10)}  ${
        fmt(r.stats.min).padStart(10)
      }  ${fmt(r.stats.max).padStart(10)}  ${r.unit}`,
    );
  }
}

/** The folder benchmark results are written to. */
export const resultsDir: string = join(dirname(fileURLToPath(import.meta.url)), "results");

/** Writes `bench/results/<name>.json` with the machine and time of the measurement. */
export async function writeResults(name: string, data: unknown): Promise<string> {
  const path = join(resultsDir, `${name}.json`);
  await mkdir(dirname(path), { recursive: true });
  const { cpus, totalmem } = await import("node:os");
  const record = {
    measuredAt: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
    },
    ...(data as Record<string, unknown>),
  };
  await writeFile(path, JSON.stringify(record, null, 2) + "\n");
  return path;
}
