#!/usr/bin/env bash
# tests/layers/test_layers.sh - scripts/check-layers passes on the tree and
# fails, naming the file and line, on a copy with an include that goes up,
# one that goes sideways, a cycle, and an include of a header private to
# another folder.
# With BUILD_DIR it checks the built layers' objects too, and that a
# call from graph/ to a function actors/ defines is refused.
#   test_layers.sh SOURCE_ROOT [BUILD_DIR]
set -uo pipefail
src=$1
build=${2:-}
check=$src/scripts/check-layers
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

"$check" "$src" $build || fail "check-layers refuses the tree itself"

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
expect_broken executors/builtins.c storage/record.h "executors/builtins.c:[0-9]*: executors may not include storage"
expect_broken engine/x.c storage/backend.h "engine/x.c:[0-9]*: storage/backend.h is private to storage"
expect_broken engine/run_internal.h storage/store_internal.h "engine/run_internal.h:[0-9]*: storage/store_internal.h is private to storage"
# A call up that no include shows: graph/ declares and calls a function
# that actors/ defines.
copy
objects=$tmp/build/CMakeFiles
mkdir -p "$objects/cairn_layer_graph.dir/graph" "$objects/cairn_layer_actors.dir/actors"
printf 'void cairn_test_up(void);\nvoid cairn_test_caller(void);\nvoid cairn_test_caller(void) { cairn_test_up(); }\n' >"$tmp/tree/graph/calls_up.c"
printf 'void cairn_test_up(void);\nvoid cairn_test_up(void) {}\n' >"$tmp/tree/actors/defines.c"
cc -c "$tmp/tree/graph/calls_up.c" -o "$objects/cairn_layer_graph.dir/graph/calls_up.c.o" &&
    cc -c "$tmp/tree/actors/defines.c" -o "$objects/cairn_layer_actors.dir/actors/defines.c.o" ||
    fail "cannot compile the call-up objects"
out=$("$check" "$tmp/tree" "$tmp/build" 2>&1) && fail "check-layers accepts graph calling up into actors"
grep -q "graph/calls_up.c.o: graph calls cairn_test_up of actors" <<<"$out" ||
    fail "for the call up it said: $out"
echo "test_layers: ok"
