#!/usr/bin/env bash
# Throughput of `palisade scan` (config rules) against Trivy and Checkov on
# ../shared/corpus/k8s and on a ~50 MB stream made by concatenating it,
# plus the YAML parse floor (saphyr events only, one thread).
# Median of $RUNS runs (default 5) after one warm-up run; peak RSS per tool.
# Writes bench/out/config.jsonl and the table in docs/benchmarks.md.
#
# TARGETS="corpus" skips the 50 MB stream; SKIP_TRIVY=1 / SKIP_CHECKOV=1
# leave an anchor out (Trivy takes about 3 minutes per run on the corpus
# here; Checkov did not finish the stream in 10 minutes).
#
# usage: bench/config.sh            (needs ../shared and /opt/anchors; see
#                                    ../shared/tools/install-anchors.sh)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED:-$root/../shared}
corpus=$shared/corpus/k8s
anchors=${ANCHORS_DIR:-/opt/anchors}
runs=${RUNS:-5}
slow_runs=${SLOW_RUNS:-$runs}  # Trivy and Checkov
out=$root/bench/out
mkdir -p "$out"
[ -d "$corpus" ] || { echo "no corpus at $corpus" >&2; exit 2; }

cargo build --release --locked -q -p palisade --bin palisade
cargo build --release --locked -q -p palisade-k8s --example parse_floor
pal=$root/target/release/palisade
floor=$root/target/release/examples/parse_floor

# The ~50 MB stream: the corpus, document-separated, repeated.
find "$corpus" -type f \( -name '*.yaml' -o -name '*.yml' \) | sort > "$out/corpus-files.txt"
stream=$out/stream.yaml
if [ ! -s "$stream" ]; then
  : > "$stream"
  while [ "$(stat -c %s "$stream")" -lt 50000000 ]; do
    while read -r f; do printf -- '---\n' >> "$stream"; cat "$f" >> "$stream"; printf '\n' >> "$stream"; done < "$out/corpus-files.txt"
  done
fi
corpus_bytes=$(xargs -d '\n' -a "$out/corpus-files.txt" cat | wc -c)
stream_bytes=$(stat -c %s "$stream")
echo "corpus: $(wc -l < "$out/corpus-files.txt") files, $corpus_bytes bytes; stream: $stream_bytes bytes" >&2

results=$out/config.jsonl
: > "$results"
measure() { python3 "$root/bench/measure.py" "$@" | tee -a "$results" >&2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for target in ${TARGETS:-corpus stream}; do
  if [ "$target" = corpus ]; then path=$corpus; else path=$stream; fi
  measure "$runs" "palisade/$target" -- "$pal" scan "$path" --format json --output "$tmp/p.json" --fail-on none --quiet
  if [ "${SKIP_TRIVY:-0}" != 1 ] && [ -x "$anchors/trivy" ]; then
    measure "$slow_runs" "trivy/$target" -- "$anchors/trivy" config --quiet --skip-check-update --cache-dir "$tmp/trivy-cache" --format json --output "$tmp/t.json" "$path"
  fi
  if [ "${SKIP_CHECKOV:-0}" != 1 ] && [ -x "$anchors/checkov/bin/checkov" ]; then
    if [ "$target" = corpus ]; then ck=(-d "$path"); else ck=(-f "$path"); fi
    measure "$slow_runs" "checkov/$target" -- "$anchors/checkov/bin/checkov" "${ck[@]}" --framework kubernetes --quiet --compact -o json --skip-download
  fi
done

# Parse floor: median of $runs single-threaded parses of the same bytes.
for target in corpus stream; do
  if [ "$target" = corpus ]; then arg=@$out/corpus-files.txt; else arg=$stream; fi
  for _ in $(seq "$runs"); do "$floor" "$arg"; done \
    | python3 -c 'import json,sys,statistics; r=[json.loads(l) for l in sys.stdin]; print(json.dumps({"label": "parse-floor/'"$target"'", "median_s": statistics.median(x["parse_s"] for x in r), "runs": len(r)}))' \
    | tee -a "$results" >&2
done

python3 "$root/bench/report.py" config "$results" "$corpus_bytes" "$stream_bytes" "$root/docs/benchmarks.md"
