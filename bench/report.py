#!/usr/bin/env python3
"""report.py - the Markdown table of one `make bench` run.

usage: report.py RESULTS.jsonl [--results-md FILE] [--build-dir DIR]
                 [--raw TEXT]

RESULTS.jsonl holds the JSON lines build-release/bench/cairn-bench,
cairn-bench-store and cairn-bench-workers printed in one run (one object a
line: name, params, median, p99, min, max, units, machine, and
floor_multiple on engine lines; other members, e.g. durable_rss_kb's
samples, are shown beside the params). The report is one Markdown section:

    <!-- make bench: begin -->
    ## Latest `make bench` run (generated)
    - Date, CPU, cores, kernel, OS, compiler, library versions
    | scenario | params | median | p99 | min | max | units | floor × |
    <!-- make bench: end -->

With --results-md the section replaces the one between the marker lines
in FILE (a line holding a marker alone; everything around them is kept)
or, when FILE has no marker lines, is appended to it; FILE is written whole to a temporary file and renamed.
Without --results-md the section goes to stdout.

Machine fields: the CPU model from /proc/cpuinfo, the online CPUs
(os.cpu_count) and those this process may use (sched_getaffinity), the
kernel from uname, the load average from /proc/loadavg (other work on a
shared machine shows there), the OS from /etc/os-release, the compiler and build
type from DIR/CMakeCache.txt (CMAKE_C_COMPILER --version; without
--build-dir, `cc --version`), the library versions from
`pkg-config --modversion` (the versions the build compiled and linked
against: the Debian -dev packages' .pc files). --raw names where the raw
lines are kept, for the section's text.

Exit status: 0; 2 for bad input (unreadable or malformed JSON lines, no
scenario line, markers not exactly one begin before one end), with a
message naming what was wrong and FILE unchanged.
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import textwrap

BEGIN = "<!-- make bench: begin -->"
END = "<!-- make bench: end -->"

# (label, pkg-config module), in the order the section lists them.
LIBRARIES = [
    ("libzmq", "libzmq"),
    ("czmq", "libczmq"),
    ("protobuf-c", "libprotobuf-c"),
    ("RocksDB", "rocksdb"),
    ("jansson", "jansson"),
    ("libsodium", "libsodium"),
]

# Members shown in their own columns; any other goes beside the params.
COLUMNS = {"name", "params", "median", "p99", "min", "max", "units",
           "machine", "floor_multiple"}


class BadInput(Exception):
    """Input the report cannot use; the message says what and where."""


def load(path):
    """The scenario objects of a JSON-lines file, in order."""
    lines = []
    try:
        with open(path, encoding="utf-8") as f:
            for number, raw in enumerate(f, 1):
                raw = raw.strip()
                if not raw.startswith("{"):
                    continue
                try:
                    obj = json.loads(raw)
                except json.JSONDecodeError as e:
                    raise BadInput(f"{path}:{number}: not JSON: {e}") from e
                if not isinstance(obj, dict) or not isinstance(
                        obj.get("name"), str):
                    raise BadInput(f"{path}:{number}: no \"name\" string")
                lines.append(obj)
    except OSError as e:
        raise BadInput(f"{path}: {e.strerror}") from e
    if not lines:
        raise BadInput(f"{path}: no scenario lines")
    return lines


def run(argv):
    """First line of a command's stdout, or None."""
    try:
        out = subprocess.run(argv, capture_output=True, text=True, check=True,
                             timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    out = out.strip().splitlines()
    return out[0].strip() if out else None


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def os_name():
    try:
        with open("/etc/os-release", encoding="utf-8") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "unknown"


def cmake_cache(build_dir):
    """CMakeCache.txt entries as {name: value}; {} without one."""
    entries = {}
    if not build_dir:
        return entries
    try:
        with open(os.path.join(build_dir, "CMakeCache.txt"),
                  encoding="utf-8") as f:
            for line in f:
                if line.startswith(("#", "//")) or "=" not in line:
                    continue
                key, value = line.rstrip("\n").split("=", 1)
                entries[key.split(":", 1)[0]] = value
    except OSError:
        pass
    return entries


def machine(build_dir):
    """The machine fields, as (label, text) pairs in section order."""
    cache = cmake_cache(build_dir)
    cc = cache.get("CMAKE_C_COMPILER") or "cc"
    compiler = run([cc, "--version"]) or f"{cc} (version unknown)"
    build_type = cache.get("CMAKE_BUILD_TYPE")
    if build_type:
        compiler += f"; CMAKE_BUILD_TYPE {build_type}"
    online = os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0))
    cores = f"{online}" + (f" ({usable} usable by the bench)"
                           if usable != online else "")
    uname = platform.uname()
    versions = []
    for label, module in LIBRARIES:
        v = run(["pkg-config", "--modversion", module])
        versions.append(f"{label} {v or '?'}")
    try:
        with open("/proc/loadavg", encoding="utf-8") as f:
            load = " / ".join(f.read().split()[:3])
    except OSError:
        load = "unknown"
    now = datetime.datetime.now(datetime.timezone.utc)
    return [
        ("Date", f"{now:%Y-%m-%d %H:%M} UTC"),
        ("CPU", f"{cpu_model()} (`/proc/cpuinfo` model name)"),
        ("Cores", cores),
        ("Kernel", f"{uname.system} {uname.release} {uname.machine}"),
        ("Load average when the run ended (1 / 5 / 15 min)", load),
        ("OS", os_name()),
        ("Compiler", compiler),
        ("Libraries (`pkg-config --modversion`)", ", ".join(versions)),
    ]


