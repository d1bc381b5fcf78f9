#!/usr/bin/env python3
"""Writes the policy benchmark (bench/out/policy.jsonl) into
docs/benchmarks.md between `<!-- bench:policy -->` and `<!-- /bench:policy -->`.

usage: policy_report.py RESULTS DOC
"""
import json
import os
import platform
import re
import statistics
import sys


def main():
    results, doc = sys.argv[1:]
    r = {x["label"]: x for x in map(json.loads, open(results)) if x.get("label")}
    base, both, only, stats = r["builtins"], r["builtins+policies"], r["policies"], r["stats"]
    vm = r.get("builtins+policies-vm")
    objects = stats["objects"]
    policies = stats["rego_policies"] + stats["vap_files"]
    extra = both["median_s"] - base["median_s"]
    lines = [
        f"`bench/policy.sh` on `../shared/corpus/k8s` ({objects} objects), {os.cpu_count()} cores, "
        f"{platform.machine()}; the palisade scans interleaved round by round (rotating order), "
        f"median of {base['runs']} rounds after a warm-up, peak RSS.",
        "",
        "| scan | median wall | peak RSS | vs built-ins alone |",
        "|---|---|---|---|",
    ]
    rows = [("built-in rules alone (`--scanners config,rbac`)", base),
            (f"built-ins + {stats['rego_policies']} Rego policies + {stats['vap_files']} VAPs", both)]
    if vm:
        rows.append(("the same with `--rego-engine vm`", vm))
    rows.append(("policies alone (`--scanners policy`)", only))
    for label, row in rows:
        ratio = row["median_s"] / base["median_s"]
        lines.append(f"| {label} | {row['median_s']:.3f} s | {row['peak_rss_bytes'] / 1e6:.0f} MB | {ratio:.2f}× |")
    if "trivy" in r:
        t = r["trivy"]
        lines.append(f"| Trivy `config` (anchor, its built-in checks) | {t['median_s']:.3f} s | "
                     f"{t['peak_rss_bytes'] / 1e6:.0f} MB | {t['median_s'] / base['median_s']:.2f}× "
                     f"(built-ins + policies are {t['median_s'] / both['median_s']:.1f}× faster) |")
    pairs = sorted(b / a for a, b in zip(base["walls_s"], both["walls_s"]))
    under = sum(1 for p in pairs if p < 2)
    lines += [
        "",
        f"- Overhead of the policies: {extra * 1000:.0f} ms per scan, "
        f"{extra / objects * 1e6:.0f} µs per object, {extra / objects / policies * 1e6:.1f} µs per object and policy "
        f"({policies} policy files; the corpus adds its own 2 VAPs).",
        f"- Compilation: {stats['compilations']} per run (the Rego set once, the VAP set once), never per object or file.",
        f"- Findings: {stats['findings']} in total, {stats['policy_findings']} from policies.",
        f"- Per round (built-ins + policies over built-ins alone, same round): median "
        f"{statistics.median(pairs):.2f}×, range {pairs[0]:.2f}–{pairs[-1]:.2f}×, {under} of {len(pairs)} rounds under 2×.",
        f"- Target: policies add less than 2× to the scan: {both['median_s'] / base['median_s']:.2f}× (ratio of the medians).",
    ]
    if vm:
        vm_pairs = sorted(b / a for a, b in zip(base["walls_s"], vm["walls_s"]))
        lines.append(
            f"- With `--rego-engine vm`: {vm['median_s'] / base['median_s']:.2f}× (ratio of the medians); per round median "
            f"{statistics.median(vm_pairs):.2f}×, range {vm_pairs[0]:.2f}–{vm_pairs[-1]:.2f}×, "
            f"{sum(1 for p in vm_pairs if p < 2)} of {len(vm_pairs)} rounds under 2×.")
    table = "\n".join(lines)
    text = open(doc).read() if os.path.exists(doc) else "# Benchmarks\n"
    begin, end = "<!-- bench:policy -->", "<!-- /bench:policy -->"
    block = f"{begin}\n{table}\n{end}"
    if begin in text:
        text = re.sub(re.escape(begin) + r".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip("\n") + f"\n\n## Policies (Rego and ValidatingAdmissionPolicies)\n\n{block}\n"
    open(doc, "w").write(text)
    print(table)


if __name__ == "__main__":
    main()
