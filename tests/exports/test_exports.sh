#!/usr/bin/env bash
# tests/exports/test_exports.sh - every function include/cairn/*.h
# declares with CAIRN_EXPORT is in the dynamic symbol table of the cairn
# command, the program plugins resolve the public API from (the library
# is built with -fvisibility=hidden: a declaration that lost its
# CAIRN_EXPORT, or a public function left out of the library, fails here).
#   test_exports.sh SOURCE_ROOT CAIRN_BINARY
set -uo pipefail
src=$1
bin=$2
# What plugins define, not the library (plugin.h).
plugin_side='^cairn_plugin_(abi|register)$'

declared=$(perl -0777 -ne 'print "$1\n" while /CAIRN_EXPORT\s+(?:extern\s+)?[^;(#]*?\b(cairn_\w+)\s*[(;]/g' \
    "$src"/include/cairn/*.h | grep -Ev "$plugin_side" | sort -u)
[[ $(wc -l <<<"$declared") -gt 100 ]] ||
    { echo "FAIL: found only $(wc -l <<<"$declared") exported declarations" >&2; exit 1; }
exported=$(nm -D --defined-only "$bin" | awk '{print $3}' | sort -u)
missing=$(comm -23 <(echo "$declared") <(echo "$exported"))
if [[ -n $missing ]]; then
    echo "FAIL: declared CAIRN_EXPORT but not exported by $bin:" >&2
    echo "$missing" >&2
    exit 1
fi
echo "test_exports: $(wc -l <<<"$declared") public functions, all exported"
