#!/usr/bin/env bash
# The checkpoint pool suite (host and fault-injecting backends, concurrent savers, the
# schedule executor) under AddressSanitizer and ThreadSanitizer. Called by tests/run-all.sh
# with a log path as $1; appends one "Ok: N", "Fail: N", "Skipped: N" line each (totals over
# both builds). Builds only the runtime's test targets, host-only (-Dcuda=disabled: the CUDA
# runtime is not instrumented and its tests need a device anyway).
set -uo pipefail
cd "$(dirname "$0")/../.."
log=${1:-/dev/stdout}
cxx=clang++-14
command -v $cxx >/dev/null || cxx=clang++
command -v $cxx >/dev/null || cxx=g++
targets="test_runtime_pool_host test_runtime_pool_faults test_runtime_pool_threads test_runtime_executor_pool test_runtime_devices test_runtime_pool_cuda"
ok=0 fail=0 skipped=0

for sanitizer in address thread; do
    dir=build-ci-san-$sanitizer
    echo "--- $sanitizer sanitizer ($cxx) in $dir"
    if [ ! -d "$dir" ]; then
        if ! CXX=$cxx meson setup "$dir" -Db_sanitize=$sanitizer -Db_lundef=false -Dbuildtype=debugoptimized \
                -Dwerror=true -Dcuda=disabled -Dtools=disabled -Dexamples=disabled -Dbench=disabled -Dfuzz=disabled >"$dir.setup.log" 2>&1; then
            tail -20 "$dir.setup.log"; echo "setup failed for $sanitizer"; fail=$((fail + 1)); rm -rf "$dir"; continue
        fi
    fi
    # shellcheck disable=SC2086
    if ! meson compile -C "$dir" $targets; then echo "build failed for $sanitizer"; fail=$((fail + 1)); continue; fi
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
        meson test -C "$dir" --suite runtime --no-rebuild --print-errorlogs --num-processes 2 | tee "$dir.test.log"
    n=$(grep -E '^Ok:' "$dir.test.log" | awk '{print $2}'); ok=$((ok + ${n:-0}))
    n=$(grep -E '^Fail:' "$dir.test.log" | awk '{print $2}'); fail=$((fail + ${n:-0}))
    n=$(grep -E '^Timeout:' "$dir.test.log" | awk '{print $2}'); fail=$((fail + ${n:-0}))
    n=$(grep -E '^Skipped:' "$dir.test.log" | awk '{print $2}'); skipped=$((skipped + ${n:-0}))
    if ! grep -qE '^Ok:' "$dir.test.log"; then echo "no test summary for $sanitizer"; fail=$((fail + 1)); fi
done

printf 'Ok: %d\nFail: %d\nSkipped: %d\n' "$ok" "$fail" "$skipped" >>"$log"
echo "sanitizers: $ok ok, $fail failed, $skipped skipped"
[ "$fail" -eq 0 ]
