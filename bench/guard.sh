#!/usr/bin/env bash
# Cost of `palisade guard`: latency added to each exec of an image binary
# on a guarded overlay, and to each plain open of an image file, against
# the same overlay unguarded, in the same run.
#
# Two twin overlays are mounted from the same image directory, each with
# its own tmpfs upper layer: `merged`, which a condition may guard, and
# `twin`, which is never guarded. Every measurement alternates calls on the
# two (A B, B A, …; examples/exec_latency.rs), so both see the same
# moments of this noisy shared machine, and the added latency is the
# guarded mount's median minus the twin's, from the same interleaved run.
#
# Each round runs COUNT exec pairs (default 10,000) and OPENS open pairs
# (default 100,000) under each condition: nothing on either mount (the
# method's own error: should be ~0), a control responder that answers every
# exec event "allow" at once (examples/allow_all.rs: the kernel's own cost
# of a permission event, the floor for any guard), the guard (enforce mode,
# exec marks only), and the guard with the interpreter option (exec + open
# marks); the order rotates between rounds. Reported: per condition, the
# median over ROUNDS rounds (default 5) of each round's figures and of its
# added latency. Writes bench/out/guard.jsonl and the table in
# docs/benchmarks.md.
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
  for m in merged twin; do
    umount "$tmp/$m" 2>/dev/null || umount -l "$tmp/$m" 2>/dev/null || true
    umount "$tmp/rw-$m" 2>/dev/null || umount -l "$tmp/rw-$m" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp/lower/bin" "$tmp/lower/etc"
cp "$(type -P true)" "$tmp/lower/bin/true"
head -c 4096 /dev/urandom > "$tmp/lower/etc/data"
for m in merged twin; do
  mkdir -p "$tmp/rw-$m" "$tmp/$m"
  mount -t tmpfs tmpfs "$tmp/rw-$m"
  mkdir "$tmp/rw-$m/upper" "$tmp/rw-$m/work"
  mount -t overlay overlay -o "lowerdir=$tmp/lower,upperdir=$tmp/rw-$m/upper,workdir=$tmp/rw-$m/work" "$tmp/$m"
done
exe=$tmp/merged/bin/true
file=$tmp/merged/etc/data
twin_exe=$tmp/twin/bin/true
twin_file=$tmp/twin/etc/data

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
  printf '{"condition":"%s","round":%d,"kind":"exec",%s\n' "$c" "$r" "$("$lat" exec "$exe" "$count" "$twin_exe" | cut -c2-)" >> "$results"
  printf '{"condition":"%s","round":%d,"kind":"open",%s\n' "$c" "$r" "$("$lat" open "$file" "$opens" "$twin_file" | cut -c2-)" >> "$results"
}
# Warm-up: page cache, dentries, the binary.
"$lat" exec "$exe" 200 "$twin_exe" > /dev/null
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
med = statistics.median
def by_round(cond, kind, f):
    return {r["round"]: f(r) for r in rows if r["condition"] == cond and r["kind"] == kind}
def added(key):
    return lambda r: r[key] - r["base"][key]
labels = {
    "unguarded": "nothing on either mount (the method's own error)",
    "control": "control: a responder that allows at once (`examples/allow_all.rs`)",
    "guarded": "guard (exec marks)",
    "guarded+interpreters": "guard + `interpreters: true` (exec and open marks)",
}
lines = [
    f"`sudo bench/guard.sh` — per condition and round, {count:,} execs of an image binary (`/bin/true`, dynamically linked, its libraries outside the overlay) and {opens:,} opens of an image file on the measured overlay, each alternating with the same call on an unguarded twin overlay of the same image (A B, B A, …), so both see the same moments of the shared machine; {rounds} rounds, conditions in rotating order; medians over rounds.",
    "",
    "| operation | condition | measured overlay: median | twin: median | added per call: median (range over rounds) | added: p99 |",
    "|---|---|---|---|---|---|",
]
for kind in ("exec", "open"):
    for cond in labels:
        m = by_round(cond, kind, lambda r: r["median_us"])
        if not m:
            continue
        b = by_round(cond, kind, lambda r: r["base"]["median_us"])
        a = by_round(cond, kind, added("median_us"))
        ap = by_round(cond, kind, added("p99_us"))
        lines.append(
            f"| {kind} | {labels[cond]} | {med(m.values()):.1f} µs | {med(b.values()):.1f} µs "
            f"| **{med(a.values()):+.1f} µs** ({min(a.values()):+.1f} to {max(a.values()):+.1f}) | {med(ap.values()):+.1f} µs |"
        )
ga, ca = by_round("guarded", "exec", added("median_us")), by_round("control", "exec", added("median_us"))
if ga and ca:
    above = med([ga[r] - ca[r] for r in ga if r in ca])
    lines += ["", f"The control alone adds **{med(ca.values()):+.1f} µs** per exec (median over rounds): the kernel's cost of asking user space, which no guard can go below. The guard adds **{med(ga.values()):+.1f} µs** per exec, **{above:+.1f} µs** above the control."]
lines += [
    "",
    "The guard's own time per permission event (from taking it up to writing the answer, from its summary counters; the rest of the added latency is the kernel's hand-off and the scheduler):",
    "",
    "| condition | events per round | median | p99 |",
    "|---|---|---|---|",
]
for cond in ("guarded", "guarded+interpreters"):
    m = by_round(cond, "decision", lambda r: r["median_us"])
    if m:
        p = by_round(cond, "decision", lambda r: r["p99_us"])
        n = by_round(cond, "decision", lambda r: r["count"])
        label = {"guarded": "guard (exec marks)", "guarded+interpreters": "guard + `interpreters: true`"}[cond]
        lines.append(f"| {label} | {int(med(n.values())):,} | {med(m.values()):.1f} µs | {med(p.values()):.1f} µs |")
load = open("/proc/loadavg").read().split()[:3]
lines += ["", f"Load average when the run ended: {' '.join(load)} (the machine is shared; exec figures move with it)."]
write(doc, "guard", "\n".join(lines))
EOF
