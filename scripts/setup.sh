#!/usr/bin/env bash
# Installs what building and testing ays needs, skipping what is already there:
# Debian packages (nodejs/npm to fetch the dev tools; for the tests redis-server, capnproto,
# openssh-server and openssh-client for the SSH test hosts, chromium for the dashboard tests, make,
# iproute2 for the test hosts' network namespaces) and the npm dependencies, Bun and Deno
# included. `--bench` adds the peers `bench/peers.ts` compares ays with: make, GNU parallel,
# Snakemake and Ansible (and redis-server). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ "${1:-}" = "--test" ]; then
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  command -v capnp >/dev/null 2>&1 || missing+=(capnproto)
  [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
  command -v ssh >/dev/null 2>&1 || missing+=(openssh-client)
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v make >/dev/null 2>&1 || missing+=(make)
  command -v ip >/dev/null 2>&1 || missing+=(iproute2)
fi
if [ "${1:-}" = "--bench" ]; then
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  command -v make >/dev/null 2>&1 || missing+=(make)
  command -v parallel >/dev/null 2>&1 || missing+=(parallel)
  command -v snakemake >/dev/null 2>&1 || missing+=(snakemake)
  command -v ansible-playbook >/dev/null 2>&1 || missing+=(ansible)
fi
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]} from Debian" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# npm ci only when node_modules is missing or older than the lockfile.
if [ ! -x node_modules/.bin/bun ] || [ ! -x node_modules/.bin/deno ] ||
  [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
