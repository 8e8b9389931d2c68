/**
 * The POSIX shell text ays sends to a target: quoting, and the wrappers around a command that
 * report its process group first (so a timeout can kill it there) and set its environment and
 * folder. The remote login shell is a session leader (sshd calls `setsid` for every session),
 * so its pid is the process group of everything the command starts.
 *
 * @module
 */

/** The first line a wrapped command writes to standard error: its process group id. */
export const PGID_MARKER = "\u001eays-pgid ";

/** `value` as one single-quoted shell word. */
export function shQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** A valid environment variable name. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Options of {@link wrapCommand}. */
export interface WrapOptions {
  /** Variables exported before the command. */
  env?: Record<string, string>;
  /** Folder to run in (remote; relative to the login folder). */
  cwd?: string;
}

/** `export` lines and `cd` of {@link WrapOptions}; throws on a bad variable name. */
function prelude(options: WrapOptions): string {
  const { env = {}, cwd } = options;
  const lines: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!ENV_NAME.test(name)) throw new TypeError(`bad environment variable name: ${name}`);
    lines.push(`export ${name}=${shQuote(String(value))}`);
  }
  if (cwd !== undefined) lines.push(`cd -- ${shQuote(cwd)} || exit 1`);
  return lines.join("\n");
}

/**
 * The script that runs `command` (with `sh -c`) after writing {@link PGID_MARKER} and its
 * process group to standard error.
 */
export function wrapCommand(command: string, options: WrapOptions = {}): string {
  return [
    `printf '${PGID_MARKER}%s\\n' "$$" >&2`,
    prelude(options),
    `exec sh -c ${shQuote(command)}`,
  ].filter(Boolean).join("\n");
}

/**
 * The script that starts `command` in a session of its own, detached from ssh (no standard
 * streams), and prints its pid; it outlives the job by design.
 */
export function wrapDetached(command: string, options: WrapOptions = {}): string {
  return [
    `printf '${PGID_MARKER}%s\\n' "$$" >&2`,
    prelude(options),
    `setsid sh -c ${shQuote(command)} </dev/null >/dev/null 2>&1 &`,
    `echo $!`,
  ].filter(Boolean).join("\n");
}

/** Kills process group `pgid`: SIGTERM, then SIGKILL after up to 2 s if it is still there. */
export function killGroupScript(pgid: number): string {
  if (!Number.isSafeInteger(pgid) || pgid <= 1) throw new RangeError(`bad process group ${pgid}`);
  return [
    `kill -TERM -- -${pgid} 2>/dev/null || exit 0`,
    `i=0; while [ $i -lt 20 ] && kill -0 -- -${pgid} 2>/dev/null; do sleep 0.1; i=$((i+1)); done`,
    `kill -KILL -- -${pgid} 2>/dev/null; exit 0`,
  ].join("\n");
}

/** Writes standard input to `path` (through a temporary file, then renamed), with `mode`. */
export function writeFileScript(path: string, mode?: number): string {
  const chmod = mode === undefined ? "" : ` && chmod ${mode.toString(8)} "$t"`;
  return `t=${shQuote(path)}.ays-tmp.$$; cat > "$t"${chmod} && mv -f -- "$t" ${shQuote(path)}` +
    ` || { rm -f -- "$t"; exit 1; }`;
}

/** Writes the file at `path` to standard output. */
export function readFileScript(path: string): string {
  return `exec cat -- ${shQuote(path)}`;
}
