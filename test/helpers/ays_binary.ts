/**
 * Runs the compiled `dist/ays` as a user would, for end-to-end tests.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The checkout's root folder. */
export const projectRoot: string = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Path of the compiled binary; `npm run build` makes it. */
export const aysBinary: string = join(projectRoot, "dist", "ays");

/** How ays is started: the compiled binary, or the sources under Bun or under Deno. */
export type AysLaunch = "binary" | "bun" | "deno";

/** The command line that starts ays the given way, without ays' own arguments. */
export function aysCommand(launch: AysLaunch = "binary"): [string, ...string[]] {
  const main = join(projectRoot, "src", "main.ts");
  const bin = (name: string) => join(projectRoot, "node_modules", ".bin", name);
  switch (launch) {
    case "binary":
      if (!existsSync(aysBinary)) throw new Error(`${aysBinary} is missing: run \`bun build.ts\``);
      return [aysBinary];
    case "bun":
      return [bin("bun"), main];
    case "deno":
      return [bin("deno"), "run", "-A", "--quiet", main];
  }
}

/** What one invocation printed and how it ended. */
export interface AysResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Options of {@link runAys}. */
export interface RunAysOptions {
  cwd?: string;
  /** The full environment (default: this process's, plus `extraEnv`). */
  env?: Record<string, string>;
  /** Added to the environment. */
  extraEnv?: Record<string, string>;
  /** Written to standard input, which is then closed. */
  stdin?: string | Uint8Array;
  /** Kill the process after this many milliseconds (default 120 000). */
  timeoutMs?: number;
  /** The executable (default {@link aysBinary}). */
  binary?: string;
}

/** Runs `ays args…` and collects its output. Throws when the binary has not been built. */
export function runAys(args: string[], options: RunAysOptions = {}): Promise<AysResult> {
  const binary = options.binary ?? aysBinary;
  if (!existsSync(binary)) throw new Error(`${binary} is missing: run \`npm run build\` first`);
  const env = options.env ?? { ...process.env as Record<string, string>, ...options.extraEnv };
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { cwd: options.cwd, env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += String(chunk)));
    child.stderr.on("data", (chunk) => (stderr += String(chunk)));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
    child.once("error", reject);
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(options.stdin ?? "");
  });
}
