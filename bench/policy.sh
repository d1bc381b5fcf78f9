#!/usr/bin/env bash
# Cost of user policies in `palisade scan`: the Kubernetes corpus
# (../shared/corpus/k8s) scanned with the built-in rules alone, with the
# built-ins plus the example policies (20 Rego files with 21 rules, 11
# ValidatingAdmissionPolicies; the corpus brings two more real VAPs) on
# each Rego engine (the default interpreter and `--rego-engine vm`), and
# with the policies alone; Trivy's `config` scan as the anchor. The four
# palisade scans interleave (round by round, rotating order, so that drift
# on the shared machine hits each alike): median of $RUNS rounds (default
# 15) after a warm-up run, the median of the per-round ratios, and peak
# RSS. One extra run with
# PALISADE_POLICY_STATS=1 counts compilations and evaluated objects.
# Writes bench/out/policy.jsonl and the table in docs/benchmarks.md.
#
# usage: bench/policy.sh      (Trivy from /opt/anchors/trivy; SKIP_TRIVY=1 to skip it)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
anchors=${ANCHORS_DIR:-/opt/anchors}
runs=${RUNS:-15}
corpus=${CORPUS:-$root/../shared/corpus/k8s}
out=$root/bench/out
mkdir -p "$out"
results=$out/policy.jsonl
: > "$results"

cargo build --release --locked -q -p palisade --bin palisade
pal=$root/target/release/palisade
ex=$root/examples/policies
policies=(--policy "$ex/rego" --policy "$ex/vap" --data "$ex/data")
measure() { python3 "$root/bench/measure.py" "$@" | tee -a "$results" >&2; }

common=(scan "$corpus" --quiet --no-progress --fail-on none --skip-invalid --format json)
measure "$runs" builtins -- "$pal" "${common[@]}" --scanners config,rbac \
  --- builtins+policies -- "$pal" "${common[@]}" --scanners config,rbac,policy "${policies[@]}" \
  --- builtins+policies-vm -- "$pal" "${common[@]}" --scanners config,rbac,policy "${policies[@]}" --rego-engine vm \
  --- policies -- "$pal" "${common[@]}" --scanners policy "${policies[@]}"
if [ "${SKIP_TRIVY:-0}" != 1 ] && [ -x "$anchors/trivy" ]; then
  measure "${TRIVY_RUNS:-3}" trivy -- "$anchors/trivy" config --quiet --skip-check-update --format json "$corpus"
fi

# Compilations, objects and findings of one run with the policies.
stats=$(PALISADE_POLICY_STATS=1 "$pal" "${common[@]}" --scanners config,rbac,policy "${policies[@]}" 2>&1 >"$out/policy-report.json" | grep '^policy:' || true)
python3 - "$stats" "$out/policy-report.json" "$ex" >> "$results" <<'PY'
import json, re, sys, glob
stats, report, ex = sys.argv[1:]
m = re.search(r"(\d+) compilation\(s\), (\d+) objects evaluated", stats)
r = json.load(open(report))
policy_findings = sum(1 for f in r["findings"] if not f["code"].startswith(("K8S", "RBAC")))
rego_files = [p for p in glob.glob(f"{ex}/rego/*.rego") if not p.endswith("_test.rego") and "lib_" not in p]
print(json.dumps({"label": "stats", "compilations": int(m.group(1)), "objects": int(m.group(2)),
                  "policy_findings": policy_findings, "findings": len(r["findings"]),
                  "rego_policies": len(rego_files), "vap_files": len(glob.glob(f"{ex}/vap/*.yaml"))}))
PY
python3 "$root/bench/policy_report.py" "$results" "$root/docs/benchmarks.md"
