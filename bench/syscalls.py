#!/usr/bin/env python3
"""syscalls.py - system calls per superstep of `cairn run`, and their floor.

usage: syscalls.py --build DIR [--quick] [--reps N]

Counts system calls with `perf stat -e raw_syscalls:sys_enter` (every
thread of the process) and prints JSON lines in cairn-bench's shape
(name, params, median, p99, min, max, units, machine):

  cli_syscalls_per_superstep        `DIR/cairn run` of a two-executor
      counter loop (ping: count.inc -> switch int_ge -> pong: count.inc ->
      ping), default flags, once per durability (process, none)
  floor_inproc_syscalls_per_roundtrip   DIR/bench/cairn-bench-zmq-floor:
      a bare libzmq inproc round trip with a blocking zmq_recv on each side,
      the hand-off every superstep makes to a host thread and back

Each repetition runs the program at S and at 2*S supersteps (round trips)
and reports (calls(2S) - calls(S)) / S, so start-up and shut-down do not
count. S is 20,000 (--quick: 2,000); --reps (default 3; --quick 1).

Exit status: 0; 1 when a run fails; 2 for bad usage or when perf cannot
count (perf missing, or the raw_syscalls tracepoint not readable), with a
message saying which.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

SPEC = {
    "name": "syscall-loop",
    "start": "ping",
    "executors": [
        {"id": "ping", "type": "count.inc", "config": {"by": 1}},
        {"id": "pong", "type": "count.inc", "config": {"by": 1}},
        {"id": "done", "type": "text.output"},
    ],
    "edges": [
        {"from": "ping", "switch": [
            {"when": {"int_ge": 0}, "to": "done"},  # the limit, set per run
            {"default": True, "to": "pong"}]},
        {"from": "pong", "to": "ping"},
    ],
}


class Failed(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def machine():
    model = "unknown cpu"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and ":" in line:
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores"


def count_syscalls(argv, workdir):
    """System calls argv made, all threads; its stdout must be non-empty
    when it is cairn run (checked by the caller through the output)."""
    perf = ["perf", "stat", "-x", ",", "-e", "raw_syscalls:sys_enter", "--"]
    done = subprocess.run(perf + argv, cwd=workdir, capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise Failed(1, f"{' '.join(argv)} failed (exit {done.returncode}):"
                        f" {done.stderr.strip()[-600:]}")
    for line in done.stderr.splitlines():
        fields = line.split(",")
        if len(fields) > 2 and fields[2] == "raw_syscalls:sys_enter":
            if not fields[0].isdigit():
                raise Failed(2, "perf cannot count raw_syscalls:sys_enter "
                                f"({fields[0]}): run as root, or lower "
                                "/proc/sys/kernel/perf_event_paranoid")
            return int(fields[0]), done.stdout
    raise Failed(2, f"perf printed no count: {done.stderr.strip()[-600:]}")


def cairn_run_calls(build, supersteps, durability, workdir):
    spec = json.loads(json.dumps(SPEC))
    spec["edges"][0]["switch"][0]["when"]["int_ge"] = supersteps
    spec["max_supersteps"] = supersteps + 10
    path = os.path.join(workdir, f"loop-{supersteps}.json")
    with open(path, "w") as f:
        json.dump(spec, f)
    db = os.path.join(workdir, f"db-{supersteps}-{durability}")
    shutil.rmtree(db, ignore_errors=True)
    calls, out = count_syscalls(
        [os.path.join(build, "cairn"), "run", path, "--input", "0", "--db",
         db, "--durability", durability], workdir)
    # ping counts 1, 3, ...: the output is the first odd count >= the limit
    if int(out.split()[-1]) < supersteps:
        raise Failed(1, f"cairn run stopped early: output {out.strip()!r}")
    shutil.rmtree(db, ignore_errors=True)
    return calls


def floor_calls(build, round_trips, workdir):
    program = os.path.join(build, "bench", "cairn-bench-zmq-floor")
    return count_syscalls([program, str(round_trips)], workdir)[0]


def per_step(calls_of, size, reps):
    values = []
    for _ in range(reps):
        values.append((calls_of(2 * size) - calls_of(size)) / size)
    return values


def report(name, params, values):
    values = sorted(values)
    p99 = values[min(len(values) - 1, int(0.99 * len(values)))]
    print(json.dumps({
        "name": name, "params": params,
        "median": round(statistics.median(values), 2),
        "p99": round(p99, 2), "min": round(values[0], 2),
        "max": round(values[-1], 2), "units": "syscalls",
        "machine": machine()}, separators=(",", ":")), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--reps", type=int)
    args = parser.parse_args()
    size = 2000 if args.quick else 20000
    reps = args.reps or (1 if args.quick else 3)
    if reps < 1:
        parser.error("--reps must be at least 1")
    if not shutil.which("perf"):
        print("syscalls.py: perf is not installed (Debian: linux-perf)",
              file=sys.stderr)
        return 2
    build = os.path.abspath(args.build)
    with tempfile.TemporaryDirectory(prefix="cairn-syscalls-") as workdir:
        try:
            for durability in ("process", "none"):
                values = per_step(
                    lambda n: cairn_run_calls(build, n, durability, workdir),
                    size, reps)
                report("cli_syscalls_per_superstep",
                       {"durability": durability, "placement": "default",
                        "supersteps": size, "reps": reps}, values)
            values = per_step(lambda n: floor_calls(build, n, workdir),
                              size, reps)
            report("floor_inproc_syscalls_per_roundtrip",
                   {"round_trips": size, "reps": reps}, values)
        except Failed as failed:
            print(f"syscalls.py: {failed}", file=sys.stderr)
            return failed.status
    return 0


if __name__ == "__main__":
    sys.exit(main())
