#!/usr/bin/env bash
# The suites whose bugs only a sanitizer shows, in Clang builds of their own:
#  * the checkpoint pool (host and fault-injecting backends, concurrent savers, the schedule
#    executor) under AddressSanitizer and, separately, ThreadSanitizer;
#  * the planner and the CLI (`vramfit plan` / `estimate` in-process, the real binary's exit
#    codes) under AddressSanitizer and UndefinedBehaviorSanitizer together.
# Host-only (-Dcuda=disabled: the CUDA runtime is not instrumented and its tests need a device).
# Called by tests/run-all.sh with a log path as $1; appends one "Ok: N", "Fail: N", "Skipped: N"
# line each (totals over every build).
set -uo pipefail
cd "$(dirname "$0")/../.."
log=${1:-/dev/stdout}
cxx=clang++-14
command -v $cxx >/dev/null || cxx=clang++
command -v $cxx >/dev/null || cxx=g++
ok=0 fail=0 skipped=0

# sanitized DIR SANITIZERS "SETUP OPTIONS" "TARGETS" "SUITES"
sanitized() {
    local dir=$1 sanitizers=$2 options=$3 targets=$4 suites=$5 suite_args="" n s
    for s in $suites; do suite_args="$suite_args --suite $s"; done
    echo "--- $sanitizers sanitizer(s) ($cxx) in $dir"
    if [ ! -d "$dir" ]; then
        # shellcheck disable=SC2086
        if ! CXX=$cxx meson setup "$dir" -Db_sanitize="$sanitizers" -Db_lundef=false -Dbuildtype=debugoptimized \
                -Dwerror=true -Dcuda=disabled -Dexamples=disabled -Dbench=disabled -Dfuzz=disabled $options \
                >"$dir.setup.log" 2>&1; then
            tail -20 "$dir.setup.log"; echo "setup failed in $dir"; fail=$((fail + 1)); rm -rf "$dir"; return
        fi
    fi
    # shellcheck disable=SC2086
    if ! meson compile -C "$dir" $targets; then echo "build failed in $dir"; fail=$((fail + 1)); return; fi
    # abort/halt on the first report: a sanitizer finding fails the test instead of scrolling by
    # shellcheck disable=SC2086
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        meson test -C "$dir" $suite_args --no-rebuild --print-errorlogs --num-processes 2 --timeout-multiplier 4 \
            | tee "$dir.test.log"
    # meson counts should_fail tests that failed as "Expected Fail": they passed.
    n=$(grep -E '^(Ok|Expected Fail):' "$dir.test.log" | awk -F: '{s += $2} END {print s + 0}'); ok=$((ok + n))
    n=$(grep -E '^(Fail|Unexpected Pass|Timeout):' "$dir.test.log" | awk -F: '{s += $2} END {print s + 0}'); fail=$((fail + n))
    n=$(grep -E '^Skipped:' "$dir.test.log" | awk -F: '{s += $2} END {print s + 0}'); skipped=$((skipped + n))
    if ! grep -qE '^Ok:' "$dir.test.log"; then echo "no test summary in $dir"; fail=$((fail + 1)); fi
}

runtime_targets="test_runtime_pool_host test_runtime_pool_faults test_runtime_pool_threads test_runtime_executor_pool test_runtime_devices test_runtime_pool_cuda"
for sanitizer in address thread; do
    sanitized build-ci-san-$sanitizer $sanitizer "-Dtools=disabled" "$runtime_targets" runtime
done
sanitized build-ci-san-plan-cli address,undefined "-Dtests=enabled -Dtools=enabled" \
    "test_plan_plan test_plan_cli test_plan_validation test_cli vramfit" "plan cli"

printf 'Ok: %d\nFail: %d\nSkipped: %d\n' "$ok" "$fail" "$skipped" >>"$log"
echo "sanitizers: $ok ok, $fail failed, $skipped skipped"
[ "$fail" -eq 0 ]
