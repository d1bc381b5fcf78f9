#!/usr/bin/env bash
# Cost of `palisade guard`: latency added to each exec of an image binary
# on a guarded overlay, and to each plain open of an image file, against
# the same overlay unguarded, in the same run.
#
# Each round runs COUNT execs (default 10,000) and OPENS opens (default
# 100,000) unguarded, with a control responder that answers every exec
# event "allow" at once (examples/allow_all.rs: the kernel's own cost of
# a permission event, the floor for any guard), with the guard (enforce
# mode, exec marks only), and with the guard and the interpreter option
# (exec + open marks); the order rotates between rounds. Reported: per condition, the median over
# ROUNDS rounds (default 5) of each round's median and p99, and the added
# latency (guarded minus unguarded, per round, then the median of those).
# Writes bench/out/guard.jsonl and the table in docs/benchmarks.md.
#
# usage: sudo bench/guard.sh          (root: it mounts a tmpfs and an overlay)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
count=${COUNT:-10000}
opens=${OPENS:-100000}
rounds=${ROUNDS:-5}
out=$root/bench/out
mkdir -p "$out"
[ "$(id -u)" = 0 ] || { echo "bench/guard.sh needs root (fanotify permission events, mounts)" >&2; exit 2; }

cargo build --release --locked -q -p palisade --bin palisade
cargo build --release --locked -q -p palisade-guard --example exec_latency --example allow_all
pal=$root/target/release/palisade
lat=$root/target/release/examples/exec_latency
allow_all=$root/target/release/examples/allow_all

tmp=$(mktemp -d /tmp/palisade-guard-bench.XXXXXX)
guard_pid=
cleanup() {
  [ -n "$guard_pid" ] && kill "$guard_pid" 2>/dev/null && wait "$guard_pid" 2>/dev/null || true
  umount "$tmp/merged" 2>/dev/null || umount -l "$tmp/merged" 2>/dev/null || true
  umount "$tmp/rw" 2>/dev/null || umount -l "$tmp/rw" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp/lower/bin" "$tmp/lower/etc" "$tmp/rw" "$tmp/merged"
cp "$(type -P true)" "$tmp/lower/bin/true"
head -c 4096 /dev/urandom > "$tmp/lower/etc/data"
mount -t tmpfs tmpfs "$tmp/rw"
mkdir "$tmp/rw/upper" "$tmp/rw/work"
mount -t overlay overlay -o "lowerdir=$tmp/lower,upperdir=$tmp/rw/upper,workdir=$tmp/rw/work" "$tmp/merged"
exe=$tmp/merged/bin/true
file=$tmp/merged/etc/data

start_guard() { # $@: extra guard flags
  : > "$tmp/events.jsonl"
  "$pal" guard --mode enforce --mount "$tmp/merged" --output "$tmp/events.jsonl" "$@" 2>"$tmp/guard.err" &
  guard_pid=$!
  for _ in $(seq 500); do
    grep -q '"action":"guarded"' "$tmp/events.jsonl" 2>/dev/null && return 0
    sleep 0.01
  done
  echo "guard did not start:" >&2; cat "$tmp/guard.err" >&2; exit 1
}
stop_guard() { # condition round
  kill -TERM "$guard_pid"; wait "$guard_pid" || true; guard_pid=
  grep -q '"marks_after_shutdown":0' "$tmp/events.jsonl" || { echo "marks not removed" >&2; exit 1; }
  # The guard's own time per event (from its summary), for this round.
  python3 -c 'import json,sys; s=[json.loads(l) for l in open(sys.argv[1])][-1]["counters"]["decision_us"]; print(json.dumps({"condition":sys.argv[2],"round":int(sys.argv[3]),"kind":"decision","count":s["count"],"median_us":s["median"],"p99_us":s["p99"],"mean_us":s["mean"]}))' "$tmp/events.jsonl" "$1" "$2" >> "$results"
}

results=$out/guard.jsonl
: > "$results"
measure() { # condition round
  local c=$1 r=$2
  printf '{"condition":"%s","round":%d,"kind":"exec",%s\n' "$c" "$r" "$("$lat" exec "$exe" "$count" | cut -c2-)" >> "$results"
  printf '{"condition":"%s","round":%d,"kind":"open",%s\n' "$c" "$r" "$("$lat" open "$file" "$opens" | cut -c2-)" >> "$results"
}
# Warm-up: page cache, dentries, the binary.
"$lat" exec "$exe" 200 > /dev/null
conditions=(unguarded control guarded guarded+interpreters)
for r in $(seq "$rounds"); do
  for i in 0 1 2 3; do
    c=${conditions[$(( (i + r) % 4 ))]}
    case $c in
      unguarded) measure "$c" "$r" ;;
      control)
        "$allow_all" "$tmp/merged" > "$tmp/control.out" 2>&1 & guard_pid=$!
        for _ in $(seq 500); do grep -q ready "$tmp/control.out" && break; sleep 0.01; done
        grep -q ready "$tmp/control.out" || { cat "$tmp/control.out" >&2; exit 1; }
        measure "$c" "$r"
        kill "$guard_pid"; wait "$guard_pid" 2>/dev/null || true; guard_pid= ;;
      guarded) start_guard; measure "$c" "$r"; stop_guard "$c" "$r" ;;
      guarded+interpreters) start_guard --config <(printf 'interpreters: true\n'); measure "$c" "$r"; stop_guard "$c" "$r" ;;
    esac
    echo "round $r: $c done" >&2
  done
