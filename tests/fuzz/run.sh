#!/usr/bin/env bash
# run.sh - runs each libFuzzer target for a while from its corpus
# (`make fuzz`; docs/testing.md, "Fuzzing").
#
#   tests/fuzz/run.sh BUILD_DIR SECONDS TARGET...
#
# Each target starts from its committed seeds (tests/fuzz/corpus/T) and
# saved crashes (tests/fuzz/regressions/T), read-only; what it finds new
# goes to a scratch corpus under BUILD_DIR/fuzz-run/T, and a crashing
# input to BUILD_DIR/fuzz-run/T/crash-*. Any crash, leak, timeout or
# sanitizer report fails the run (non-zero exit) after every target ran.
set -uo pipefail
cd "$(dirname "$0")/../.."

build=$1
seconds=$2
shift 2
failed=()
for t in "$@"; do
    out="$build/fuzz-run/$t"
    rm -rf "$out"
    mkdir -p "$out/corpus"
    echo "== fuzz_$t for ${seconds}s"
    seeds=("tests/fuzz/corpus/$t")
    if [ -d "tests/fuzz/regressions/$t" ]; then
        seeds+=("tests/fuzz/regressions/$t")
    fi
    # detect_leaks: libFuzzer reports a leak as a failure too. max_len:
    # a larger regression seed would otherwise raise the limit for the
    # whole run (it is cut to 4 KiB here; make test replays it whole).
    if ! ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
        "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" \
            -timeout=25 -max_len=4096 -print_final_stats=1 \
            -artifact_prefix="$out/" \
            "$out/corpus" "${seeds[@]}" \
            >"$out/log" 2>&1; then
        failed+=("$t")
        tail -n 60 "$out/log"
        echo "fuzz_$t FAILED; reproducer(s):" \
            $(ls "$out"/crash-* "$out"/leak-* "$out"/timeout-* \
                  "$out"/oom-* 2>/dev/null)
    fi
    # The last status line carries the final coverage (cov: edges,
    # ft: features); the stats the speed.
    grep -aE '^#[0-9]+[[:space:]].*cov: ' "$out/log" | tail -n 1
    grep -aE 'stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' \
        "$out/log" || true
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: failed: ${failed[*]} (save the input under tests/fuzz/regressions/TARGET/)"
    exit 1
fi
echo "fuzz: clean"
