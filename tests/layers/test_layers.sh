#!/usr/bin/env bash
# tests/layers/test_layers.sh - scripts/check-layers passes on the tree and
# fails, naming the file and line, on a copy with an include that goes up,
# one that goes sideways, a cycle, and an include of a header private to
# another folder.
#   test_layers.sh SOURCE_ROOT
set -uo pipefail
src=$1
check=$src/scripts/check-layers
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

"$check" "$src" || fail "check-layers refuses the tree itself"

# A copy of the layer folders' sources to break one include at a time.
copy() {
    rm -rf "$tmp/tree"
    mkdir -p "$tmp/tree"
    for d in base proto graph storage actors executors engine cli; do
        mkdir -p "$tmp/tree/$d"
        cp "$src/$d"/*.[ch] "$tmp/tree/$d/"
    done
}
expect_broken() { # file include-line what-stderr-names
    copy
    printf '#include "%s"\n' "$2" >>"$tmp/tree/$1"
    out=$("$check" "$tmp/tree" 2>&1) && fail "check-layers accepts $1 including $2"
    grep -q -- "$3" <<<"$out" || fail "for $1 including $2 it said: $out"
}
expect_broken storage/keys.c engine/run_internal.h "storage/keys.c:[0-9]*: storage may not include engine"
expect_broken actors/host.c storage/record.h "actors/host.c:[0-9]*: actors may not include storage"
expect_broken base/util.h graph/workflow_internal.h "base may not include graph"
expect_broken graph/builder.c executors/builtins.h "cycle through: .*graph"
expect_broken engine/x.c storage/backend.h "engine/x.c:[0-9]*: storage/backend.h is private to storage"
expect_broken engine/run_internal.h storage/store_internal.h "engine/run_internal.h:[0-9]*: storage/store_internal.h is private to storage"
echo "test_layers: ok"
