/**
 * The job API's operations on an SSH target (docs/executors.md): run a command (its output
 * streamed, its exit code returned; a detached one left running), put bytes or a local file
 * into a remote file, get a remote file's bytes or copy it to a local file. Each goes through
 * the target's one master connection ({@link SshConnections}). When the job ends early (a
 * timeout, a kill, a cancellation) the remote command's process group is killed on the target
 * before the run's connections close.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { createReadStream, createWriteStream } from "node:fs";
import { SshConnectError } from "./errors.ts";
import {
  killGroupScript,
  PGID_MARKER,
  readFileScript,
  wrapCommand,
  wrapDetached,
  writeFileScript,
} from "./shell.ts";
import { type SshConnections, type SshTarget } from "./ssh_connections.ts";

/** A command to run on a target. */
export interface RemoteExec {
  op: "exec";
  target: SshTarget;
  command: string;
  env?: Record<string, string>;
  /** Folder on the target (default: the login folder). */
  cwd?: string;
  input?: string;
  detach?: boolean;
  quiet?: boolean;
}

/** Bytes, or a local file, into a file on the target. */
export interface RemotePut {
  op: "put";
  target: SshTarget;
  remotePath: string;
  /** A file on the machine ays runs on (absolute). */
  localPath?: string;
  bytes?: Uint8Array;
  /** Permission bits of the remote file (e.g. 0o755). */
  mode?: number;
}

/** A file of the target: its bytes, or copied to a local file. */
export interface RemoteGet {
  op: "get";
  target: SshTarget;
  remotePath: string;
  /** Write it here (absolute) instead of returning the bytes. */
  localPath?: string;
}

/** One operation of the job API on a target. */
export type RemoteRequest = RemoteExec | RemotePut | RemoteGet;

/** What a finished remote command printed, and its exit code. */
export interface RemoteExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The answer to a {@link RemoteRequest}. */
export type RemoteReply =
  | { op: "exec"; result: RemoteExecResult }
  | { op: "detach"; pid: number }
  | { op: "put" }
  | { op: "get"; bytes: Uint8Array | null };

/** How a request runs: the job's end, and where its log goes. */
export interface RemoteContext {
  /** Aborts when the job ends early: the remote command is killed. */
  signal?: AbortSignal;
  /** Output for the job log (not called for `quiet` commands). */
  onOutput?: (text: string) => void;
}

/** Output kept per stream of an exec result (the job log gets everything). */
const OUTPUT_CAP = 1024 * 1024;

/** Bound on waiting for a remote command to report its process group once aborted. */
const MARKER_WAIT_MS = 5_000;

interface SessionIo {
  stdin?: string | Uint8Array | { path: string };
  onStdout: (chunk: Uint8Array) => void;
  onStderr: (text: string) => void;
}

interface SessionEnd {
  code: number;
  /** Whether the wrapper on the target reported its group: the command really started. */
  started: boolean;
  /** What ssh itself wrote when the command did not start. */
  sshError: string;
}

/** Runs {@link RemoteRequest}s over a run's {@link SshConnections}. */
export class RemoteRunner {
  readonly #connections: SshConnections;

  constructor(connections: SshConnections) {
    this.#connections = connections;
  }

  /** Carries out `request`; rejects with the reason (connection, or the operation's failure). */
  async run(request: RemoteRequest, context: RemoteContext = {}): Promise<RemoteReply> {
    switch (request.op) {
      case "exec":
        return await this.#exec(request, context);
      case "put":
        return await this.#put(request, context);
      case "get":
        return await this.#get(request, context);
      default:
        throw new TypeError(`unknown remote operation ${(request as { op: unknown }).op}`);
    }
  }

