#!/usr/bin/env bash
# Builds with GCC and Clang (warnings are errors), runs every test in both builds, runs each
# libFuzzer target for a bounded time, and ends with one line: "N passed, N failed[, N skipped]".
set -uo pipefail
cd "$(dirname "$0")/.."
fuzz_seconds=${VRAMFIT_FUZZ_SECONDS:-60}
passed=0 failed=0 skipped=0

count() {  # add a meson test log's summary to the totals
    local log=$1
    local ok fail skip
    # meson counts should_fail tests that failed as "Expected Fail": they passed.
    ok=$(grep -E '^(Ok|Expected Fail):' "$log" | awk -F: '{s += $2} END {print s + 0}')
    fail=$(grep -E '^(Fail|Unexpected Pass|Timeout):' "$log" | awk -F: '{s += $2} END {print s + 0}')
    skip=$(grep -E '^Skipped:' "$log" | awk '{print $2}')
    passed=$((passed + ${ok:-0})); failed=$((failed + ${fail:-0})); skipped=$((skipped + ${skip:-0}))
}

for compiler in gcc clang; do
    dir=build-ci-$compiler
    if [ $compiler = gcc ]; then cxx=g++; else cxx=clang++-14; command -v $cxx >/dev/null || cxx=clang++; fi
    echo "=== $compiler ($cxx)"
    if [ ! -d $dir ]; then
        # warnings are errors in CI (werror is not the project's default: consumers must not inherit it)
        if ! CXX=$cxx meson setup $dir -Dwerror=true -Dwarning_level=3 >$dir.setup.log 2>&1; then
            cat $dir.setup.log; echo "setup failed for $compiler"; failed=$((failed + 1)); continue
        fi
    fi
    if ! meson compile -C $dir; then echo "build failed for $compiler"; failed=$((failed + 1)); continue; fi
    meson test -C $dir --print-errorlogs --num-processes 2 | tee $dir.test.log
    count $dir.test.log
done

# Extra suites (sanitizer builds, …): each tests/ci.d/*.sh prints its own meson summary
# lines ("Ok: N", "Fail: N", "Skipped: N") to the log it is handed as $1.
for script in tests/ci.d/*.sh; do
    [ -f "$script" ] || continue
    echo "=== $script"
    log=$(mktemp)
    bash "$script" "$log" || true
    count "$log"
done

# Fuzz every target for a bounded time, starting from its seed corpus.
for target in build-ci-clang/fuzz/fuzz_*; do
    [ -f "$target" ] && [ -x "$target" ] || continue
    name=$(basename "$target"); corpus=fuzz/corpus/${name#fuzz_}
    [ -d "$corpus" ] || corpus=fuzz/corpus/gguf  # every target reads GGUF bytes
    work=$(mktemp -d)
    [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
    echo "=== $name for ${fuzz_seconds}s"
    if "$target" -max_total_time="$fuzz_seconds" -max_len=65536 -rss_limit_mb=2048 "$work" >"$work.log" 2>&1; then
        tail -3 "$work.log"; passed=$((passed + 1))
    else
        tail -40 "$work.log"; echo "fuzzer $name found a crash"; failed=$((failed + 1))
    fi
done

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
