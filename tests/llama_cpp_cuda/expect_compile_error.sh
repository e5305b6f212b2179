#!/bin/sh
# Runs a compiler on a source that must fail and checks the error text.
# usage: expect_compile_error.sh SOURCE PATTERN1 PATTERN2 -- COMPILER [ARGS...]
# Each PATTERN is an extended regex that must occur in the compiler's output.
src=$1; pattern1=$2; pattern2=$3
shift 4
if out=$("$@" -fsyntax-only "$src" 2>&1); then
    echo "FAIL: $src compiled, but it must not"
    exit 1
fi
for pattern in "$pattern1" "$pattern2"; do
    if ! printf '%s\n' "$out" | grep -E -q "$pattern"; then
        printf '%s\n' "$out" | head -40
        echo "FAIL: the error text lacks /$pattern/"
        exit 1
    fi
done
printf '%s\n' "$out" | grep -E "$pattern1|$pattern2" | head -4
echo "OK: the compiler refused $src with the expected message"
