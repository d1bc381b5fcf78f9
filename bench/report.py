#!/usr/bin/env python3
"""Turns bench/out/<name>.jsonl into a Markdown table and writes it into
docs/benchmarks.md between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`.

usage: report.py config RESULTS CORPUS_BYTES STREAM_BYTES DOC
"""
import json
import os
import platform
import re
import sys


def load(path):
    return {r["label"]: r for r in map(json.loads, open(path)) if r.get("label")}


def mb(n):
    return f"{n / 1e6:.1f} MB"


def config(results, corpus_bytes, stream_bytes):
    r = load(results)
    sizes = {"corpus": int(corpus_bytes), "stream": int(stream_bytes)}
    lines = [
        "| input | tool | median wall | throughput | peak RSS | palisade speed-up |",
        "|---|---|---|---|---|---|",
    ]
    for target in ("corpus", "stream"):
        pal = r.get(f"palisade/{target}")
        for tool in ("palisade", "trivy", "checkov", "parse-floor"):
            row = r.get(f"{tool}/{target}")
            if not row:
                continue
            t = row["median_s"]
            rss = mb(row["peak_rss_bytes"]) if "peak_rss_bytes" in row else "–"
            mbps = sizes[target] / t / 1e6
            speed = f"{mbps:.1f} MB/s" if mbps >= 1 else f"{mbps:.2g} MB/s"
            if tool == "palisade" or not pal:
                ratio = "1×" if tool == "palisade" else "–"
            elif tool == "parse-floor":
                ratio = f"palisade takes {pal['median_s'] / t:.2f}× the floor"
            else:
                ratio = f"**{t / pal['median_s']:.1f}×** faster"
            label = "saphyr parse only (1 thread)" if tool == "parse-floor" else tool
            lines.append(f"| {target} ({mb(sizes[target])}) | {label} | {t:.3f} s | {speed} | {rss} | {ratio} |")
    return "\n".join(lines)


def rbac(results):
    r = load(results)
    lines = [
        "| input | roles | bindings | SAs | load (parse) | resolve | risk analysis | who-can query | findings |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for target in ("synthetic", "corpus"):
        p = r.get(f"phases/{target}")
        if p:
            lines.append(
                f"| {target} | {p['roles']} | {p['bindings']} | {p['service_accounts']} | {p['load_s']*1000:.0f} ms | "
                f"{p['resolve_s']*1000:.0f} ms | {p['analyze_s']*1000:.0f} ms | {p['who_can_s']*1000:.1f} ms | {p['findings']} |"
            )
    lines += ["", "| command (end to end, including parsing) | median wall | peak RSS |", "|---|---|---|"]
    for label in ("scan-rbac/synthetic", "who-can/synthetic", "scan-rbac/corpus"):
        row = r.get(label)
        if row:
            lines.append(f"| `{row['cmd'].split('/target/release/')[-1]}` | {row['median_s']:.3f} s | {mb(row['peak_rss_bytes'])} |")
    return "\n".join(lines)


def write(doc, name, body):
    text = open(doc).read() if os.path.exists(doc) else "# Benchmarks\n"
    begin, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{begin}\n{body}\n\nMachine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}.\n{end}"
    if begin in text and end in text:
        text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    open(doc, "w").write(text)
    print(body)


if __name__ == "__main__":
    kind = sys.argv[1]
    if kind == "config":
        write(sys.argv[5], "config", config(sys.argv[2], sys.argv[3], sys.argv[4]))
    elif kind == "rbac":
        write(sys.argv[3], "rbac", rbac(sys.argv[2]))
    else:
        sys.exit(f"unknown report {kind}")