def fmt(x):
    """A number for the table: 4 significant digits or more, no
    exponent; text for anything else."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return "–" if x is None else str(x)
    a = abs(x)
    if a >= 1000:
        return f"{x:,.0f}"
    if a >= 100:
        return f"{x:.1f}"
    if a >= 10:
        return f"{x:.2f}"
    return f"{x:.3f}"


def multiple(x):
    """A floor multiple: two decimals, like the bench prints it."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return fmt(x)
    return f"{x:.2f}"


def value_text(v):
    if isinstance(v, str):
        return v
    if isinstance(v, list):
        return "[" + " ".join(value_text(x) for x in v) + "]"
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return f"{v:g}" if isinstance(v, float) else str(v)
    return json.dumps(v, separators=(",", ":"))


def cell(text):
    """Markdown table cell: pipes escaped, no line breaks."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def params_text(obj):
    params = obj.get("params")
    parts = []
    if isinstance(params, dict):
        parts += [f"{k}={value_text(v)}" for k, v in params.items()]
    elif params is not None:
        parts.append(value_text(params))
    parts += [f"{k}={value_text(v)}" for k, v in obj.items()
              if k not in COLUMNS]
    return ", ".join(parts)


def section(lines, fields, raw):
    """The generated section's text, markers included, ending in a
    newline."""
    md = [
        BEGIN,
        "<!-- Written by bench/report.py at every `make bench`; edits between "
        "these markers are lost. -->",
        "",
        "## Latest `make bench` run (generated)",
        "",
        textwrap.fill(
            "`make bench` (bench/run-bench.sh): cairn-bench, "
            "cairn-bench-store and cairn-bench-workers, one row per JSON "
            "line they printed, in their order; statistics over repetitions "
            "(p99 is the nearest rank); `floor ×` is the line's "
            "`floor_multiple` where it has one; members other than the "
            "columns are shown with the params."
            + (f" Raw lines: `{raw}` (not committed)." if raw else ""),
            width=76, break_on_hyphens=False, break_long_words=False),
        "",
    ]
    md += [f"- {label}: {text}" for label, text in fields]
    md += [
        "",
        "| scenario | params | median | p99 | min | max | units | floor × |",
        "|---|---|---:|---:|---:|---:|---|---:|",
    ]
    for obj in lines:
        md.append("| " + " | ".join(cell(c) for c in (
            f"`{obj['name']}`", params_text(obj), fmt(obj.get("median")),
            fmt(obj.get("p99")), fmt(obj.get("min")), fmt(obj.get("max")),
            obj.get("units", ""), multiple(obj.get("floor_multiple")))) + " |")
    md += durable_floor_section(lines)
    md.append("")
    md.append(END)
    return "\n".join(md) + "\n"


# The durable cycle against its floor: one round trip (in the placement
# the engine ran in), one codec pass and one WriteBatch (synced for
# machine), all from floor lines of the same run. Issue 5's targets.
DURABLE_FLOORS = [
    ("process, default placement", "durable_cycle_process_supersteps_per_s",
     "default", "floor_batch_us", 2.0),
    ("machine, default placement", "durable_cycle_machine_supersteps_per_s",
     "default", "floor_batch_synced_us", 1.3),
    ("process, shared CPU",
     "durable_cycle_process_shared_cpu_supersteps_per_s", "same_cpu_0",
     "floor_batch_us", 2.0),
    ("machine, shared CPU",
     "durable_cycle_machine_shared_cpu_supersteps_per_s", "same_cpu_0",
     "floor_batch_synced_us", 1.3),
]


def durable_floor_rows(lines):
    """(label, us/superstep, round trip, codec, batch, floor, multiple,
    target) for each DURABLE_FLOORS entry whose lines the run has."""
    by_name = {}
    trips = {}
    for obj in lines:
        by_name.setdefault(obj["name"], obj)
        if obj["name"] == "floor_inproc_roundtrip_us":
            placement = (obj.get("params") or {}).get("placement")
            trips.setdefault(placement, obj)
    rows = []
    for label, name, placement, batch_name, target in DURABLE_FLOORS:
        line, trip = by_name.get(name), trips.get(placement)
        codec, batch = by_name.get("floor_codec_us"), by_name.get(batch_name)
        if not (line and trip and codec and batch) or not line.get("median"):
            continue
        us = 1e6 / line["median"]
        floor = trip["median"] + codec["median"] + batch["median"]
        rows.append((label, us, trip["median"], codec["median"],
                     batch["median"], floor, us / floor, target))
    return rows


def durable_floor_section(lines):
    rows = durable_floor_rows(lines)
    if not rows:
        return []
    md = [
        "",
        "Durable cycle against its floor (round trip in the engine's "
        "placement + codec + one WriteBatch, synced for `machine`):",
        "",
        "| durable cycle | µs/superstep | round trip | codec | batch | "
        "floor | × floor | target |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for label, us, trip, codec, batch, floor, mult, target in rows:
        verdict = "met" if mult <= target else "missed"
        md.append(f"| {label} | {fmt(us)} | {fmt(trip)} | {fmt(codec)} | "
                  f"{fmt(batch)} | {fmt(floor)} | {mult:.2f} | "
                  f"≤ {target:g}×: {verdict} |")
    return md


def marker_lines(lines, marker):
    """Indices of the lines that are the marker alone (the marker quoted
    inside a sentence does not count)."""
    return [i for i, line in enumerate(lines) if line.strip() == marker]


def replace_section(path, text):
    """Puts text in place of FILE's marked section (or appends it) and
    writes FILE through a temporary file in its directory."""
    try:
        with open(path, encoding="utf-8") as f:
            old = f.read()
    except FileNotFoundError:
        old = ""
    except OSError as e:
        raise BadInput(f"{path}: {e.strerror}") from e
    lines = old.splitlines(keepends=True)
    begins, ends = marker_lines(lines, BEGIN), marker_lines(lines, END)
    if not begins and not ends:
        sep = "" if not old else ("\n" if old.endswith("\n") else "\n\n")
        new = old + sep + text
    elif len(begins) == 1 and len(ends) == 1 and begins[0] < ends[0]:
        new = ("".join(lines[:begins[0]]) + text
               + "".join(lines[ends[0] + 1:]))
    else:
        raise BadInput(f"{path}: {len(begins)} '{BEGIN}' and {len(ends)} "
                       f"'{END}' marker lines; want none, or one begin "
                       "before one end")
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".report-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(new)
        if os.path.exists(path):
            os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main():
    ap = argparse.ArgumentParser(
        description="Markdown section of one `make bench` run")
    ap.add_argument("results", help="the run's JSON lines")
    ap.add_argument("--results-md", help="file whose generated section to "
                    "replace (default: print the section)")
    ap.add_argument("--build-dir", help="CMake build directory the bench "
                    "programs came from (compiler, build type)")
    ap.add_argument("--raw", help="where the raw lines are kept, as shown "
                    "in the section")
    args = ap.parse_args()
    try:
        lines = load(args.results)
        text = section(lines, machine(args.build_dir), args.raw)
        if args.results_md:
            replace_section(args.results_md, text)
            print(f"report: {len(lines)} scenario lines written to "
                  f"{args.results_md}", file=sys.stderr)
        else:
            sys.stdout.write(text)
    except BadInput as e:
        print(f"report: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
