#!/usr/bin/env python3
"""Runs a command several times; prints the median wall time and the peak
resident memory of each run as JSON. Exit codes are recorded, not judged
(scanners exit non-zero when they find things).

With several commands (groups separated by `---`), the runs interleave:
round by round, each command once, the order rotating between rounds, so
that drift on a shared machine hits every command alike; one JSON line per
command, each with its walls in round order (for per-round ratios).

usage: measure.py RUNS LABEL -- CMD ARGS... [--- LABEL -- CMD ARGS...]...
"""
import json
import os
import statistics
import subprocess
import sys
import time


def run_once(cmd):
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, rusage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    return wall, rusage.ru_maxrss * 1024, code


def groups(args):
    """[(label, cmd)] from `LABEL -- CMD... --- LABEL -- CMD...`."""
    out, current = [], []
    for arg in args + ["---"]:
        if arg == "---":
            label, sep, cmd = current[0], current[1], current[2:]
            assert sep == "--" and cmd, "usage: measure.py RUNS LABEL -- CMD [--- LABEL -- CMD]..."
            out.append((label, cmd))
            current = []
        else:
            current.append(arg)
    return out


def main():
    runs = int(sys.argv[1])
    cmds = groups(sys.argv[2:])
    for _, cmd in cmds:
        run_once(cmd)  # warm the page cache and any caches the tool keeps
    results = {label: ([], [], []) for label, _ in cmds}
    for r in range(runs):
        for i in range(len(cmds)):
            label, cmd = cmds[(i + r) % len(cmds)]
            w, m, c = run_once(cmd)
            walls, rss, codes = results[label]
            walls.append(w)
            rss.append(m)
            codes.append(c)
    for label, cmd in cmds:
        walls, rss, codes = results[label]
        print(json.dumps({
            "label": label,
            "cmd": " ".join(cmd),
            "runs": runs,
            "interleaved": len(cmds) > 1,
            "median_s": statistics.median(walls),
            "min_s": min(walls),
            "max_s": max(walls),
            "walls_s": walls,
            "peak_rss_bytes": max(rss),
            "exit_codes": sorted(set(codes)),
        }))


if __name__ == "__main__":
    main()
