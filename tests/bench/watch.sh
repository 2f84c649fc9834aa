#!/usr/bin/env bash
# Benchmark: `sockx ports --watch --json` on a host with many sockets while listeners come
# and go.
#
# Builds its own network namespace and fills it with SOCKETS sockets (half TCP listeners, half
# bound UDP sockets, 100 per kind per python3 process, ports from 10000 up). Then it starts
#   sockx -v ports --watch --json --interval INTERVAL 30000-30999
# there, and a churner that opens LISTENERS TCP listeners on ports 30000.. and closes them, each
# at a random time and for a random while (1.5 to 4 intervals, so that a tick sees each one).
# It checks that every open and every close was reported (an `added` / `removed` event with the
# churner's PID and port), prints how late each came (event time minus the moment the churner
# opened or closed it; the target is at most one interval plus 100 ms), and then, with nothing
# changing, the watcher's CPU time per tick (from /proc/PID/schedstat; the target is under 20 ms
# for 10,000 sockets).
# Needs root and python3.
# Usage: tests/bench/watch.sh [--sockets N] [--listeners M] [--interval DUR] [--quiet-ticks K]
#        (defaults 10000, 100, 1s, 20; uses target/release/sockx, built if missing)
set -euo pipefail
cd "$(dirname "$0")/../.."

sockets=10000
listeners=100
interval=1s
quiet_ticks=20
while (($#)); do
  case $1 in
    --sockets) sockets=$2; shift 2 ;;
    --listeners) listeners=$2; shift 2 ;;
    --interval) interval=$2; shift 2 ;;
    --quiet-ticks) quiet_ticks=$2; shift 2 ;;
    *) echo "watch.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
# Bounded: the fixture holds at most 50,000 sockets and 1,000 churned listeners.
if ((sockets < 200 || sockets > 50000 || listeners < 1 || listeners > 1000)); then
  echo "watch.sh: --sockets must be 200..50000 and --listeners 1..1000" >&2
  exit 2
fi
if [ "$(id -u)" != 0 ]; then
  echo "watch.sh: needs root (network namespace)" >&2
  exit 2
