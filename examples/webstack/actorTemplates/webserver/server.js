// The web server that a `webserver` service runs: static files of one folder over HTTP.
// It needs nothing beyond the runtime ays itself runs on, and uses only `node:` built-ins
// that Bun and Deno both implement. The start action runs it as
//   BUN_BE_BUN=1 <the ays binary> server.js CONFIG.json     (the compiled binary, or bun)
//   deno run -A server.js CONFIG.json                        (ays running on Deno)
// CONFIG.json: {"host", "port", "root", "index", "headers": {name: value}}.
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { extname, join, normalize, sep } from "node:path";
import process from "node:process";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const types = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css",
  ".js": "text/javascript",
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
};

const server = createServer(async (request, response) => {
  const url = new URL(request.url ?? "/", "http://localhost");
  let path = decodeURIComponent(url.pathname);
  if (path.endsWith("/")) path += config.index;
  // normalize() resolves "..": a request never leaves the root.
  const file = join(config.root, normalize(path).replace(/^([/\\])+/, ""));
  const status = (code, body) => {
    response.writeHead(code, { "content-type": "text/plain; charset=utf-8", ...config.headers });
    response.end(request.method === "HEAD" ? undefined : body);
  };
  if (request.method !== "GET" && request.method !== "HEAD") return status(405, "GET only\n");
  if (!file.startsWith(config.root + sep) && file !== config.root) return status(403, "no\n");
  try {
    const body = await readFile(file);
    response.writeHead(200, {
      "content-type": types[extname(file)] ?? "application/octet-stream",
      ...config.headers,
    });
    response.end(request.method === "HEAD" ? undefined : body);
    console.log(`${request.method} ${url.pathname} 200`);
  } catch {
    status(404, "not found\n");
    console.log(`${request.method} ${url.pathname} 404`);
  }
});

server.on("error", (error) => {
  console.error(`cannot serve on ${config.host}:${config.port}: ${error.message}`);
  process.exit(1);
});
server.listen(config.port, config.host, () => {
  console.log(`serving ${config.root} on http://${config.host}:${config.port}/`);
});

// The stop action sends SIGTERM: close the listener and leave.
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    server.close();
    process.exit(0);
  });
}
