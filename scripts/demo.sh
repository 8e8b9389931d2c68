#!/usr/bin/env bash
# The main job: installs what building needs, builds dist/ays, then runs the example repository
# examples/webstack end to end on the embedded store, in a temporary copy:
#   blueprint → list → simulate → run (install + start) → show → the server answers → monitor
#   → stop → uninstall.
# Environment: AYS_DEMO_PORT (default 8080) the web server's port; AYS_DEMO_SKIP_BUILD=1 use the
# dist/ays already built; AYS_DEMO_KEEP=1 keep the temporary copy.
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
cleanup() {
  # A failure half-way must not leave the server running.
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

# Asks the server for its about page with the runtime inside the ays binary (no curl needed).
fetch() {
  BUN_BE_BUN=1 "$ays" -e '
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
step do monitor -r webserver
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
