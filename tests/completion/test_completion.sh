#!/usr/bin/env bash
# tests/completion/test_completion.sh - the bash completion
# (scripts/cairn.bash-completion) completes commands, a command's options
# and file names, asking the given cairn binary.
#   test_completion.sh SOURCE_ROOT CAIRN
set -uo pipefail
src=$1
cairn=$2
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
# shellcheck source=/dev/null
source "$src/scripts/cairn.bash-completion"
complete -p cairn >/dev/null || fail "no completion registered for cairn"

# Completes the words (the last one being completed); COMPREPLY, sorted,
# space-separated, in $got.
completes() {
    COMP_WORDS=("$cairn" "$@")
    COMP_CWORD=$#
    COMPREPLY=()
    _cairn
    got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ')
    got=${got% }
}
expect() { # what-is-completed expected words...
    local want=$1
    shift
    completes "$@"
    [[ $got == "$want" ]] || fail "cairn $*<TAB>: got '$got', expected '$want'"
}
expect "recover resume" re
expect "run runs" ru
expect "verify version" ver
expect "delete diff" help d
expect "--input --input-file" run --inp
expect "--max-supersteps" resume x --max-s
expect "--output" export r --out
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
touch "$tmp/spec-one.json" "$tmp/spec-two.json"
expect "$tmp/spec-one.json $tmp/spec-two.json" run "$tmp/spec-"
# Every command's options: each completes from its own table.
for command in $("$cairn" help --commands); do
    [[ $command == help || $command == version ]] && continue
    completes "$command" --
    [[ $got == *--help* ]] || fail "cairn $command --<TAB> lacks --help: '$got'"
done
echo "test_completion: ok"
