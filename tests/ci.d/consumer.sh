#!/usr/bin/env bash
# vramfit as its users get it: tests/consumer/main.cpp built (a) by a Meson project that pulls
# vramfit in as a subproject (dependency('vramfit')) and (b) with plain `c++ $(pkg-config
# --cflags vramfit)` against a `meson install` of the header-only core. Checks that a subproject
# configures and builds none of vramfit's tests, tools, examples, benches or fuzzers, looks for
# no doctest, and hands the consumer no -Werror; and that both ways carry the constexpr limits
# (main.cpp static_asserts on a described catalog model). Called by tests/run-all.sh with a log
# path as $1; appends "Ok: N", "Fail: N", "Skipped: N".
set -uo pipefail
cd "$(dirname "$0")/../.."
src=$PWD
log=${1:-/dev/stdout}
cxx=${CXX:-c++}
ok=0 fail=0 skipped=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

check() {  # check NAME COMMAND...: run a check, count it
    local name=$1; shift
    if "$@" >"$work/check.log" 2>&1; then
        echo "ok   $name"; ok=$((ok + 1))
    else
        echo "FAIL $name"; tail -30 "$work/check.log"; fail=$((fail + 1))
    fi
}

# A copy of the checkout as it is (tracked and untracked files, not ignored build dirs).
copy_source() {
    mkdir -p "$1"
    if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        (cd "$src" && git ls-files -z --cached --others --exclude-standard |
            while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
            xargs -0 cp --parents -t "$1")
    else
        (cd "$src" && tar -cf - --exclude='./build*' --exclude=./.git .) | tar -xf - -C "$1"
    fi
}

# ---- (a) a Meson superproject -----------------------------------------------------------------
super=$work/super
mkdir -p "$super/subprojects"
cp tests/consumer/meson.build tests/consumer/main.cpp "$super"/
copy_source "$super/subprojects/vramfit"
echo "--- vramfit as a Meson subproject"
check "superproject configures" env CXX="$cxx" meson setup --wrap-mode=forcefallback "$super/build" "$super"
if [ -f "$super/build/build.ninja" ]; then
    no_vramfit_targets() {  # the subproject declares no targets at all (the core is header-only)
        meson introspect --targets "$super/build" | python3 -c '
import json, sys
own = [t["name"] for t in json.load(sys.stdin) if t.get("subproject") == "vramfit"]
print("targets from the vramfit subproject:", own or "none")
sys.exit(1 if own else 0)'
    }
    check "no vramfit test/tool/example/bench/fuzz target configured" no_vramfit_targets
    check "no doctest looked up" bash -c "! grep -i doctest '$super/build/meson-logs/meson-log.txt'"
    one_werror_one_limit() {  # the consumer's own -Werror only; the constexpr limits once
        python3 - "$super/build/compile_commands.json" <<'EOF'
import json, sys
cmd = next(c["command"] for c in json.load(open(sys.argv[1])) if c["file"].endswith("main.cpp"))
print(cmd)
args = cmd.split()
werror = args.count("-Werror")
limits = [a for a in args if a.startswith("-fconstexpr-")]
sys.exit(0 if werror == 1 and limits and len(limits) == len(set(limits)) else 1)
EOF
    }
    check "consumer gets no -Werror from vramfit, the constexpr limits once" one_werror_one_limit
    check "consumer builds and runs (subproject)" bash -c "meson compile -C '$super/build' && '$super/build/consumer'"
else
    skipped=$((skipped + 4))
fi

# ---- (b) pkg-config after meson install --------------------------------------------------------
echo "--- vramfit through pkg-config"
prefix=$work/prefix
check "core installs with everything else disabled" bash -c "
    CXX='$cxx' meson setup '$work/core' '$src' --prefix='$prefix' --libdir=lib -Dtests=disabled -Dtools=disabled \
        -Dexamples=disabled -Dbench=disabled -Druntime=disabled -Dfuzz=disabled &&
    meson install -C '$work/core' --quiet && test -f '$prefix/include/vramfit/vramfit.hpp'"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
if [ -f "$prefix/lib/pkgconfig/vramfit.pc" ]; then
    check "pkg-config Cflags: the constexpr limits, no -Werror" bash -c "
        flags=\$(pkg-config --cflags vramfit) && echo \"\$flags\" && [[ \$flags == *-fconstexpr-* ]] && [[ \$flags != *-Werror* ]]"
    # shellcheck disable=SC2046
    check "consumer builds and runs (pkg-config)" bash -c "
        $cxx -std=c++20 -Wall -Wextra -Wpedantic -Werror \$(pkg-config --cflags vramfit) tests/consumer/main.cpp -o '$work/consumer' &&
        '$work/consumer'"
else
    echo "no vramfit.pc under $prefix/lib/pkgconfig"; fail=$((fail + 1)); skipped=$((skipped + 2))
fi

printf 'Ok: %d\nFail: %d\nSkipped: %d\n' "$ok" "$fail" "$skipped" >>"$log"
echo "consumer: $ok ok, $fail failed, $skipped skipped"
[ "$fail" -eq 0 ]
