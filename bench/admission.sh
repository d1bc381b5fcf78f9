#!/usr/bin/env bash
# Latency of `palisade admission serve` under load: wrk (Debian's) POSTs a
# realistic Pod review and a Deployment review, alternating, over TLS with
# keep-alive, paced at increasing rates for $DURATION seconds each (default
# 30); $RUNS runs per rate (default 3), medians reported. The webhook runs
# with 20 built-in rules and 10 Rego policies (bench/admission/config.yaml).
# Memory: the server's RSS sampled every second during each run.
# There is no anchor tool for this (Trivy has no admission webhook); the
# target is p99 < 2 ms at 1,000 requests/s with zero errors.
# Writes bench/out/admission.jsonl and the table in docs/benchmarks.md.
#
# The policies run on the webhook's default engine, regorus' VM;
# REGO_ENGINE=interpreter runs them on the interpreter and writes its own
# table (bench/out/admission-interpreter.jsonl, admission_cost-interpreter.jsonl).
#
# usage: bench/admission.sh   [RATES="500 1000 2000 4000" RUNS=3 DURATION=30 REGO_ENGINE=interpreter PALISADE_BIN=…]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rates=${RATES-500 1000 2000 4000}
runs=${RUNS:-3}
duration=${DURATION:-30}
out=$root/bench/out
mkdir -p "$out"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

# PALISADE_BIN: a release binary to use instead of building one.
if [ -n "${PALISADE_BIN:-}" ]; then
  pal=$PALISADE_BIN
else
  cargo build --release --locked -q -p palisade --bin palisade
  pal=$root/target/release/palisade
fi
tmp=$(mktemp -d)
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

"$pal" admission certs --out-dir "$tmp/certs" --san 127.0.0.1 >/dev/null
cp "$root/bench/admission/config.yaml" "$tmp/config.yaml"
engine=${REGO_ENGINE:-vm}
echo "rego-engine: $engine" >> "$tmp/config.yaml"
suffix=
if [ "$engine" != vm ]; then suffix=-$engine; fi
cp -r "$root/examples/policies/rego" "$tmp/rego"
port=${PORT:-18443}
health=${HEALTH_PORT:-18080}
"$pal" admission serve --config "$tmp/config.yaml" --cert "$tmp/certs/tls.crt" --key "$tmp/certs/tls.key" \
  --listen "127.0.0.1:$port" --health-listen "127.0.0.1:$health" > "$tmp/server.log" &
server=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$health/readyz" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$health/readyz" >/dev/null || { cat "$tmp/server.log"; exit 1; }
grep -o '"rules":[0-9]*,"policy_rules":[0-9]*' "$tmp/server.log" | head -1 >&2 || true

# Sanity: both reviews are answered (the Pod is denied, the Deployment allowed).
for b in pod deployment; do
  curl -sk --cacert "$tmp/certs/ca.crt" -H 'content-type: application/json' \
    --data-binary "@$root/bench/admission/$b.json" "https://127.0.0.1:$port/validate" \
    | python3 -c 'import json,sys; r=json.load(sys.stdin)["response"]; print("'$b'", "allowed" if r["allowed"] else "denied", file=sys.stderr)'
done
# Warm-up.
BODIES=$root/bench/admission RATE=500 CONNS=10 wrk -t2 -c10 -d5s -s "$root/bench/admission/wrk.lua" "https://127.0.0.1:$port" >/dev/null

results=$out/admission$suffix.jsonl
[ -n "$rates" ] && : > "$results"
for rate in $rates; do
  conns=$(( rate / 50 )); [ "$conns" -lt 4 ] && conns=4
  for run in $(seq "$runs"); do
    rss_log=$tmp/rss.$rate.$run
    ( while kill -0 "$server" 2>/dev/null; do awk '/VmRSS/ {print $2}' "/proc/$server/status"; sleep 1; done ) > "$rss_log" &
    sampler=$!
    line=$(BODIES=$root/bench/admission RATE=$rate CONNS=$conns \
      wrk -t2 -c"$conns" -d"${duration}s" --timeout 5s -s "$root/bench/admission/wrk.lua" "https://127.0.0.1:$port" | grep '^RESULT ' | sed 's/^RESULT //')
    kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
    python3 - "$rate" "$run" "$conns" "$rss_log" "$line" >> "$results" <<'PY'
