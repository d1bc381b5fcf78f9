#!/usr/bin/env python3
"""A large CycloneDX 1.6 SBOM for the matching benchmark: real package
names from the OSV advisories (PyPI, crates.io, Go), each at the versions
its advisories name (introduced, fixed, last_affected, listed versions), so
lookups hit and ranges are evaluated. Deterministic.

usage: gen_sbom.py ADVISORIES_DIR COUNT > sbom.cdx.json
"""
import glob
import json
import sys

PURL_TYPE = {"PyPI": "pypi", "crates.io": "cargo", "Go": "golang"}


def main():
    root, count = sys.argv[1], int(sys.argv[2])
    files = sorted(
        glob.glob(f"{root}/pypa/osv/*.json")
        + glob.glob(f"{root}/rustsec/crates/*.json")
        + glob.glob(f"{root}/go/data/osv/*.json")
    )
    seen = set()
    per_kind = {k: [] for k in PURL_TYPE.values()}
    for path in files:
        try:
            record = json.load(open(path))
        except (OSError, ValueError):
            continue
        for affected in record.get("affected", []):
            pkg = affected.get("package", {})
            kind = PURL_TYPE.get(pkg.get("ecosystem"))
            name = pkg.get("name")
            if not kind or not name or name == "stdlib":
                continue
            versions = list(affected.get("versions", []))
            for r in affected.get("ranges", []):
                for event in r.get("events", []):
                    versions += [v for k, v in event.items() if k != "limit" and v != "0"]
            for v in versions:
                if kind == "golang" and not v.startswith("v"):
                    v = "v" + v
                purl = f"pkg:{kind}/{name}@{v}"
                if purl in seen:
                    continue
                seen.add(purl)
                per_kind[kind].append({"type": "library", "bom-ref": purl, "name": name, "version": v, "purl": purl})
    # Round-robin over the ecosystems, so each is represented.
    components = []
    queues = [list(reversed(q)) for q in per_kind.values()]
    while len(components) < count and any(queues):
        for q in queues:
            if q and len(components) < count:
                components.append(q.pop())
    emit(components)


def emit(components):
    json.dump({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
               "metadata": {"component": {"type": "application", "name": "synthetic", "bom-ref": "synthetic"}},
               "components": components}, sys.stdout)


main()
