#!/usr/bin/env bash
# Advisory database and vulnerability matching benchmark (issue 6).
#
#   bench/vuln.sh            # import all of ../shared/advisories, then match
#   RUNS=5 bench/vuln.sh     # runs per measurement (median reported)
#
# 1. `palisade db import` of every source in ../shared/advisories into a
#    fresh database: wall time, peak RSS, store size (median of RUNS).
# 2. SBOMs of the make-sbom-targets.sh targets (from /work/sbom-targets,
#    built by the SBOM benchmark; not rebuilt here) and of this machine's /
#    (palisade sbom --rootfs, skipping /proc /sys /dev /tmp /work), made once;
#    then `palisade vuln SBOM` timed on each (median of RUNS); plus a
#    synthetic SBOM of 16,000 components named in the advisories
#    (bench/gen_sbom.py). NAMES="synthetic-16k" limits the matching runs.
# Trivy is not run for matching: it needs its own vulnerability database,
# which cannot be downloaded here (no network but the package registries).
# Results: bench/out/vuln.jsonl; docs/benchmarks.md between the
# `bench:vuln` markers is written by hand from them.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
ADV=${ADVISORIES:-../shared/advisories}
TARGETS=${TARGETS:-/work/sbom-targets}
OUT=bench/out
mkdir -p "$OUT"
# BIN=path/to/palisade uses an already built release binary.
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN=$PWD/target/release/palisade
fi
DB=$(mktemp -d)
trap 'rm -rf "$DB"' EXIT
RESULTS=$OUT/vuln.jsonl
: > "$RESULTS"

python3 bench/measure.py "$RUNS" "import all advisories" -- \
  sh -c "rm -rf '$DB/db' && '$BIN' db import -q --db '$DB/db' '$ADV'" >> "$RESULTS"
"$BIN" db import -q --db "$DB/db" "$ADV" || true
size=$(stat -c %s "$DB/db/advisories.redb")
count=$("$BIN" db info --db "$DB/db" --format json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["advisories"])')
echo "{\"label\": \"store\", \"bytes\": $size, \"advisories\": $count}" >> "$RESULTS"

sbom() { # name, palisade sbom args...
  local name=$1; shift
  local f="$OUT/vuln-sbom-$name.cdx.json"
  [ -s "$f" ] || "$BIN" sbom --quiet --no-progress "$@" -o "$f" || true
  echo "$f"
}
declare -A SBOMS
SBOMS[py-venv]=$(sbom py-venv "$TARGETS/py-venv")
SBOMS[rust-app]=$(sbom rust-app "$TARGETS/rust-app")
SBOMS[node-app]=$(sbom node-app "$TARGETS/node-app")
SBOMS[oci-apps]=$(sbom oci-apps "$TARGETS/oci-apps")
SBOMS[rootfs-bookworm]=$(sbom rootfs-bookworm --rootfs "$TARGETS/rootfs-bookworm")
SBOMS[root]=$(sbom root --rootfs / --skip-dirs proc,sys,dev,tmp,work,run)
# 16,000 components with real advisory package names (bench/gen_sbom.py).
SBOMS[synthetic-16k]=$OUT/vuln-sbom-synthetic-16k.cdx.json
python3 bench/gen_sbom.py "$ADV" 16000 > "${SBOMS[synthetic-16k]}"
for name in ${NAMES:-py-venv rust-app node-app oci-apps rootfs-bookworm root synthetic-16k}; do
  f=${SBOMS[$name]}
  [ -s "$f" ] || { echo "skip $name: no SBOM" >&2; continue; }
  n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1])).get("components",[])))' "$f")
  python3 bench/measure.py "$RUNS" "vuln $name ($n components)" -- \
    "$BIN" vuln --db "$DB/db" --format json "$f" >> "$RESULTS"
  "$BIN" vuln --db "$DB/db" --fail-on none --format json "$f" 2>/dev/null \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps({"label": "findings '"$name"'", "findings": d["summary"]["findings"], "errors": d["summary"]["errors"]}))' >> "$RESULTS" || true
done
cat "$RESULTS"