import json, sys
rate, run, conns, rss_log, line = sys.argv[1:]
r = json.loads(line)
rss = [int(x) for x in open(rss_log).read().split() if x.strip().isdigit()]
r.update(label=f"rate/{rate}", rate=int(rate), run=int(run), connections=int(conns),
         achieved_rps=r["requests"] / (r["duration_us"] / 1e6),
         rss_kib_first=rss[0] if rss else 0, rss_kib_last=rss[-1] if rss else 0, rss_kib_max=max(rss) if rss else 0)
print(json.dumps(r))
PY
    tail -1 "$results" >&2
  done
done
curl -sf "http://127.0.0.1:$health/metrics" > "$tmp/metrics.txt"
grep -E '^palisade_admission_(errors_total|decisions_total|request_duration_seconds_count)' "$tmp/metrics.txt" >&2 || true
kill "$server"; wait "$server" 2>/dev/null || true; server=

# Cost per request, which does not depend on the rate: the server's CPU
# time (utime + stime) over $COST_SECONDS s at 200 requests/s, divided by
# the requests, for the benchmark's configuration, without the Rego
# policies, and without any rule (TLS, HTTP, JSON and the pipeline alone).
cost=$out/admission_cost$suffix.jsonl
: > "$cost"
grep -v -e '^  - rego/' -e '^policies:' "$tmp/config.yaml" > "$tmp/no-rego.yaml"
printf 'rules:\n  disable: ["*"]\nimages:\n  deny-latest: false\n' > "$tmp/no-rules.yaml"
for variant in config no-rego no-rules; do
  "$pal" admission serve --config "$tmp/$variant.yaml" --cert "$tmp/certs/tls.crt" --key "$tmp/certs/tls.key" \
    --listen "127.0.0.1:$port" --health-listen "127.0.0.1:$health" > "$tmp/server.$variant.log" &
  server=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$health/readyz" >/dev/null && break; sleep 0.1; done
  t0=$(awk '{print $14 + $15}' "/proc/$server/stat")
  line=$(BODIES=$root/bench/admission RATE=200 CONNS=4 wrk -t1 -c4 -d"${COST_SECONDS:-15}s" -s "$root/bench/admission/wrk.lua" "https://127.0.0.1:$port" | grep '^RESULT ' | sed 's/^RESULT //')
  t1=$(awk '{print $14 + $15}' "/proc/$server/stat")
  metrics=$(curl -sf "http://127.0.0.1:$health/metrics")
  kill "$server"; wait "$server" 2>/dev/null || true; server=
  python3 - "$variant" "$t0" "$t1" "$(getconf CLK_TCK)" "$line" "$metrics" >> "$cost" <<'PY'
import json, sys
variant, t0, t1, hz, line, metrics = sys.argv[1:]
r = json.loads(line)
m = dict(l.rsplit(" ", 1) for l in metrics.splitlines() if l.startswith("palisade_admission_request_duration_seconds_"))
r.update(label=f"cost/{variant}", variant=variant,
         cpu_ms_per_request=(float(t1) - float(t0)) / float(hz) * 1000 / r["requests"],
         server_mean_ms=float(m["palisade_admission_request_duration_seconds_sum"]) / float(m["palisade_admission_request_duration_seconds_count"]) * 1000)
print(json.dumps(r))
PY
  tail -1 "$cost" >&2
done
python3 "$root/bench/admission/report.py" "$results" "$root/docs/benchmarks.md" "$duration" "$runs" "$cost" "$engine"
