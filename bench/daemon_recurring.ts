/**
 * Lateness of recurring actions (docs/daemon.md: a due action starts within about 0.1 s): how long
 * after its due time each start happened, for 50 services with period 1 s over 10 s, and for
 * the first starts of never-run actions (due when the scheduler loads them).
 *
 * Usage: `bun bench/daemon_recurring.ts [--seconds N]` or `deno run -A bench/daemon_recurring.ts`.
 * Writes `bench/results/daemon_recurring.<runtime>.json`.
 *
 * @module
 */
import type { RecurringStartInfo, RecurringTarget } from "../src/daemon/backend.ts";
import { startRecurring } from "../src/daemon/recurring.ts";
import { newActionRecord } from "../src/model/schedule.ts";
import type { ServiceRecord } from "../src/model/types.ts";
import { runtimeName } from "../src/runtime.ts";
import { printTable, stats, writeResults } from "./stats.ts";

const secondsArg = process.argv.indexOf("--seconds");
const seconds = secondsArg > 0 ? Number(process.argv[secondsArg + 1]) : 10;
const count = 50;

function service(name: string): ServiceRecord {
  return {
    key: name,
    name,
    actor: "node.bench",
    role: "node",
    parent: null,
    producers: {},
    consumers: [],
    data: {},
    changed: false,
    actions: { monitor: newActionRecord(1) },
    eventFilters: [],
  };
}

const services = Array.from({ length: count }, (_, i) => service(`s${i}`));
const first: number[] = [];
const later: number[] = [];
const seen = new Set<string>();
const scheduler = await startRecurring({
  load: () =>
    Promise.resolve(services.map((s): RecurringTarget => ({ repo: "bench", service: s }))),
  run: async (target: RecurringTarget, action: string, info: RecurringStartInfo) => {
    target.service.actions[action].lastRun = info.startedAt;
    const late = Date.now() - info.dueAt;
    (seen.has(target.service.name) ? later : first).push(late);
    seen.add(target.service.name);
    await new Promise((resolve) => setTimeout(resolve, 5));
  },
  reloadMs: 2000,
});
await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
await scheduler.stop();

const runtime = runtimeName();
const firstStats = stats(first);
const laterStats = stats(later);
const sorted = [...later].sort((a, b) => a - b);
const p99 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))];
const over100 = later.filter((ms) => ms > 100).length;
printTable(`recurring lateness (${runtime}, ${count} services, period 1 s, ${seconds} s)`, [
  { name: "first start of never-run actions", stats: firstStats, unit: "ms" },
  { name: "periodic starts", stats: laterStats, unit: "ms" },
]);
console.log(`periodic p99: ${p99.toFixed(2)} ms; starts later than 100 ms: ${over100}`);
const path = await writeResults(`daemon_recurring.${runtime}`, {
  runtime,
  services: count,
  periodSeconds: 1,
  seconds,
  firstStartMs: firstStats,
  periodicStartMs: { ...laterStats, p99 },
  startsOver100ms: over100,
  goal: { lateMs: 100 },
});
console.log(`wrote ${path}`);
