import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { runtimeName } from "../../src/runtime.ts";

const fixture = join(dirname(fileURLToPath(import.meta.url)), "serve_fixture.ts");

/** Starts the fixture daemon under the runtime running this test. */
function serve() {
  const args = runtimeName() === "deno" ? ["run", "-A", fixture] : [fixture];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  let buffered = "";
  const waiters: { text: string; resolve: () => void }[] = [];
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split("\n");
    buffered = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      for (const waiter of waiters.filter((w) => line.startsWith(w.text))) waiter.resolve();
    }
  });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const waitFor = (text: string) =>
    lines.some((line) => line.startsWith(text))
      ? Promise.resolve()
      : new Promise<void>((resolve) => waiters.push({ text, resolve }));
  return { child, lines, exited, waitFor, stderr: () => stderr };
}

describe("daemon process and signals", () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`${signal} during a job: the job completes, then the process exits 0`, async () => {
      const daemon = serve();
      await daemon.waitFor("ready ");
      await daemon.waitFor("job start");
      // Not child.kill(): Deno then reports the exit as "killed by the signal" whatever the
      // child did; a plain kill(2) gets the real exit code in both runtimes.
      process.kill(daemon.child.pid!, signal);
      const code = await daemon.exited;
      assert.equal(code, 0, daemon.stderr());
      // The never-run action starts at once, possibly before `ready` is printed.
      assert.deepEqual(daemon.lines.filter((line) => !line.startsWith("ready ")), [
        "job start",
        "signal",
        "job end",
        "stopped",
      ]);
    });
  }
});
