#!/usr/bin/env bash
# run-bench.sh - what `make bench` runs after the Release build.
#
# Runs cairn-bench, cairn-bench-store and cairn-bench-workers from BUILD
# one after the other at full sizes, then bench/syscalls.py (system calls
# per superstep of `cairn run`, with perf), prints their JSON lines on stdout as
# they come, keeps all of them in RESULTS_DIR/bench-<UTC time>.jsonl
# and, unless RESULTS_MD is empty, has bench/report.py replace the
# generated section of RESULTS_MD (between "<!-- make bench: begin -->"
# and "<!-- make bench: end -->") with this run's table. A failing bench
# program stops the run (exit 1) before RESULTS_MD is touched; its lines
# so far stay in the .jsonl file.
#
# Environment: BUILD (build directory, default build-release), RESULTS_MD
# (default bench/RESULTS.md; empty: do not write it), RESULTS_DIR (default
# bench/results, gitignored), BENCH_ARGS (extra arguments for every
# program, e.g. "--quick" or "--reps 10"). Relative paths are taken from
# the source root.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${BUILD:-build-release}
results_md=${RESULTS_MD-bench/RESULTS.md}

results_dir=${RESULTS_DIR:-bench/results}

mkdir -p "$results_dir"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=$results_dir/bench-$stamp.jsonl
n=1
while [ -e "$out" ]; do # two runs in one second keep both files
    n=$((n + 1))
    out=$results_dir/bench-$stamp-$n.jsonl
done
: >"$out"
for prog in cairn-bench cairn-bench-store cairn-bench-workers; do
    echo "run-bench: $prog" >&2
    # shellcheck disable=SC2086 # BENCH_ARGS is a list of words
    "$build/bench/$prog" ${BENCH_ARGS:-} | tee -a "$out"
done
echo "run-bench: syscalls.py" >&2
# shellcheck disable=SC2086
python3 bench/syscalls.py --build "$build" ${BENCH_ARGS:-} | tee -a "$out"
echo "run-bench: JSON lines in $out" >&2

if [ -n "$results_md" ]; then
    python3 bench/report.py "$out" --build-dir "$build" --raw "$out" \
        --results-md "$results_md"
else
    echo "run-bench: RESULTS_MD is empty, no report written" >&2
fi
