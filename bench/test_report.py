#!/usr/bin/env python3
"""test_report.py - CTest bench_report: `make bench`'s report on real runs.

usage: test_report.py --build-dir DIR

Runs bench/run-bench.sh on DIR's bench programs with BENCH_ARGS=--quick,
its raw lines and RESULTS_MD in a temporary directory, and checks:

- stdout is exactly the JSON lines kept in the .jsonl file, and those hold
  every scenario the issue names (text pipeline and chain, cycle with each
  durability, fan-out, 1 MiB state, resume, listing, workers over ipc and
  tcp, RSS, the floors);
- RESULTS_MD keeps the hand-written text around the markers, holds exactly
  one generated section, and that section has every machine field (date,
  CPU model as /proc/cpuinfo names it, cores, kernel, load average, OS,
  compiler, the six library versions) and one row per JSON line, in order, with its name,
  median, p99, min, max, units and floor multiple;
- RESULTS_MD= (empty) runs the benches but leaves the file byte for byte;
- report.py appends a section to a file without markers, prints it to
  stdout without --results-md, and refuses (exit 2, file unchanged) bad
  markers and malformed JSON lines.

Exit 0 when every check holds; 1 with the failed checks on stderr.
"""
import argparse
import glob
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
RUN_BENCH = os.path.join(HERE, "run-bench.sh")
REPORT = os.path.join(HERE, "report.py")
BEGIN = "<!-- make bench: begin -->"
END = "<!-- make bench: end -->"

# Names the scenario list implies, from the three programs and
# syscalls.py.
REQUIRED = [
    "floor_inproc_roundtrip_us", "floor_codec_us",
    "cycle_supersteps_per_s", "fanout_fanin_supersteps_per_s",
    "text_pipeline_runs_per_s", "text_chain_runs_per_s",
    "floor_batch_us", "floor_batch_synced_us",
    "durable_cycle_none_supersteps_per_s",
    "durable_cycle_process_supersteps_per_s",
    "durable_cycle_machine_supersteps_per_s",
    "incremental_1mib_process_supersteps_per_s",
    "incremental_1mib_process_bytes_per_checkpoint",
    "resume_latency_ms", "list_checkpoints_ms", "durable_rss_kb",
    "floor_process_roundtrip_us", "workers_cycle_supersteps_per_s",
    "cli_syscalls_per_superstep", "floor_inproc_syscalls_per_roundtrip",
]
LIBRARIES = ["libzmq", "czmq", "protobuf-c", "RocksDB", "jansson",
             "libsodium"]
HAND_BEFORE = ("# Results\n\nHand-written analysis before | with a pipe, "
               f"naming the markers `{BEGIN}` and `{END}` in a sentence.\n\n")
HAND_AFTER = "\n## Later analysis\n\nKept as it is.\n"

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
    return ok


def run_bench(build_dir, results_dir, results_md):
    env = dict(os.environ, BUILD=build_dir, RESULTS_DIR=results_dir,
               RESULTS_MD=results_md, BENCH_ARGS="--quick")
    return subprocess.run(["bash", RUN_BENCH], env=env, capture_output=True,
                          text=True, timeout=600)


def report(*args):
    return subprocess.run([sys.executable, REPORT, *args],
                          capture_output=True, text=True, timeout=60)


def number(text):
    """A table cell's number, or None for '–'."""
    text = text.strip()
    if text == "–":
        return None
    return float(text.replace(",", ""))


def close(cell, value, what):
    """The cell shows value to the precision the table keeps."""
    try:
        shown = number(cell)
    except ValueError:
        return check(False, f"{what}: cell {cell!r} is not a number")
    if value is None:
        return check(shown is None, f"{what}: {cell!r}, want –")
    if shown is None:
        return check(False, f"{what}: –, want {value}")
    return check(abs(shown - value) <= max(0.006, 0.0006 * abs(value)),
                 f"{what}: {cell!r}, want {value}")


def split_row(row):
    """Cells of a Markdown table row ('\\|' is a pipe inside a cell)."""
    cells = re.split(r"(?<!\\)\|", row.strip())[1:-1]
    return [c.strip().replace("\\|", "|") for c in cells]


def cpu_model():
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                return value.strip()
    return None


