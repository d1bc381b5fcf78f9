#!/usr/bin/env python3
"""Runs a command several times; prints the median wall time and the peak
resident memory of each run as JSON. Exit codes are recorded, not judged
(scanners exit non-zero when they find things).

usage: measure.py RUNS LABEL -- CMD ARGS...
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


def main():
    runs = int(sys.argv[1])
    label = sys.argv[2]
    cmd = sys.argv[sys.argv.index("--") + 1 :]
    run_once(cmd)  # warm the page cache and any caches the tool keeps
    walls, rss, codes = [], [], []
    for _ in range(runs):
        w, m, c = run_once(cmd)
        walls.append(w)
        rss.append(m)
        codes.append(c)
    print(json.dumps({
        "label": label,
        "cmd": " ".join(cmd),
        "runs": runs,
        "median_s": statistics.median(walls),
        "min_s": min(walls),
        "max_s": max(walls),
        "peak_rss_bytes": max(rss),
        "exit_codes": sorted(set(codes)),
    }))


if __name__ == "__main__":
    main()
