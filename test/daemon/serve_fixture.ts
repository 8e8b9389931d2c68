/**
 * A daemon process for the signal tests: the fake backend, one never-run recurring action that
 * takes 800 ms, SIGTERM/SIGINT → `stop()` → exit 0, as `ays daemon` will do. It prints one
 * line per event on stdout: `ready URL`, `job start`, `signal`, `job end`, `stopped`.
 *
 * @module
 */
import { startDaemon } from "../../src/daemon/daemon.ts";
import { delay, FakeBackend, makeService } from "./fake_backend.ts";

const backend = new FakeBackend({
  alpha: [makeService("node", "web1", { monitor: { period: 3600 } })],
});
const say = (line: string) => process.stdout.write(line + "\n");
const daemon = await startDaemon([{ name: "alpha", queue: backend.queues.get("alpha")! }], {
  backend,
  loadServices: () =>
    Promise.resolve(backend.services_.get("alpha")!.map((service) => ({ repo: "alpha", service }))),
  runRecurring: async () => {
    say("job start");
    await delay(800);
    say("job end");
  },
  executeRun: () => Promise.resolve(),
  listen: { host: "127.0.0.1", port: 0 },
  popTimeoutMs: 100,
});
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    say("signal");
    void daemon.stop().then(() => {
      say("stopped");
      process.exit(0);
    });
  });
}
say(`ready ${daemon.url}`);
