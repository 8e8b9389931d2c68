#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need, checks types,
# formatting, lint and the layering (scripts/check_layers.ts), builds dist/ays, runs the unit and
# integration tests under Bun and under Deno, then the end-to-end tests against the compiled binary
# (once: it is the same binary).
# Ends with one line "test: N passed, N failed". Usage: scripts/test.sh [--unit-only]
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test || exit 1
export PATH="$PWD/node_modules/.bin:$PATH"

step() { printf '\n== %s\n' "$*" >&2; }
fail=0
passed=0
failed=0
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

# Adds the counts a runner printed to the totals. Bun ends with " N pass" / " N fail";
# Deno with "ok | N passed … | N failed" (or "FAILED | …").
count() {
  local log=$1 p f
  p=$(grep -aE '^ *[0-9]+ pass$' "$log" | tail -1 | grep -oE '[0-9]+' || true)
  f=$(grep -aE '^ *[0-9]+ fail$' "$log" | tail -1 | grep -oE '[0-9]+' || true)
  if [ -z "$p" ]; then
    # Deno counts describe blocks as tests and their its as steps: "4 passed (11 steps)".
    p=$(grep -aoE '[0-9]+ passed( \([0-9]+ steps?\))?' "$log" | tail -1 | grep -oE '[0-9]+' | tail -1 || true)
    f=$(grep -aoE '[0-9]+ failed( \([0-9]+ steps?\))?' "$log" | tail -1 | grep -oE '[0-9]+' | tail -1 || true)
  fi
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
}

step "typecheck (tsc --noEmit)"
tsc --noEmit -p tsconfig.json || fail=1
step "deno fmt --check"
deno fmt --check || fail=1
step "deno lint"
deno lint || fail=1
step "layering (scripts/check_layers.ts)"
bun scripts/check_layers.ts || fail=1

mapfile -t unit < <(find test -name '*_test.ts' -not -path 'test/e2e/*' | sort)

step "unit + integration tests under Bun (${#unit[@]} files)"
bun test --timeout 120000 "${unit[@]/#/./}" 2>&1 | tee "$logs/bun.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail=1
count "$logs/bun.log"

step "unit + integration tests under Deno (${#unit[@]} files)"
NO_COLOR=1 deno test -A --quiet "${unit[@]}" 2>&1 | tee "$logs/deno.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail=1
count "$logs/deno.log"

if [ "${1:-}" != "--unit-only" ]; then
  step "build dist/ays"
  if bun build.ts; then
    step "end-to-end tests against dist/ays"
    bun test --timeout 300000 ./test/e2e/ 2>&1 | tee "$logs/e2e.log"
    [ "${PIPESTATUS[0]}" -eq 0 ] || fail=1
    count "$logs/e2e.log"
  else
    fail=1
  fi
fi

[ "$passed" -gt 0 ] || fail=1
[ "$failed" -eq 0 ] || fail=1
printf '\ntest: %d passed, %d failed\n' "$passed" "$failed"
exit "$fail"
