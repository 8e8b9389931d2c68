/**
 * The `file:` URL of a path without `node:url`, for the job worker: importing `node:url` alone
 * cost each of a run's workers more than the rest of its start (docs/benchmarks.md, "First
 * jobs").
 *
 * @module
 */

/** What {@link fileUrlOf} encodes before the URL's path setter sees the path. */
const URL_ESCAPES: Readonly<Record<string, string>> = {
  "%": "%25",
  "\\": "%5C",
  "\n": "%0A",
  "\r": "%0D",
  "\t": "%09",
  "[": "%5B",
  "]": "%5D",
  "^": "%5E",
  "|": "%7C",
  "~": "%7E",
};

/**
 * The `file:` URL of an absolute, normalized path (the host sends the actions file's so), as
 * `pathToFileURL(path).href` of `node:url` makes it. On a POSIX path the characters the URL
 * parser would drop or read otherwise (`%`, `\`, newline, carriage return, tab) and those
 * `node:url` encodes beyond the path setter (`[ ] ^ | ~`) are encoded first, and the URL's path
 * setter encodes the rest; any other path (a relative or a Windows one) goes through `node:url`,
 * loaded then.
 */
export function fileUrlOf(path: string): string {
  if (!path.startsWith("/")) {
    return process.getBuiltinModule("node:url").pathToFileURL(path).href;
  }
  const url = new URL("file://");
  url.pathname = path.replace(/[%\\\n\r\t[\]^|~]/g, (c) => URL_ESCAPES[c]);
  return url.href;
}
