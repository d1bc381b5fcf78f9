#!/usr/bin/env bash
# Runs every fuzz target for $SECONDS_EACH seconds (default 120), seeded from
# the repository's own test fixtures, and prints libFuzzer's final stats
# (runs, exec/s, coverage) per target. Crashes land in fuzz/artifacts/.
# Needs a nightly toolchain and cargo-fuzz.
#
# usage: fuzz/run-all.sh [TARGET…]      (SECONDS_EACH=600 fuzz/run-all.sh scan_yaml)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/fuzz"
each=${SECONDS_EACH:-120}

# Seeds per target: in-repo fixtures, copied into the (ignored) corpus dir.
seeds() {
  case $1 in
    scan_yaml | split_documents) echo "$root/crates/palisade-k8s/tests/fixtures/rules $root/examples" ;;
    scan_secrets) echo "$root/crates/palisade-secrets/tests $root/examples" ;;
    secret_rules) echo "$root/crates/palisade-secrets/rules" ;;
    read_sbom) echo "$root/crates/palisade-sca/tests/fixtures/sbom" ;;
    catalogers) echo "$root/crates/palisade-sca/tests/fixtures/langs" ;;
    layer_apply) echo "" ;;
    advisories) echo "$root/crates/palisade-vuln/tests/fixtures/advisories" ;;
    admission_review) echo "$root/crates/palisade-admission/tests/fixtures/corpus" ;;
    audit_log) echo "$root/tests/fixtures/audit" ;;
  esac
}

targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list)
cargo +nightly fuzz build -O >/dev/null  # every target, once
for t in "${targets[@]}"; do
  corpus=corpus/$t
  mkdir -p "$corpus"
  for dir in $(seeds "$t"); do
    [ -d "$dir" ] && find "$dir" -type f -size -256k -exec cp -t "$corpus" {} + 2>/dev/null || true
  done
  # Built-in and user secret rules leak their metadata on purpose (one
  # compile per process; `&'static RuleMeta`), which every input repeats.
  extra=() leaks=1
  [ "$t" = secret_rules ] && extra=(-detect_leaks=0) leaks=0
  echo "== $t (${each}s)"
  ASAN_OPTIONS=detect_leaks=$leaks cargo +nightly fuzz run -O "$t" "$corpus" -- -max_total_time="$each" -print_final_stats=1 \
    -rss_limit_mb=2048 -timeout=10 "${extra[@]}" 2>&1 | grep -E '^(stat::|#[0-9]+[[:space:]]+DONE|==[0-9]+== ERROR|SUMMARY|artifact_prefix)' || true
done
