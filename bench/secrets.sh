#!/usr/bin/env bash
# Secret-scanning throughput of `palisade scan --scanners secret` against
# `trivy fs --scanners secret` on two large real trees of this machine: the
# Python standard library + site-packages and ~/.cargo/registry/src.
# Median of $RUNS runs (default 5) after one warm-up run (so files are in
# the page cache); peak RSS; findings of each tool (one extra run each).
# Trivy is slow here; TRIVY_RUNS (default $RUNS) can lower its run count,
# and SKIP_TRIVY=1 keeps Trivy's results from the previous run (for
# re-measuring palisade alone after a change).
# Writes bench/out/secrets.jsonl and the table in docs/benchmarks.md.
#
# usage: bench/secrets.sh     (needs /opt/anchors/trivy, see
#                              ../shared/tools/install-anchors.sh)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
anchors=${ANCHORS_DIR:-/opt/anchors}
runs=${RUNS:-5}
trivy_runs=${TRIVY_RUNS:-$runs}
out=$root/bench/out
mkdir -p "$out"
py=${PY_TREE:-/root/.pyenv/versions/3.11.7/lib/python3.11}
cargo_src=${CARGO_TREE:-$HOME/.cargo/registry/src}

cargo build --release --locked -q -p palisade --bin palisade
cargo build --release --locked -q -p palisade-secrets --example scan_tree
pal=$root/target/release/palisade
tree_stats=$root/target/release/examples/scan_tree

results=$out/secrets.jsonl
kept=$(mktemp)
if [ "${SKIP_TRIVY:-0}" = 1 ] && [ -f "$results" ]; then
  grep -E '"label": "(findings/)?trivy/' "$results" > "$kept" || true
fi
: > "$results"
cat "$kept" >> "$results"; rm -f "$kept"
measure() { python3 "$root/bench/measure.py" "$@" | tee -a "$results" >&2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for target in python cargo; do
  if [ "$target" = python ]; then path=$py; else path=$cargo_src; fi
  [ -d "$path" ] || { echo "skip $target: no $path" >&2; continue; }
  # What is there: every regular file, and what the library scans of it
  # (text files after .gitignore; binaries are sniffed and skipped).
  files=$(find "$path" -type f | wc -l)
  bytes=$(find "$path" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
  lib=$("$tree_stats" "$path")
  python3 - "$target" "$path" "$files" "$bytes" "$lib" >> "$results" <<'PY'
import json, sys
target, path, files, nbytes, lib = sys.argv[1:]
print(json.dumps({"label": f"tree/{target}", "path": path, "files": int(files), "bytes": int(nbytes), "library": json.loads(lib)}))
PY
  measure "$runs" "palisade/$target" -- "$pal" scan "$path" --scanners secret --format json --output "$tmp/p.json" --fail-on none --quiet --no-progress
  "$pal" scan "$path" --scanners secret --format json --output "$tmp/p.json" --fail-on none --quiet --no-progress || true
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(json.dumps({"label": "findings/palisade/'"$target"'", "findings": len([f for f in r["findings"] if "suppressed" not in f])}))' "$tmp/p.json" | tee -a "$results" >&2
  if [ -x "$anchors/trivy" ] && [ "${SKIP_TRIVY:-0}" != 1 ]; then
    trivy=("$anchors/trivy" fs --scanners secret --skip-db-update --skip-check-update --offline-scan --cache-dir "$tmp/trivy-cache" --format json --output "$tmp/t.json" --quiet "$path")
    measure "$trivy_runs" "trivy/$target" -- "${trivy[@]}"
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(json.dumps({"label": "findings/trivy/'"$target"'", "findings": sum(len(x.get("Secrets") or []) for x in r.get("Results") or [])}))' "$tmp/t.json" | tee -a "$results" >&2
  fi
done

python3 "$root/bench/secrets_report.py" "$results" "$root/docs/benchmarks.md"
