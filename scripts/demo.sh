#!/usr/bin/env bash
# The main job: installs what building needs, builds dist/ays and shows it working.
# (The example repository joins here once blueprints and runs exist.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$PATH"
bun build.ts
echo "+ dist/ays --version"
dist/ays --version
echo "+ dist/ays doctor"
dist/ays doctor
echo "+ dist/ays --help"
dist/ays --help
