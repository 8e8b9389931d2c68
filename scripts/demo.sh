#!/usr/bin/env bash
# The main job: installs what building needs, builds dist/ays, then runs the example repository
# examples/webstack end to end on the embedded store, in a temporary copy:
#   blueprint → list → simulate → run (install + start) → show → the server answers → the daemon
#   runs the recurring monitor and answers its HTTP API → stop → uninstall.
# Environment: AYS_DEMO_PORT (default 8080) the web server's port; AYS_DEMO_API_PORT the daemon's
# (default: a free one); AYS_DEMO_SKIP_BUILD=1 use the dist/ays already built; AYS_DEMO_KEEP=1
# keep the temporary copy.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
if [ "${AYS_DEMO_SKIP_BUILD:-}" != 1 ]; then
  bash scripts/setup.sh
  export PATH="$root/node_modules/.bin:$PATH"
  bun build.ts
fi
ays="$root/dist/ays"
port=${AYS_DEMO_PORT:-8080}

# The copy lives in a temporary folder; a private XDG_CONFIG_HOME keeps it out of the user's
# list of repositories (ays repos).
work=$(mktemp -d "${TMPDIR:-/tmp}/ays-demo.XXXXXX")
export XDG_CONFIG_HOME="$work/config"
daemon_pid=""
cleanup() {
  # A failure half-way must not leave the daemon or the server running.
  if [ -n "$daemon_pid" ]; then kill -TERM "$daemon_pid" 2>/dev/null || true; fi
  if [ -d "$work/webstack/.ays" ]; then
    (cd "$work/webstack" && "$ays" do stop --quiet >/dev/null 2>&1) || true
  fi
  if [ "${AYS_DEMO_KEEP:-}" = 1 ]; then echo "kept $work/webstack" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
cp -r examples/webstack "$work/"
cd "$work/webstack"
sed -i "s/^  port: 8080\$/  port: $port/" blueprints/02_web.yaml

step() {
  printf '\n+ ays %s\n' "$*"
  "$ays" "$@"
}

# Runs JavaScript on the runtime inside the ays binary: no curl, no node needed.
js() {
  BUN_BE_BUN=1 "$ays" -e "$@"
}

# Asks the server for a page.
fetch() {
  js '
    const url = process.argv[1];
    try {
      const r = await fetch(url);
      const title = (await r.text()).match(/<title>(.*)<\/title>/)?.[1];
      console.log(`${url} answered ${r.status}: ${title} (X-Served-By: ${r.headers.get("x-served-by")})`);
    } catch (e) {
      console.log(`${url} does not answer (${e.code ?? e.message})`);
      process.exitCode = 1;
    }' "$1"
}

step --version
step doctor
step blueprint
step list
step simulate
step run
step show webserver:main
printf '\n+ the server answers\n'
fetch "http://127.0.0.1:$port/about.html"

# The daemon runs recurring actions — the blueprint gave webserver's monitor a period of 30 s and,
# as in v8.1, scheduled it, so `ays run` ran it once; the daemon repeats it every 30 s from that
# run (docs/daemon.md) — and serves the HTTP API. SIGTERM stops it cleanly.
api_port=${AYS_DEMO_API_PORT:-$(js 'const s = require("node:net").createServer();
  s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });')}
printf '\n+ ays daemon --listen 127.0.0.1:%s &\n' "$api_port"
"$ays" daemon --listen "127.0.0.1:$api_port" >"$work/daemon.log" 2>&1 &
daemon_pid=$!
printf '+ until the API shows the monitor done: GET /repos/webstack/services/webserver/main\n'
js '
  const url = `http://127.0.0.1:${process.argv[1]}/repos/webstack/services/webserver/main`;
  for (let i = 0; i < 200; i++) {
    const service = await fetch(url).then((r) => r.ok ? r.json() : null, () => null);
    const monitor = service?.actions.monitor;
    if (monitor?.lastRun && (monitor.state === "ok" || monitor.state === "error")) {
      console.log(`monitor: ${monitor.state}, every ${monitor.period} s, last run ${monitor.lastRun}`);
      process.exit(monitor.state === "ok" ? 0 : 1);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  console.log("the daemon did not run the monitor within 10 s");
  process.exit(1);' "$api_port"
kill -TERM "$daemon_pid"
wait "$daemon_pid"
daemon_pid=""
printf '+ the daemon\x27s log\n'
cat "$work/daemon.log"
printf '\n+ the secret is in the config file, never printed\n'
ls -l sites/main/conf/admin.conf
step do stop
step do uninstall
step state -r webserver
printf '\n+ after stop and uninstall\n'
if fetch "http://127.0.0.1:$port/"; then echo "the server still answers" >&2; exit 1; fi
if [ -e sites/main ]; then echo "sites/main is still there" >&2; exit 1; fi
echo "sites/main removed"
printf '\ndemo: ok\n'
