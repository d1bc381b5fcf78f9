#!/usr/bin/env python3
"""Turns bench/out/secrets.jsonl into a Markdown table and writes it into
docs/benchmarks.md between `<!-- bench:secrets -->` and
`<!-- /bench:secrets -->`.

usage: secrets_report.py RESULTS DOC
"""
import json
import os
import platform
import re
import sys


def main(results, doc):
    rows = [json.loads(line) for line in open(results) if line.strip()]
    r = {x["label"]: x for x in rows}
    cores = os.cpu_count() or 1
    lines = [
        "| tree | files (text scanned / binary skipped) | bytes (all / text) | tool | median wall | runs | throughput (all bytes) | per core | text per core | peak RSS | findings | palisade speed-up |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for target in ("python", "cargo"):
        tree = r.get(f"tree/{target}")
        pal = r.get(f"palisade/{target}")
        if not tree or not pal:
            continue
        lib = tree["library"]
        for tool in ("palisade", "trivy"):
            row = r.get(f"{tool}/{target}")
            if not row:
                continue
            t = row["median_s"]
            mbs = tree["bytes"] / t / 1e6
            text_core = f"{lib['bytes'] / t / 1e6 / cores:.0f} MB/s" if tool == "palisade" else "–"
            speed = "1×" if tool == "palisade" else f"**{t / pal['median_s']:.0f}×**"
            findings = r.get(f"findings/{tool}/{target}", {}).get("findings", "?")
            lines.append(
                f"| {target} | {tree['files']} ({lib['files']} / {lib['binary_skipped']}) | "
                f"{tree['bytes'] / 1e6:.0f} MB / {lib['bytes'] / 1e6:.0f} MB | {tool} | {t:.2f} s | {row['runs']} | "
                f"{mbs:.0f} MB/s | {mbs / cores:.0f} MB/s | {text_core} | {row['peak_rss_bytes'] / 1e6:.0f} MB | {findings} | {speed} |"
            )
    body = "\n".join(lines)
    body += (
        "\n\nCommand: `bench/secrets.sh` (median after one warm-up run, so files are in the page cache). "
        "*All bytes* counts every regular file of the tree, *text* only what palisade's scanner reads after "
        "binary sniffing and `.gitignore` (from `cargo run --release -p palisade-secrets --example scan_tree`). "
        f"Per-core figures divide by the machine's {cores} cores."
    )
    text = open(doc).read() if os.path.exists(doc) else "# Benchmarks\n"
    begin, end = "<!-- bench:secrets -->", "<!-- /bench:secrets -->"
    block = f"{begin}\n{body}\n\nMachine: {platform.machine()}, {cores} cores, {platform.system()} {platform.release()}.\n{end}"
    if begin in text and end in text:
        text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n## Secret scanning\n\n" + block + "\n"
    open(doc, "w").write(text)
    print(body)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