done

python3 - "$results" "$root/docs/benchmarks.md" "$count" "$opens" "$rounds" <<'EOF'
import json, statistics, sys
sys.path.insert(0, sys.argv[2].rsplit("/docs/", 1)[0] + "/bench")
from report import write
results, doc, count, opens, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rows = [json.loads(l) for l in open(results)]
def get(cond, kind, key):
    return {r["round"]: r[key] for r in rows if r["condition"] == cond and r["kind"] == kind}
med = statistics.median
lines = [
    f"`sudo bench/guard.sh` — {count:,} execs of an image binary (`/bin/true`, dynamically linked, its libraries outside the overlay) and {opens:,} opens of an image file per condition and round, {rounds} rounds, conditions in rotating order; medians over rounds.",
    "",
    "| operation | condition | median | p99 | added per call: median | added: p99 |",
    "|---|---|---|---|---|---|",
]
for kind in ("exec", "open"):
    base_m, base_p = get("unguarded", kind, "median_us"), get("unguarded", kind, "p99_us")
    for cond in ("unguarded", "control", "guarded", "guarded+interpreters"):
        m, p = get(cond, kind, "median_us"), get(cond, kind, "p99_us")
        if not m:
            continue
        if cond == "unguarded":
            added_m = added_p = "–"
        else:
            added_m = f"**{med([m[r] - base_m[r] for r in m]):+.1f} µs**"
            added_p = f"{med([p[r] - base_p[r] for r in p]):+.1f} µs"
        label = {"unguarded": "no guard", "control": "control: a responder that allows at once (`examples/allow_all.rs`)", "guarded": "guard (exec marks)", "guarded+interpreters": "guard + `interpreters: true` (exec and open marks)"}[cond]
        lines.append(f"| {kind} | {label} | {med(m.values()):.1f} µs | {med(p.values()):.1f} µs | {added_m} | {added_p} |")
gm, cm = get("guarded", "exec", "median_us"), get("control", "exec", "median_us")
if gm and cm:
    above = med([gm[r] - cm[r] for r in gm if r in cm])
    base = get("unguarded", "exec", "median_us")
    floor = med([cm[r] - base[r] for r in cm])
    lines += ["", f"The control alone adds **{floor:+.1f} µs** per exec (median over rounds): the kernel's cost of asking user space, which no guard can go below. The guard adds **{above:+.1f} µs** above the control."]
lines += [
    "",
    "The guard's own time per permission event (from taking it up to writing the answer, from its summary counters; the rest of the added latency is the kernel's hand-off and the scheduler):",
    "",
    "| condition | events per round | median | p99 |",
    "|---|---|---|---|",
]
for cond in ("guarded", "guarded+interpreters"):
    m, p, n = get(cond, "decision", "median_us"), get(cond, "decision", "p99_us"), get(cond, "decision", "count")
    if m:
        label = {"guarded": "guard (exec marks)", "guarded+interpreters": "guard + `interpreters: true`"}[cond]
        lines.append(f"| {label} | {int(med(n.values())):,} | {med(m.values()):.1f} µs | {med(p.values()):.1f} µs |")
load = open("/proc/loadavg").read().split()[:3]
lines += ["", f"Load average when the run ended: {' '.join(load)} (the machine is shared; exec figures move with it)."]
write(doc, "guard", "\n".join(lines))
EOF
