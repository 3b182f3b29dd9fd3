#!/usr/bin/env bash
# check-readme.sh README.md readme.c - README.md's C example (the ```c
# block right under "## The C API") is readme.c, word for word, so the
# example a reader copies is the one CI compiles and runs.
set -euo pipefail
block=$(awk '/^## The C API/ {api = 1; next}
             api && /^```c$/ {inside = 1; next}
             inside && /^```$/ {exit}
             inside {print}' "$1")
if ! diff -u <(echo "$block") "$2"; then
    echo "FAIL: README.md's C example differs from $2 (above)" >&2
    exit 1
fi
echo "README.md's C example is $2"
