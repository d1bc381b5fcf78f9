#!/usr/bin/env python3
"""Compares palisade's and Trivy's CycloneDX SBOMs per target (components per
ecosystem, purls found by one only) and writes the tables into
docs/benchmarks.md between `<!-- bench:sbom -->` and `<!-- /bench:sbom -->`.
Full purl differences go to bench/out/sbom-diff-<target>.txt.

Purls are compared by identity: type, namespace, name and version, without
qualifiers (Trivy writes `distro=debian-12.15` from /etc/debian_version,
palisade `distro=debian-12` from os-release; both put the epoch in `epoch=`).

usage: sbom_report.py OUT_DIR DOC
"""
import json
import os
import re
import sys
from collections import Counter
from urllib.parse import unquote


def identity(purl):
    p = purl.split("#")[0].split("?")[0]
    body = p[len("pkg:"):]
    ty, _, rest = body.partition("/")
    name_part, _, version = rest.rpartition("@") if "@" in rest.split("/")[-1] else (rest, "", "")
    segs = [unquote(s) for s in name_part.split("/")]
    ty = ty.lower()
    if ty in ("npm", "pypi", "deb", "apk", "composer"):
        segs = [s.lower() for s in segs]
    if ty == "pypi":
        segs = [re.sub(r"[-_.]+", "-", s) for s in segs]
    return f"{ty}/{'/'.join(segs)}@{unquote(version)}"


def purls(path):
    if not os.path.exists(path):
        return None
    doc = json.load(open(path))
    out = set()

    def walk(cs):
        for c in cs or []:
            if c.get("purl") and c.get("type") not in ("operating-system", "container", "application"):
                out.add(identity(c["purl"]))
            walk(c.get("components"))

    walk(doc.get("components"))
    return out


def main():
    out_dir, doc_path = sys.argv[1], sys.argv[2]
    runs = {r["label"]: r for r in map(json.loads, open(os.path.join(out_dir, "sbom.jsonl"))) if r.get("label")}
    names = []
    for r in runs:
        n = r.split("/", 1)[1]
        if n not in names:
            names.append(n)
    lines = ["### Components per ecosystem (unique purl identities)", "",
             "| target | ecosystem | palisade | Trivy | only palisade | only Trivy |", "|---|---|---|---|---|---|"]
    perf = ["### Speed and memory (median of the runs, same machine, Trivy with `--cache-backend memory`)", "",
            "| target | palisade wall | Trivy wall | palisade speed-up | palisade peak RSS | Trivy peak RSS "
            "| gzip inflate alone (ceiling) |", "|---|---|---|---|---|---|---|"]
    for n in names:
        p = purls(os.path.join(out_dir, f"sbom-{n}.palisade.cdx.json")) or set()
        t = purls(os.path.join(out_dir, f"sbom-{n}.trivy.cdx.json")) or set()
        eco = lambda s: Counter(x.split("/")[0] for x in s)
        pe, te = eco(p), eco(t)
        only_p, only_t = p - t, t - p
        ope, ote = eco(only_p), eco(only_t)
        for e in sorted(set(pe) | set(te)):
            lines.append(f"| {n} | {e} | {pe[e]} | {te[e]} | {ope[e]} | {ote[e]} |")
        with open(os.path.join(out_dir, f"sbom-diff-{n}.txt"), "w") as f:
            f.write(f"# only palisade ({len(only_p)})\n" + "".join(x + "\n" for x in sorted(only_p)))
            f.write(f"# only trivy ({len(only_t)})\n" + "".join(x + "\n" for x in sorted(only_t)))
        rp, rt = runs.get(f"palisade/{n}"), runs.get(f"trivy/{n}")
        ri = runs.get(f"inflate/{n}")
        if rp and rt:
            floor = f"{ri['median_s']:.3f} s ({rt['median_s'] / ri['median_s']:.1f}x)" if ri else "–"
            perf.append(
                f"| {n} | {rp['median_s']:.3f} s | {rt['median_s']:.3f} s | {rt['median_s'] / rp['median_s']:.1f}x "
                f"| {rp['peak_rss_bytes'] / 1e6:.0f} MB | {rt['peak_rss_bytes'] / 1e6:.0f} MB | {floor} |")
    runs_n = sorted({r["runs"] for r in runs.values()})
    block = "\n".join([
        f"Command: `bench/sbom.sh /work/sbom-targets` (runs per measurement: {', '.join(map(str, runs_n))}; "
        f"machine: {os.cpu_count()} cores, shared). Differences per target: `bench/out/sbom-diff-TARGET.txt`.", "",
        *perf, "", *lines,
    ])
    doc = open(doc_path).read()
    start, end = "<!-- bench:sbom -->", "<!-- /bench:sbom -->"
    if start in doc:
        doc = re.sub(re.escape(start) + ".*?" + re.escape(end), start + "\n" + block + "\n" + end, doc, flags=re.S)
    else:
        doc = doc.rstrip("\n") + "\n\n## SBOM generation (`palisade sbom` vs `trivy`)\n\n" + start + "\n" + block + "\n" + end + "\n"
    open(doc_path, "w").write(doc)
    print(block)


if __name__ == "__main__":
    main()
