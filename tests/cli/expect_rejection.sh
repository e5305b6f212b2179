#!/usr/bin/env bash
# usage: expect_rejection.sh [--usage] VRAMFIT ARGS...
# Passes when `VRAMFIT ARGS...` rejects its input the way the CLI promises: exit status 2 (not
# 1, not a signal), nothing on stdout, and exactly one line on stderr. With --usage the one line
# may be followed by the usage text (an unknown or missing command), which must then start with
# "usage: vramfit".
set -u
usage=0
if [ "${1-}" = "--usage" ]; then usage=1; shift; fi
if [ $# -lt 1 ]; then echo "usage: $0 [--usage] VRAMFIT ARGS..." >&2; exit 64; fi
binary=$1; shift
out=$(mktemp) && err=$(mktemp) || exit 1
trap 'rm -f "$out" "$err"' EXIT
"$binary" "$@" >"$out" 2>"$err"
status=$?
echo "\$ vramfit $* -> exit $status"
cat "$err"
fail() { echo "FAIL: $1"; exit 1; }
[ "$status" -eq 2 ] || fail "expected exit status 2, got $status"
[ -s "$out" ] && fail "expected nothing on stdout, got $(wc -c <"$out") bytes"
lines=$(wc -l <"$err")
if [ "$usage" -eq 1 ]; then
    grep -q '^usage: vramfit' "$err" || fail "expected the usage text on stderr"
    first=$(head -n 1 "$err")
    case "$first" in
        "usage: vramfit"*) ;;  # no command: the usage alone
        "vramfit: "*) [ "$(sed -n 2p "$err")" = "" ] && [ "$(sed -n 3p "$err" | cut -c1-14)" = "usage: vramfit" ] ||
                          fail "expected one line, a blank line, then the usage" ;;
        *) fail "expected 'vramfit: ...' or the usage first, got '$first'" ;;
    esac
    exit 0
fi
[ "$lines" -eq 1 ] || fail "expected exactly one line on stderr, got $lines"
[ -n "$(tail -c 1 "$err")" ] && fail "expected the line to end with a newline"
case "$(cat "$err")" in
    "vramfit "*) ;;
    *) fail "expected the line to start with 'vramfit '" ;;
esac
exit 0
