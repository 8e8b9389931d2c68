#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need, checks types,
# formatting and lint, builds dist/ays, runs the unit and integration tests under Bun and under
# Deno, then the end-to-end tests against the compiled binary (once: it is the same binary).
# Ends with one line "test: N passed, N failed"; exits non-zero when any step failed.
#
# The steps run in three lanes at once, so that both cores stay busy while tests wait on
# processes, sockets and timers: (1) the Deno run (--no-check: tsc checks every file); (2) tsc,
# fmt, lint, the layering check (scripts/check_layers.ts), then the Bun run; (3) the build, then the end-to-end tests. Each step
# writes its own log, printed whole when all lanes are done, with its time and exit status.
#
# Usage: scripts/test.sh [--unit-only] [PATH…]
#   --unit-only  skip the build and the end-to-end tests
#   PATH…        run only the test files below these paths (the checks and the build still run)
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test || exit 1
export PATH="$PWD/node_modules/.bin:$PATH"

unit_only=0
paths=()
for arg in "$@"; do
  case "$arg" in
  --unit-only) unit_only=1 ;;
  -*)
    echo "test.sh: unknown option $arg" >&2
    exit 2
    ;;
  *) paths+=("${arg%/}") ;;
  esac
done

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

# The test files below the given paths (all of test/ by default), sorted.
select_tests() {
  local file path
  while IFS= read -r file; do
    if [ ${#paths[@]} -eq 0 ]; then
      echo "$file"
      continue
    fi
    for path in "${paths[@]}"; do
      case "$file" in "$path" | "$path"/*) echo "$file" && break ;; esac
    done
  done < <(find test -name '*_test.ts' | sort)
}
mapfile -t unit < <(select_tests | grep -v '^test/e2e/')
mapfile -t e2e < <(select_tests | grep '^test/e2e/')

# run_step NAME COMMAND…: the command's output goes to NAME.log, its status to NAME.rc and its
# duration to NAME.secs; returns the status.
run_step() {
  local name=$1 start=$SECONDS status
  shift
  "$@" >"$logs/$name.log" 2>&1
  status=$?
  echo "$status" >"$logs/$name.rc"
  echo $((SECONDS - start)) >"$logs/$name.secs"
  return "$status"
}

started=$SECONDS
# The Deno run is the longest, so it starts at once, and the checks share a lane with Bun's.
if [ ${#unit[@]} -gt 0 ]; then
  (run_step deno env NO_COLOR=1 deno test -A --quiet --no-check --parallel "${unit[@]}") &
fi
(
  run_step typecheck tsc --noEmit -p tsconfig.json
  run_step fmt deno fmt --check
  run_step lint deno lint
  run_step layers bun scripts/check_layers.ts
  if [ ${#unit[@]} -gt 0 ]; then
    run_step bun bun test --parallel --timeout 120000 "${unit[@]/#/./}"
  fi
) &
if [ "$unit_only" -eq 0 ]; then
  (
    if run_step build bun build.ts && [ ${#e2e[@]} -gt 0 ]; then
      run_step e2e bun test --timeout 300000 "${e2e[@]/#/./}"
    fi
  ) &
fi
wait

# The steps in the order they are reported; a step expected but without a status failed to run.
# A test step without files (PATH… selected none) is left out.
steps=(typecheck fmt lint layers)
[ ${#unit[@]} -gt 0 ] && steps+=(bun deno)
if [ "$unit_only" -eq 0 ]; then
  steps+=(build)
  [ ${#e2e[@]} -gt 0 ] && steps+=(e2e)
fi
declare -A titles=(
  [typecheck]="typecheck (tsc --noEmit)"
  [fmt]="deno fmt --check"
  [lint]="deno lint"
  [layers]="layering (scripts/check_layers.ts)"
  [bun]="unit + integration tests under Bun (${#unit[@]} files)"
  [deno]="unit + integration tests under Deno (${#unit[@]} files)"
  [build]="build dist/ays"
  [e2e]="end-to-end tests against dist/ays (${#e2e[@]} files)"
)

fail=0
passed=0
failed=0
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

summary=()
for name in "${steps[@]}"; do
  rc=$(cat "$logs/$name.rc" 2>/dev/null || echo "not run")
  secs=$(cat "$logs/$name.secs" 2>/dev/null || echo "?")
  printf '\n== %s (%ss, exit %s)\n' "${titles[$name]}" "$secs" "$rc" >&2
  [ -f "$logs/$name.log" ] && cat "$logs/$name.log"
  [ "$rc" = 0 ] || fail=1
  case "$name" in bun | deno | e2e) [ -f "$logs/$name.log" ] && count "$logs/$name.log" ;; esac
  summary+=("$name ${secs}s")
done

# The failed tests again, last, so that a reader who sees only the end of the output (a CI page
# often keeps only its tail) still learns which test failed and why. Bun prints a test's error
# above its "(fail)" line; Deno gathers them under " ERRORS " at the end of its run.
digest() {
  local name=$1 log=$2
  case "$name" in
  bun | e2e) grep -aE -B 30 '^\(fail\) ' "$log" | tail -n 160 ;;
  deno) sed -n '/^ ERRORS *$/,/^error: Test failed/p' "$log" | head -n 160 ;;
  esac
}
for name in bun deno e2e; do
  [ -f "$logs/$name.log" ] || continue
  [ "$(cat "$logs/$name.rc" 2>/dev/null)" = 0 ] && continue
  out=$(digest "$name" "$logs/$name.log")
  [ -n "$out" ] && printf '\n== failed in %s (also above, in its whole log)\n%s\n' "${titles[$name]}" "$out" >&2
done

[ "$passed" -gt 0 ] || fail=1
[ "$failed" -eq 0 ] || fail=1
printf '\nsteps: %s; wall %ss\n' "$(IFS=,; echo "${summary[*]}" | sed 's/,/, /g')" "$((SECONDS - started))" >&2
printf '\ntest: %d passed, %d failed\n' "$passed" "$failed"
exit "$fail"