fi
command -v python3 >/dev/null || { echo "watch.sh: python3 is missing" >&2; exit 2; }
[ -x target/release/sockx ] || cargo build --release --locked
sockx=$PWD/target/release/sockx
interval_s=$(python3 -c "
import re, sys
text = sys.argv[1]
m = re.fullmatch(r'([0-9.]+)(ms|s)?', text)
if not m: sys.exit('watch.sh: --interval takes e.g. 200ms or 1s')
print(float(m[1]) / (1000 if m[2] == 'ms' else 1))" "$interval")

netns="sockx-bench-watch-$$"
pids=()
work=$(mktemp -d)
cleanup() {
  if ((${#pids[@]})); then
    kill "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
  ip netns delete "$netns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
# Drops an ended child from the list cleanup kills, so that a reused PID is never signalled.
forget() {
  local kept=() pid
  for pid in "${pids[@]}"; do [ "$pid" = "$1" ] || kept+=("$pid"); done
  pids=("${kept[@]}")
}

ip netns add "$netns"
ip netns exec "$netns" ip link set lo up

holder='
import signal, socket, sys
first, count = int(sys.argv[1]), int(sys.argv[2])
held = []
for port in range(first, first + count):
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(socket.AF_INET, kind)
        s.bind(("0.0.0.0", port))
        if kind == socket.SOCK_STREAM:
            s.listen(16)
        held.append(s)
signal.pause()
'
per_proc=100
procs=$(((sockets / 2 + per_proc - 1) / per_proc))
for ((i = 0; i < procs; i++)); do
  ip netns exec "$netns" python3 -c "$holder" $((10000 + i * per_proc)) "$per_proc" &
  pids+=($!)
done
want=$((procs * per_proc))
for _ in $(seq 1 300); do
  tcp=$(ip netns exec "$netns" ss -Htln | wc -l)
  udp=$(ip netns exec "$netns" ss -Huln | wc -l)
  if [ "$tcp" -ge "$want" ] && [ "$udp" -ge "$want" ]; then break; fi
  sleep 0.1
done
echo "fixture: $tcp TCP listeners, $udp UDP sockets in $procs processes (netns $netns)"

ip netns exec "$netns" "$sockx" -v ports --watch --json --interval "$interval" 30000-30999 \
  >"$work/events" 2>"$work/watch.err" &
watcher=$!
pids+=("$watcher")
for _ in $(seq 1 300); do
  grep -q '^watching every' "$work/watch.err" && break
  sleep 0.1
done
grep -q '^watching every' "$work/watch.err" || { echo "watch.sh: the watcher did not start" >&2; cat "$work/watch.err" >&2; exit 1; }

# Each listener opens at a random moment within the churn window and stays 1.5-4 intervals;
# the churner logs "open|close PORT UNIX_TIME" as it acts.
churner='
import random, socket, sys, time
count, interval = int(sys.argv[1]), float(sys.argv[2])
window = max(10 * interval, count * interval / 10)
plan = []
for i in range(count):
    start = random.uniform(0, window)
    plan.append((start, "open", i))
    plan.append((start + random.uniform(1.5, 4) * interval, "close", i))
plan.sort()
held = {}
began = time.time()
for at, action, i in plan:
    time.sleep(max(0, began + at - time.time()))
    port = 30000 + i
    if action == "open":
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen()
        held[i] = s
    else:
        held.pop(i).close()
    print(action, port, f"{time.time():.3f}", flush=True)
'
ip netns exec "$netns" python3 -c "$churner" "$listeners" "$interval_s" >"$work/actions" &
churn=$!
pids+=("$churn")
wait "$churn"
forget "$churn"
# Let the last close be seen, then measure a quiet stretch.
sleep "$(python3 -c "print(2 * $interval_s + 0.2)")"

ticks() { grep -c '^tick:' "$work/watch.err" || true; }
# Time on CPU of every thread of the watcher, in ns.
cpu_ns() { cat /proc/"$watcher"/task/*/schedstat | awk '{sum += $1} END {print sum}'; }
t0=$(ticks); c0=$(cpu_ns)
while (($(ticks) < t0 + quiet_ticks)); do sleep 0.05; done
t1=$(ticks); c1=$(cpu_ns)
kill -INT "$watcher"
status=0
wait "$watcher" || status=$?
forget "$watcher"
[ "$status" = 130 ] || echo "watch.sh: the watcher ended with $status, not 130" >&2

python3 - "$work/actions" "$work/events" "$interval_s" "$churn" <<'EOF'
import json, sys
from datetime import datetime
actions_path, events_path, interval, churner = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
actions = [line.split() for line in open(actions_path)]
events = {}
for line in open(events_path):
    event = json.loads(line)
    if "event" not in event:
        continue
    when = datetime.fromisoformat(event["time"].replace("Z", "+00:00")).timestamp()
    kind = "open" if event["event"] == "added" else "close"
    events.setdefault((kind, event["local_port"]), []).append((when, event))
missed, late, delays, strangers = [], [], [], 0
for action, port, at in actions:
    seen = events.get((action, int(port)))
    if not seen:
        missed.append(f"{action} {port}")
        continue
    when, event = seen.pop(0)
    if [p["pid"] for p in event["processes"]] != [int(churner)]:
        strangers += 1
    delays.append(when - float(at))
    if when - float(at) > interval + 0.1:
        late.append(f"{action} {port} {when - float(at):.3f}s")
delays.sort()
print(f"changes: {len(actions)}, reported: {len(delays)}, missed: {len(missed)} {missed[:5]}")
if delays:
    pick = lambda q: delays[min(len(delays) - 1, int(q * len(delays)))]
    print(f"delay after the change: median {pick(0.5)*1000:.0f} ms, p95 {pick(0.95)*1000:.0f} ms, "
          f"max {delays[-1]*1000:.0f} ms (bound: interval + 100 ms = {(interval + 0.1)*1000:.0f} ms)")
print(f"later than the bound: {len(late)} {late[:5]}")
print(f"events without the churner as the owner: {strangers}")
EOF
awk -v c0="$c0" -v c1="$c1" -v t="$((t1 - t0))" -v n="$tcp" -v u="$udp" 'BEGIN {
  printf "watcher CPU per quiet tick: %.2f ms over %d ticks (%d sockets listed per tick)\n", (c1 - c0) / t / 1e6, t, n + u
}'
