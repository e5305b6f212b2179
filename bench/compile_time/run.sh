#!/bin/sh
# bench/compile_time/run.sh — what 100 static_assert'ed vramfit::fits<...> checks cost the
# compiler. Generates asserts.cpp (100 checks over catalog models x quants x GPUs x contexts)
# and baseline.cpp (same includes, no check), then times compiling each with g++ and
# clang++-14 under the project's flags (meson.build: C++20, warnings as errors, constexpr_args).
# Not part of `meson test` (no timing in tests); BENCHMARKS.md records the figures.
#
#   sh bench/compile_time/run.sh [N]        (from the repository root; N defaults to 100)
#   CXX_LIST="g++" sh bench/compile_time/run.sh   to time one compiler only
set -eu
n=${1:-100}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/vramfit-compile-time.XXXXXX")
trap 'rm -rf "$work"' EXIT

g++ -std=c++20 -O1 -I"$root/include" "$root/bench/compile_time/generate.cpp" -o "$work/generate"
"$work/generate" "$work" "$n"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
echo "git: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
for cxx in ${CXX_LIST:-g++ clang++-14}; do
    if ! command -v "$cxx" >/dev/null 2>&1; then echo "$cxx: not installed, skipped"; continue; fi
    case $("$cxx" --version | head -1) in
        *clang*) limits="-fconstexpr-steps=100000000" ;;
        *) limits="-fconstexpr-ops-limit=1000000000 -fconstexpr-loop-limit=100000000" ;;
    esac
    flags="-std=c++20 -O2 -Wall -Wextra -Wpedantic -Werror $limits -I$root/include"
    echo "$cxx: $("$cxx" --version | head -1)"
    for tu in baseline asserts; do
        # shellcheck disable=SC2086
        /usr/bin/time -f "%e %M" -o "$work/$tu.time" "$cxx" $flags -c "$work/$tu.cpp" -o "$work/$tu.o"
        read -r seconds kib < "$work/$tu.time"
        echo "  $tu.cpp: ${seconds} s wall, $((kib / 1024)) MiB peak"
        eval "${tu}_s=$seconds"
    done
    awk -v b="$baseline_s" -v a="$asserts_s" -v n="$n" \
        'BEGIN { printf "  per static_assert'"'"'ed fits<>: %.3f s ((asserts - baseline) / %d)\n", (a - b) / n, n }'
done