  async #exec(request: RemoteExec, context: RemoteContext): Promise<RemoteReply> {
    const options = { env: request.env, cwd: request.cwd };
    if (request.detach) {
      let out = "";
      const end = await this.#session(request.target, wrapDetached(request.command, options), {
        onStdout: (chunk) => (out += new TextDecoder().decode(chunk)),
        onStderr: () => {},
      }, context.signal);
      const pid = Number(out.trim());
      if (end.code !== 0 || !(pid > 0)) {
        throw new Error(`could not start the detached command (exit ${end.code}): ${out}`);
      }
      return { op: "detach", pid };
    }
    const out = new Capped();
    const err = new Capped();
    const decoder = new TextDecoder();
    const log = request.quiet ? undefined : context.onOutput;
    const end = await this.#session(request.target, wrapCommand(request.command, options), {
      stdin: request.input,
      onStdout: (chunk) => {
        const text = decoder.decode(chunk, { stream: true });
        out.add(text);
        if (text) log?.(text);
      },
      onStderr: (text) => {
        err.add(text);
        log?.(text);
      },
    }, context.signal);
    return { op: "exec", result: { code: end.code, stdout: out.text(), stderr: err.text() } };
  }

  async #put(request: RemotePut, context: RemoteContext): Promise<RemoteReply> {
    const stdin = request.localPath !== undefined
      ? { path: request.localPath }
      : request.bytes ?? new Uint8Array();
    let stderr = "";
    const end = await this.#session(
      request.target,
      wrapCommand(writeFileScript(request.remotePath, request.mode)),
      { stdin, onStdout: () => {}, onStderr: (text) => (stderr += text) },
      context.signal,
    );
    if (end.code !== 0) {
      throw new Error(`writing ${request.remotePath} failed (exit ${end.code}): ${stderr.trim()}`);
    }
    return { op: "put" };
  }

  async #get(request: RemoteGet, context: RemoteContext): Promise<RemoteReply> {
    const chunks: Uint8Array[] = [];
    const file = request.localPath !== undefined ? createWriteStream(request.localPath) : null;
    let stderr = "";
    const end = await this.#session(
      request.target,
      wrapCommand(readFileScript(request.remotePath)),
      {
        onStdout: (chunk) => (file ? file.write(chunk) : chunks.push(chunk)),
        onStderr: (text) => (stderr += text),
      },
      context.signal,
    );
    if (file) {
      await new Promise<void>((resolve, reject) =>
        file.end((e?: Error) => e ? reject(e) : resolve())
      );
    }
    if (end.code !== 0) {
      throw new Error(`reading ${request.remotePath} failed (exit ${end.code}): ${stderr.trim()}`);
    }
    return { op: "get", bytes: file ? null : concat(chunks) };
  }

  /**
   * Runs `script` on the target through its master. A session that could not reach the master
   * (the command never started) is tried once more on a new master.
   */
  async #session(
    target: SshTarget,
    script: string,
    io: SessionIo,
    signal?: AbortSignal,
  ): Promise<SessionEnd> {
    for (let attempt = 1;; attempt++) {
      const lease = await this.#connections.acquire(target, signal);
      let end: SessionEnd;
      try {
        end = await this.#once(lease.args, script, io, signal);
      } finally {
        lease.release();
      }
      if (signal?.aborted) throw signal.reason ?? new Error("cancelled");
      if (end.started || end.code !== 255) return end;
      lease.invalidate();
      if (attempt >= 2) {
        throw new SshConnectError(
          "unreachable",
          `host unreachable: ${target.host} (the connection was lost): ${end.sshError.trim()}`,
        );
      }
    }
  }

  /** One `ssh` session; on abort the remote group is killed, then the local client. */
  #once(
    args: string[],
    script: string,
    io: SessionIo,
    signal?: AbortSignal,
  ): Promise<SessionEnd> {
    if (signal?.aborted) return Promise.reject(signal.reason ?? new Error("cancelled"));
    const child = spawn(this.#connections.ssh, [...args, script], {
      stdio: [io.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let pgid = 0;
    let head = "";
    let started = false;
    let markerSeen: () => void = () => {};
    const marker = new Promise<void>((resolve) => (markerSeen = resolve));
    const decoder = new TextDecoder();
    child.stdout!.on("data", (chunk: Uint8Array) => io.onStdout(chunk));
    child.stderr!.on("data", (chunk: Uint8Array) => {
      const text = decoder.decode(chunk, { stream: true });
      if (started) return io.onStderr(text);
      head += text;
      const newline = head.indexOf("\n");
      if (newline === -1) return;
      const first = head.slice(0, newline);
      if (first.startsWith(PGID_MARKER)) {
        started = true;
        pgid = Number(first.slice(PGID_MARKER.length));
        markerSeen();
        const rest = head.slice(newline + 1);
        head = "";
        if (rest) io.onStderr(rest);
      }
    });
    if (io.stdin !== undefined) {
      child.stdin!.on("error", () => {});
      const input = io.stdin;
      if (typeof input === "object" && "path" in input) {
        const source = createReadStream(input.path);
        source.once("error", (error) => {
          io.onStderr(`cannot read ${input.path}: ${error.message}\n`);
          child.kill("SIGTERM");
        });
        source.pipe(child.stdin!);
      } else {
        child.stdin!.end(input);
      }
    }
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const onAbort = () => {
      const kill = async () => {
        await Promise.race([marker, exited, delay(MARKER_WAIT_MS)]);
        if (pgid > 1 && child.exitCode === null) {
          const killer = spawn(this.#connections.ssh, [...args, killGroupScript(pgid)], {
            stdio: "ignore",
          });
          await Promise.race([
            new Promise((resolve) => killer.once("exit", resolve).once("error", resolve)),
            delay(10_000),
          ]);
        }
        child.kill("SIGKILL");
      };
      void this.#connections.track(kill());
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    return new Promise((resolve, reject) => {
      child.once("error", (error) => {
        signal?.removeEventListener("abort", onAbort);
        reject(error);
      });
      child.once("close", (code) => {
        signal?.removeEventListener("abort", onAbort);
        markerSeen();
        resolve({ code: code ?? 255, started, sshError: started ? "" : head });
      });
    });
  }
}

/** A text kept up to {@link OUTPUT_CAP} characters, the tail. */
class Capped {
  #parts: string[] = [];
  #length = 0;
  add(text: string): void {
    this.#parts.push(text);
    this.#length += text.length;
    if (this.#length > 2 * OUTPUT_CAP) {
      const kept = this.#parts.join("").slice(-OUTPUT_CAP);
      this.#parts = [kept];
      this.#length = kept.length;
    }
  }
  text(): string {
    const all = this.#parts.join("");
    return all.length > OUTPUT_CAP ? all.slice(-OUTPUT_CAP) : all;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    (timer as { unref?: () => void }).unref?.();
  });
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
