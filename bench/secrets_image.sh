#!/usr/bin/env bash
# Secret scanning of a container image: `palisade scan --scanners secret
# --image` against `trivy image --input --scanners secret` on a
# docker-archive built from real trees of this machine (bench/make_image.py:
# the Python standard library, botocore and boto3, a whiteout, an app with
# synthetic tokens), and on the same layers gzip-compressed in an OCI layout.
# Median of $RUNS runs (default 5) after a warm-up; peak RSS; findings.
# Trivy runs with its in-memory cache so no run reuses an earlier one's
# layer analysis.
#
# usage: bench/secrets_image.sh   (Trivy from /opt/anchors/trivy; SKIP_TRIVY=1 to skip it)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
anchors=${ANCHORS_DIR:-/opt/anchors}
runs=${RUNS:-5}
out=$root/bench/out
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cargo build --release --locked -q -p palisade --bin palisade
pal=$root/target/release/palisade
python3 "$root/bench/make_image.py" "$tmp/bench-python.tar" "$tmp/oci-gzip"
results=$out/secrets_image.jsonl
: > "$results"
measure() { python3 "$root/bench/measure.py" "$@" | tee -a "$results" >&2; }
for kind in docker-archive oci-gzip; do
  if [ "$kind" = docker-archive ]; then image=$tmp/bench-python.tar; else image=$tmp/oci-gzip; fi
  measure "$runs" "palisade/$kind" -- "$pal" scan --scanners secret --image "$image" --format json --output "$tmp/p.json" --fail-on none --quiet --no-progress
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(json.dumps({"label": "findings/palisade/'"$kind"'", "findings": len(r["findings"]), "files": r["summary"]["files"]}))' "$tmp/p.json" | tee -a "$results" >&2
  if [ -x "$anchors/trivy" ] && [ "${SKIP_TRIVY:-0}" != 1 ]; then
    measure "$runs" "trivy/$kind" -- "$anchors/trivy" image --input "$image" --scanners secret --skip-db-update --skip-check-update --offline-scan --cache-backend memory --format json --output "$tmp/t.json" --quiet
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(json.dumps({"label": "findings/trivy/'"$kind"'", "findings": sum(len(x.get("Secrets") or []) for x in r.get("Results") or [])}))' "$tmp/t.json" | tee -a "$results" >&2
  fi
done