def check_section(text, lines):
    """The generated section in text: machine fields and one row per
    line."""
    all_lines = text.splitlines()
    begins = [i for i, l in enumerate(all_lines) if l == BEGIN]
    ends = [i for i, l in enumerate(all_lines) if l == END]
    if not check(len(begins) == 1 and len(ends) == 1,
                 f"{len(begins)} begin, {len(ends)} end marker lines"):
        return
    sec = "\n".join(all_lines[begins[0]:ends[0]])
    fields = dict(re.findall(r"^- ([^:\n]+): (.+)$", sec, re.M))
    check(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC",
                       fields.get("Date", "")), f"date: {fields.get('Date')}")
    model = cpu_model()
    check(model and model in fields.get("CPU", ""),
          f"CPU: {fields.get('CPU')!r}, want {model!r}")
    check(fields.get("Cores", "").split(" ")[0] == str(os.cpu_count()),
          f"cores: {fields.get('Cores')!r}, want {os.cpu_count()}")
    check(platform.release() in fields.get("Kernel", ""),
          f"kernel: {fields.get('Kernel')!r}")
    load = next((v for k, v in fields.items() if k.startswith("Load")), "")
    check(re.fullmatch(r"\d+\.\d+ / \d+\.\d+ / \d+\.\d+", load),
          f"load average: {load!r}")
    check(len(fields.get("OS", "")) > 0 and fields.get("OS") != "unknown",
          f"OS: {fields.get('OS')!r}")
    check(re.search(r"\d+\.\d+", fields.get("Compiler", "")),
          f"compiler: {fields.get('Compiler')!r}")
    libs = next((v for k, v in fields.items() if k.startswith("Libraries")),
                "")
    for lib in LIBRARIES:
        check(re.search(rf"(^|, ){re.escape(lib)} \d+(\.\d+)+(,|$)", libs),
              f"library {lib} without a version in {libs!r}")

    rows = [split_row(r) for r in sec.splitlines() if r.startswith("| `")]
    check(len(rows) == len(lines),
          f"{len(rows)} table rows for {len(lines)} JSON lines")
    for i, (row, obj) in enumerate(zip(rows, lines)):
        what = f"row {i + 1} ({obj['name']})"
        if not check(len(row) == 8, f"{what}: {len(row)} cells, want 8"):
            continue
        check(row[0] == f"`{obj['name']}`", f"{what}: name cell {row[0]!r}")
        for key, value in obj.get("params", {}).items():
            if isinstance(value, (int, str)) and not isinstance(value, bool):
                check(f"{key}={value}" in row[1],
                      f"{what}: params {row[1]!r} lack {key}={value}")
        for col, key in enumerate(("median", "p99", "min", "max"), 2):
            close(row[col], obj.get(key), f"{what} {key}")
        check(row[6] == obj.get("units"), f"{what}: units {row[6]!r}")
        close(row[7], obj.get("floor_multiple"), f"{what} floor multiple")

    # The durable cycle against its floor, recomputed from the lines.
    def median(name, placement=None):
        for obj in lines:
            if obj["name"] == name and (placement is None or obj.get(
                    "params", {}).get("placement") == placement):
                return obj["median"]
        return None
    floors = dict((r[0], r) for r in
                  (split_row(r) for r in sec.splitlines()
                   if r.startswith("| process, ")
                   or r.startswith("| machine, ")))
    for label, name, placement, batch in (
            ("process, default placement",
             "durable_cycle_process_supersteps_per_s", "default",
             "floor_batch_us"),
            ("machine, shared CPU",
             "durable_cycle_machine_shared_cpu_supersteps_per_s",
             "same_cpu_0", "floor_batch_synced_us")):
        row = floors.get(label)
        if not check(row and len(row) == 8, f"no durable floor row {label}"):
            continue
        floor = (median("floor_inproc_roundtrip_us", placement)
                 + median("floor_codec_us") + median(batch))
        close(row[6], 1e6 / median(name) / floor,
              f"durable floor row {label} multiple")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    args = ap.parse_args()
    build_dir = os.path.abspath(args.build_dir)
    tmp = tempfile.mkdtemp(prefix="cairn-bench-report-")
    try:
        results_dir = os.path.join(tmp, "results")
        md = os.path.join(tmp, "RESULTS.md")
        old_section = f"{BEGIN}\nan old table\n{END}\n"
        with open(md, "w", encoding="utf-8") as f:
            f.write(HAND_BEFORE + old_section + HAND_AFTER)

        # 1. run-bench.sh as `make bench` runs it, at --quick sizes.
        p = run_bench(build_dir, results_dir, md)
        if not check(p.returncode == 0,
                     f"run-bench.sh exit {p.returncode}: {p.stderr[-2000:]}"):
            return
        raws = glob.glob(os.path.join(results_dir, "bench-*.jsonl"))
        if not check(len(raws) == 1, f"raw files: {raws}"):
            return
        with open(raws[0], encoding="utf-8") as f:
            raw_text = f.read()
        check(p.stdout == raw_text, "stdout differs from the .jsonl file")
        lines = [json.loads(l) for l in raw_text.splitlines()]
        names = {l["name"] for l in lines}
        for name in REQUIRED:
            check(name in names, f"no {name} line")
        for t in ("ipc", "tcp"):
            check(any(l["name"] == "workers_cycle_supersteps_per_s"
                      and l["params"].get("transport") == t for l in lines),
                  f"no workers cycle over {t}")
        with open(md, encoding="utf-8") as f:
            text = f.read()
        check(text.startswith(HAND_BEFORE + BEGIN),
              "text before the markers changed")
        check(text.endswith(END + "\n" + HAND_AFTER),
              "text after the markers changed")
        check("an old table" not in text, "the old section is still there")
        check(raws[0] in text, "the section does not name the raw file")
        check_section(text, lines)

        # 2. RESULTS_MD= : the benches run, the file stays as it is.
        p = run_bench(build_dir, results_dir, "")
        check(p.returncode == 0, f"run-bench.sh RESULTS_MD= exit "
              f"{p.returncode}: {p.stderr[-2000:]}")
        with open(md, encoding="utf-8") as f:
            check(f.read() == text, "RESULTS_MD= changed the file")
        check(len(glob.glob(os.path.join(results_dir, "bench-*.jsonl")))
              == 2, "the second run's raw lines are not kept beside the first")

        # 3. report.py on its own: append, stdout, refusals.
        plain = os.path.join(tmp, "plain.md")
        with open(plain, "w", encoding="utf-8") as f:
            f.write("no markers here\n")
        p = report(raws[0], "--results-md", plain, "--build-dir", build_dir)
        check(p.returncode == 0, f"append: exit {p.returncode}: {p.stderr}")
        with open(plain, encoding="utf-8") as f:
            appended = f.read()
        check(appended.startswith("no markers here\n\n" + BEGIN),
              "append: the section is not after the old text")
        check_section(appended, lines)

        p = report(raws[0])
        check(p.returncode == 0 and p.stdout.startswith(BEGIN)
              and p.stdout.rstrip().endswith(END),
              f"stdout: exit {p.returncode}, {p.stdout[:80]!r}")

        twice = os.path.join(tmp, "twice.md")
        bad_text = f"{BEGIN}\n{BEGIN}\n{END}\n"
        with open(twice, "w", encoding="utf-8") as f:
            f.write(bad_text)
        p = report(raws[0], "--results-md", twice)
        with open(twice, encoding="utf-8") as f:
            check(f.read() == bad_text, "bad markers: file changed")
        check(p.returncode == 2 and "marker lines" in p.stderr,
              f"bad markers: exit {p.returncode}, {p.stderr!r}")

        broken = os.path.join(tmp, "broken.jsonl")
        with open(broken, "w", encoding="utf-8") as f:
            f.write(raw_text.splitlines()[0] + "\n{\"name\": \n")
        p = report(broken, "--results-md", md)
        with open(md, encoding="utf-8") as f:
            check(f.read() == text, "malformed JSON: file changed")
        check(p.returncode == 2 and f"{broken}:2" in p.stderr,
              f"malformed JSON: exit {p.returncode}, {p.stderr!r}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
    for f in failures:
        print(f"test_report: FAILED: {f}", file=sys.stderr)
    print(f"test_report: {'FAILED' if failures else 'ok'}", file=sys.stderr)
    sys.exit(1 if failures else 0)
