#!/usr/bin/env bash
# run-peers.sh - cairn against LangGraph.js on the same workloads.
#
# Builds cairn in Release, installs the peer project (npm ci) when its
# node_modules is missing, runs cairn-bench, cairn-bench-store and the
# LangGraph.js bench back to back, keeps every JSON line in
# bench/peers/results/peers-<UTC time>.jsonl, prints each ratio
# (cairn / peer) against its target and appends a dated
# "## Peer comparison (LangGraph.js)" section to bench/RESULTS.md.
#
# Environment: JOBS (build parallelism, default nproc), RESULTS_MD (file to
# append to, default bench/RESULTS.md; empty: do not append), PEER_ARGS
# (extra arguments for bench.mjs, e.g. "--reps 5").
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=${JOBS:-$(nproc)}
peer=bench/peers/langgraphjs
results_md=${RESULTS_MD-bench/RESULTS.md}

cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release
cmake --build build-release -j "$jobs"

if [ ! -d "$peer/node_modules" ]; then
    echo "run-peers: npm ci in $peer"
    (cd "$peer" && npm ci --no-audit --no-fund)
fi

mkdir -p bench/peers/results
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=bench/peers/results/peers-$stamp.jsonl
versions=bench/peers/results/versions-$stamp.json
: >"$out"
(cd "$peer" && node bench.mjs --versions) >"$versions"

echo "run-peers: cairn-bench" >&2
build-release/bench/cairn-bench | tee -a "$out"
echo "run-peers: cairn-bench-store" >&2
build-release/bench/cairn-bench-store | tee -a "$out"
echo "run-peers: LangGraph.js ($peer/bench.mjs)" >&2
# shellcheck disable=SC2086 # PEER_ARGS is a list of words
(cd "$peer" && node bench.mjs ${PEER_ARGS:-}) | tee -a "$out"

echo "run-peers: results in $out" >&2
python3 bench/peers/compare.py "$out" --versions "$versions" \
    ${results_md:+--append "$results_md"}
