#!/usr/bin/env bash
# RBAC analysis at scale: a synthetic cluster (5,000 roles, 20,000 bindings,
# 2,000 service accounts; bench/gen_rbac.py) and the real RBAC corpus
# (../shared/corpus/rbac). Reports, median of $RUNS runs:
#   - phase timings from the rbac_timing example (load, resolve, risk
#     analysis, one who-can query),
#   - wall time and peak RSS of `palisade scan --scanners rbac` and of
#     `palisade rbac who-can` end to end.
# Writes bench/out/rbac.jsonl and the table in docs/benchmarks.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED:-$root/../shared}
runs=${RUNS:-5}
out=$root/bench/out
mkdir -p "$out"
cargo build --release --locked -q -p palisade --bin palisade
cargo build --release --locked -q -p palisade-k8s --example rbac_timing
pal=$root/target/release/palisade
timing=$root/target/release/examples/rbac_timing
synthetic=$out/synthetic-rbac.yaml
[ -s "$synthetic" ] || python3 "$root/bench/gen_rbac.py" "$synthetic"
results=$out/rbac.jsonl
: > "$results"

phases() { # label files...
  local label=$1; shift
  for _ in $(seq "$runs"); do "$timing" "$@"; done | python3 -c '
import json, statistics, sys
rows = [json.loads(l) for l in sys.stdin]
med = {k: statistics.median(r[k] for r in rows) for k in ("load_s", "resolve_s", "analyze_s", "who_can_s")}
first = rows[0]
print(json.dumps({"label": sys.argv[1], **{k: first[k] for k in ("roles", "bindings", "service_accounts", "findings")}, **med, "runs": len(rows)}))' "$label" | tee -a "$results" >&2
}

phases "phases/synthetic" "$synthetic"
mapfile -t corpus < <(find "$shared/corpus/rbac" -name '*.yaml' | sort)
phases "phases/corpus" "${corpus[@]}"

python3 "$root/bench/measure.py" "$runs" "scan-rbac/synthetic" -- "$pal" scan --scanners rbac "$synthetic" --format json --output "$out/rbac-report.json" --fail-on none --quiet | tee -a "$results" >&2
python3 "$root/bench/measure.py" "$runs" "who-can/synthetic" -- "$pal" rbac who-can get secrets -n team-001 "$synthetic" | tee -a "$results" >&2
python3 "$root/bench/measure.py" "$runs" "scan-rbac/corpus" -- "$pal" scan --scanners rbac "$shared/corpus/rbac" --format json --output "$out/rbac-corpus.json" --fail-on none --quiet | tee -a "$results" >&2

python3 "$root/bench/report.py" rbac "$results" "$root/docs/benchmarks.md"
