#!/usr/bin/env python3
"""Writes the admission latency table (medians of the runs per rate) into
docs/benchmarks.md between `<!-- bench:admission -->` and
`<!-- /bench:admission -->` for the webhook's default engine (vm), or
between `<!-- bench:admission-ENGINE -->` markers for another engine.

usage: report.py RESULTS.jsonl DOC DURATION RUNS [COST.jsonl [ENGINE]]
"""
import json
import os
import platform
import re
import statistics
import sys


def main(results, doc, duration, runs, cost=None, engine="vm"):
    rows = [json.loads(l) for l in open(results) if l.strip()]
    rates = sorted({r["rate"] for r in rows})
    command = "bench/admission.sh" if engine == "vm" else f"REGO_ENGINE={engine} bench/admission.sh"
    lines = [
        f"Command: `{command}` (wrk over TLS with keep-alive, {duration} s per run, "
        f"median of {runs} runs per rate; Pod and Deployment reviews alternating; 20 built-in rules "
        f"and 10 Rego policies loaded, Rego engine: {engine}). Machine: {os.cpu_count()} cores, shared with the load generator; "
        f"{platform.system()} {platform.release()}.",
        "",
        "| target rate | achieved | p50 | p99 | p99.9 | max | errors | server RSS first → last (max) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for rate in rates:
        rs = [r for r in rows if r["rate"] == rate]
        med = lambda k: statistics.median(r[k] for r in rs)
        errors = sum(sum(r["errors"].values()) for r in rs)
        requests = sum(r["requests"] for r in rs)
        lines.append(
            f"| {rate}/s | {med('achieved_rps'):.0f}/s | {med('p50_us')/1000:.2f} ms | "
            f"{med('p99_us')/1000:.2f} ms | {med('p999_us')/1000:.2f} ms | {med('max_us')/1000:.1f} ms | "
            f"{errors} of {requests} | {med('rss_kib_first')/1024:.1f} → {med('rss_kib_last')/1024:.1f} MiB "
            f"({max(r['rss_kib_max'] for r in rs)/1024:.1f}) |"
        )
    if cost and os.path.exists(cost):
        costs = {r["variant"]: r for r in (json.loads(l) for l in open(cost) if l.strip())}
        names = {
            "config": "20 built-in rules + 10 Rego policies",
            "no-rego": "20 built-in rules",
            "no-rules": "no rule (TLS, HTTP, JSON, pipeline)",
        }
        lines += [
            "",
            "Cost per request at 200 requests/s (server CPU time / requests; server-side mean from its histogram):",
            "",
            "| configuration | CPU per request | server-side mean | client p50 | client p99 |",
            "|---|---|---|---|---|",
        ]
        for v in ("config", "no-rego", "no-rules"):
            r = costs.get(v)
            if r:
                lines.append(
                    f"| {names[v]} | {r['cpu_ms_per_request']:.2f} ms | {r['server_mean_ms']:.2f} ms | "
                    f"{r['p50_us']/1000:.2f} ms | {r['p99_us']/1000:.2f} ms |"
                )
    table = "\n".join(lines)
    text = open(doc).read() if os.path.exists(doc) else "# Benchmarks\n"
    tag = "admission" if engine == "vm" else f"admission-{engine}"
    start, end = f"<!-- bench:{tag} -->", f"<!-- /bench:{tag} -->"
    block = f"{start}\n{table}\n{end}"
    if start in text:
        text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip("\n") + f"\n\n## Admission webhook latency ({engine})\n\n" + block + "\n"
    open(doc, "w").write(text)
    print(table)


if __name__ == "__main__":
    main(*sys.argv[1:])
