/**
 * `--listen HOST:PORT` and the loopback rule (docs/daemon.md, "HTTP API"): off loopback the API needs a token.
 *
 * @module
 */
import { InputError } from "../errors.ts";

/** Where the HTTP API listens. */
export interface ListenAddress {
  /** A host name or an IP address, without brackets. */
  host: string;
  /** 0 picks a free port. */
  port: number;
}

/** The default (docs/daemon.md, "HTTP API"). */
export const DEFAULT_LISTEN: ListenAddress = { host: "127.0.0.1", port: 5000 };

/**
 * Parses `HOST:PORT`, `[IPV6]:PORT`, `:PORT` (loopback) or `PORT` (loopback); anything else is
 * an {@link InputError}.
 */
export function parseListen(text: string): ListenAddress {
  const bad = (why: string) => new InputError(`--listen '${text}': ${why}`);
  let host: string;
  let portText: string;
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  if (bracketed) {
    host = bracketed[1];
    portText = bracketed[2];
  } else if (/^\d+$/.test(text)) {
    host = DEFAULT_LISTEN.host;
    portText = text;
  } else {
    const colon = text.lastIndexOf(":");
    if (colon === -1) throw bad("expected HOST:PORT");
    host = text.slice(0, colon) || DEFAULT_LISTEN.host;
    portText = text.slice(colon + 1);
    if (host.includes(":")) throw bad("write an IPv6 address in brackets: [::1]:5000");
  }
  if (!/^\d+$/.test(portText)) throw bad(`port '${portText}' is not a number`);
  const port = Number(portText);
  if (port > 65535) throw bad(`port ${port} is out of range (0-65535)`);
  return { host, port };
}

/** `host:port`, with an IPv6 host in brackets. */
export function formatListen(address: ListenAddress): string {
  return address.host.includes(":")
    ? `[${address.host}]:${address.port}`
    : `${address.host}:${address.port}`;
}

/** Whether `host` is loopback: `localhost`, 127.0.0.0/8, `::1` (also IPv4-mapped). */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (h === "::1" || h === "0:0:0:0:0:0:0:1") return true;
  const v4 = h.startsWith("::ffff:") ? h.slice(7) : h;
  const parts = v4.split(".");
  if (parts.length !== 4 || parts[0] !== "127") return false;
  return parts.every((part) => /^\d{1,3}$/.test(part) && Number(part) <= 255);
}
