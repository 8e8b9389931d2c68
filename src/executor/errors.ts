/**
 * How an SSH connection failed, told from what the OpenSSH client wrote: a host that cannot be
 * reached (retried, then "host unreachable"), a host key that changed or is unknown under
 * `strict` checking, or an authentication refused — each distinct from a command's failure.
 *
 * @module
 */

/** Why a connection to a host failed. */
export type ConnectFailure = "unreachable" | "host-key-changed" | "host-key-unknown" | "auth";

/** A connection to a target failed; `reason` says how. */
export class SshConnectError extends Error {
  readonly reason: ConnectFailure;
  constructor(reason: ConnectFailure, message: string) {
    super(message);
    this.name = "SshConnectError";
    this.reason = reason;
  }
}

/** The kind of failure `stderr` of a failed `ssh` (exit 255) tells. */
export function classifyFailure(stderr: string): ConnectFailure {
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed/.test(stderr)) {
    return "host-key-changed";
  }
  if (/No .* host key is known for|Host key verification failed/.test(stderr)) {
    return "host-key-unknown";
  }
  if (/Permission denied \(|Too many authentication failures/.test(stderr)) return "auth";
  return "unreachable";
}

/** The last meaningful lines of ssh's output (no banner, no "Warning: Permanently added"). */
export function sshReason(stderr: string): string {
  const lines = stderr.split("\n").map((l) => l.trim()).filter((l) =>
    l !== "" && !/^Warning: Permanently added/.test(l) && !/^@+$/.test(l) && !/^debug\d/.test(l)
  );
  return lines.slice(-2).join("; ") || "ssh failed without a message";
}

/** Options of {@link connectError}. */
export interface ConnectErrorOptions {
  /** `user@host:port`, as shown. */
  target: string;
  /** What ssh wrote. */
  stderr: string;
  /** Tries made (default 1). */
  attempts?: number;
  /** The known_hosts file checked. */
  knownHosts?: string;
}

/** The error for a connection that failed with `reason` (after `attempts` tries when retried). */
export function connectError(
  reason: ConnectFailure,
  options: ConnectErrorOptions,
): SshConnectError {
  const { target, stderr, attempts = 1, knownHosts = ".ays/known_hosts" } = options;
  const why = sshReason(stderr);
  switch (reason) {
    case "host-key-changed":
      return new SshConnectError(
        reason,
        `host key changed: ${target} presents a different host key than the one in ` +
          `${knownHosts}; refusing to connect (remove its line there if the change is expected)`,
      );
    case "host-key-unknown":
      return new SshConnectError(
        reason,
        `host key unknown: ${target} is not in ${knownHosts} and host key checking is strict`,
      );
    case "auth":
      return new SshConnectError(reason, `authentication failed on ${target}: ${why}`);
    case "unreachable":
      return new SshConnectError(
        reason,
        `host unreachable: ${target} (${attempts} attempt${attempts === 1 ? "" : "s"}): ${why}`,
      );
  }
}
