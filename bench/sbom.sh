#!/usr/bin/env bash
# palisade sbom vs Trivy on the targets of ../shared/tools/make-sbom-targets.sh
# and on this machine's / (skipping /proc /sys /dev /tmp): component counts per
# ecosystem side by side, the purls one finds and the other does not, median
# wall time and peak RSS. Results: bench/out/sbom*.{jsonl,txt}, and the table
# in docs/benchmarks.md between the bench:sbom markers.
#
# usage: bench/sbom.sh [TARGETS_DIR] [RUNS]   (defaults: /work/sbom-targets, 5)
# Build the targets first:  sudo ../shared/tools/make-sbom-targets.sh /work/sbom-targets
set -euo pipefail
cd "$(dirname "$0")/.."
T=${1:-/work/sbom-targets}
RUNS=${2:-5}
ROOT_RUNS=${ROOT_RUNS:-$RUNS}
TRIVY=${TRIVY:-/opt/anchors/trivy}
OUT=bench/out
mkdir -p "$OUT"
# PAL=path/to/palisade uses a binary built elsewhere (e.g. another target dir).
if [ -z "${PAL:-}" ]; then
  cargo build --release --quiet --bin palisade
  PAL=target/release/palisade
fi
# The floor on gzip images: inflating their layers, nothing else.
cargo build --release --quiet -p palisade-sca --example inflate
INFLATE=target/release/examples/inflate
: > "$OUT/sbom.jsonl"
# Trivy keeps an analysis cache; use the in-memory one so every run does the work.
TRIVY_COMMON=(--cache-backend memory --quiet --format cyclonedx)

# name | palisade args | trivy args
targets=(
  "node-app|$T/node-app|fs $T/node-app"
  "py-venv|$T/py-venv|rootfs $T/py-venv"
  "rust-app|$T/rust-app|fs $T/rust-app"
  "rootfs-bookworm|--rootfs $T/rootfs-bookworm|rootfs $T/rootfs-bookworm"
  "oci-bookworm|$T/oci-bookworm|image --input $T/oci-bookworm"
  "bookworm-docker-archive|$T/bookworm-docker-archive.tar|image --input $T/bookworm-docker-archive.tar"
  "oci-apps|$T/oci-apps|image --input $T/oci-apps"
  "apps-docker-archive|$T/apps-docker-archive.tar|image --input $T/apps-docker-archive.tar"
  # Trivy cannot analyse JARs offline (it needs its Java DB from a registry this
  # machine cannot reach, and then fails the whole scan), so it skips them on /.
  "root|--rootfs / --skip-dirs /proc,/sys,/dev,/tmp|rootfs / --skip-dirs /proc,/sys,/dev,/tmp --skip-files **/*.jar --skip-files **/*.war --skip-files **/*.ear"
)
set -f  # the Trivy arguments carry globs for Trivy, not for the shell
for t in "${targets[@]}"; do
  IFS='|' read -r name pargs targs <<<"$t"
  runs=$RUNS; [ "$name" = root ] && runs=$ROOT_RUNS
  echo "== $name" >&2
  # One SBOM from each for the comparison.
  # shellcheck disable=SC2086
  $PAL sbom $pargs --skip-invalid --quiet -o "$OUT/sbom-$name.palisade.cdx.json" || true
  # shellcheck disable=SC2086
  $TRIVY $targs "${TRIVY_COMMON[@]}" -o "$OUT/sbom-$name.trivy.cdx.json" 2>/dev/null || true
  # shellcheck disable=SC2086
  python3 bench/measure.py "$runs" "palisade/$name" -- $PAL sbom $pargs --skip-invalid --quiet -o /dev/null >> "$OUT/sbom.jsonl"
  # shellcheck disable=SC2086
  python3 bench/measure.py "$runs" "trivy/$name" -- $TRIVY $targs "${TRIVY_COMMON[@]}" -o /dev/null >> "$OUT/sbom.jsonl"
  if [ -d "$pargs/blobs" ]; then
    gz=()
    while IFS= read -r b; do
      if [ "$(head -c2 "$b" | od -An -tx1 | tr -d ' ')" = 1f8b ]; then gz+=("$b"); fi
    done < <(find "$pargs/blobs" -type f | sort)
    if [ ${#gz[@]} -gt 0 ]; then
      python3 bench/measure.py "$runs" "inflate/$name" -- $INFLATE "${gz[@]}" >> "$OUT/sbom.jsonl"
    fi
  fi
done
python3 bench/sbom_report.py "$OUT" docs/benchmarks.md
