#!/usr/bin/env bash
# demo.sh - what `make run` shows: cairn runs a workflow, survives kill -9,
# and resumes to exactly the result an uninterrupted run gives.
set -euo pipefail
cd "$(dirname "$0")/.."
CAIRN=${CAIRN:-build/cairn}
work=$(mktemp -d /tmp/cairn-demo-XXXXXX)
trap 'rm -rf "$work"' EXIT
say() { printf '\n== %s\n' "$*"; }

say "1. The text pipeline (upper -> reverse -> lower -> output) on \"hello world\""
$CAIRN run examples/text-pipeline.json --input "hello world" --db "$work/db" --run-id pipeline
say "Its checkpoints, one per superstep, all in RocksDB under $work/db:"
$CAIRN checkpoints pipeline --db "$work/db"

say "2. A counter that counts past 100, slowly (20 ms a step); what an uninterrupted run gives:"
expected=$($CAIRN run examples/counter.json --input 0 --durability none 2>/dev/null)
echo "$expected"

say "Now the same workflow with a durable store, killed with SIGKILL after 0.6 s"
$CAIRN run examples/counter.json --input 0 --db "$work/db" --run-id counter >"$work/out" 2>"$work/err" &
pid=$!
sleep 0.6
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
echo "killed process $pid mid-run; the store says:"
$CAIRN runs --db "$work/db"

say "Resume it: cairn resume counter"
got=$($CAIRN resume counter --db "$work/db")
echo "$got"

say "3. Compare"
if [ "$got" = "$expected" ]; then
    echo "resumed output \"$got\" equals the uninterrupted run's \"$expected\""
else
    echo "MISMATCH: resumed \"$got\", uninterrupted \"$expected\"" >&2
    exit 1
fi
$CAIRN checkpoints counter --db "$work/db" --limit 3
