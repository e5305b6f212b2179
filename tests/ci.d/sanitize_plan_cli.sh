#!/usr/bin/env bash
# The planner and CLI suites (meson suites 'plan' and 'cli': `vramfit plan` and `vramfit
# estimate` in-process, the real binary's exit codes) under AddressSanitizer and
# UndefinedBehaviorSanitizer in one Clang build. Called by tests/run-all.sh with a log path as
# $1; appends one "Ok: N", "Fail: N", "Skipped: N" line each. Builds only those suites' test
# executables and the vramfit tool, host-only (-Dcuda=disabled).
set -uo pipefail
cd "$(dirname "$0")/../.."
log=${1:-/dev/stdout}
cxx=clang++-14
command -v $cxx >/dev/null || cxx=clang++
command -v $cxx >/dev/null || cxx=g++
targets="test_plan_plan test_plan_cli test_plan_validation test_cli vramfit"
dir=build-ci-san-plan-cli
ok=0 fail=0 skipped=0

run() {
    echo "--- address,undefined sanitizers ($cxx) in $dir"
    if [ ! -d "$dir" ]; then
        if ! CXX=$cxx meson setup "$dir" -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized \
                -Dwerror=true -Dtests=enabled -Dtools=enabled -Dcuda=disabled -Dexamples=disabled -Dbench=disabled \
                -Dfuzz=disabled >"$dir.setup.log" 2>&1; then
            tail -20 "$dir.setup.log"; echo "setup failed"; fail=$((fail + 1)); rm -rf "$dir"; return
        fi
    fi
    # shellcheck disable=SC2086
    if ! meson compile -C "$dir" $targets; then echo "build failed"; fail=$((fail + 1)); return; fi
    # halt_on_error: a UBSan report fails the test instead of scrolling by
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        meson test -C "$dir" --suite plan --suite cli --no-rebuild --print-errorlogs --num-processes 2 \
            --timeout-multiplier 4 | tee "$dir.test.log"
    n=$(grep -E '^(Ok|Expected Fail):' "$dir.test.log" | awk -F: '{s += $2} END {print s + 0}'); ok=$((ok + n))
    n=$(grep -E '^(Fail|Unexpected Pass|Timeout):' "$dir.test.log" | awk -F: '{s += $2} END {print s + 0}'); fail=$((fail + n))
    n=$(grep -E '^Skipped:' "$dir.test.log" | awk '{print $2}'); skipped=$((skipped + ${n:-0}))
    if ! grep -qE '^Ok:' "$dir.test.log"; then echo "no test summary"; fail=$((fail + 1)); fi
}
run

printf 'Ok: %d\nFail: %d\nSkipped: %d\n' "$ok" "$fail" "$skipped" >>"$log"
echo "sanitize_plan_cli: $ok ok, $fail failed, $skipped skipped"
[ "$fail" -eq 0 ]
