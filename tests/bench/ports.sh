#!/usr/bin/env bash
# Benchmark: `sockx ports` against ss, netstat, lsof and fuser on 10,000 sockets.
#
# Builds its own network namespace, starts 50 python3 processes there that each hold 100 TCP
# listeners and 100 bound UDP sockets (TCP and UDP ports 10000-14999; process N holds
# 10000+100N .. 10000+100N+99, so 10050 is held), then runs, inside the namespace:
#   1. the full listing: sockx ports | ss -tulnp | netstat -tulnp | lsof -nP -iTCP -sTCP:LISTEN
#   2. one port:         sockx ports 10050 | fuser -n tcp 10050 | lsof -nP -i TCP:10050
#      (plus sockx ports 14950, held by the last process started: the owner scan reads every
#      process whichever holds the port, since a socket may have any number of holders, so
#      both take the same time)
#   3. counts by peer:   sockx ports -a --by remote | ss -tn | awk | sort | uniq -c | sort -rn,
#      on 10,000 established loopback sockets more: 50 other processes each accept 100
#      connections and open 100 to the next one, from a source address of their own
#      (127.0.1.2 .. 127.0.1.51), so that there are 50 peers of 100 sockets each
#   4. TCP internals:    sockx ports -a -i | sockx ports -t -i --state established | ss -tni |
#      ss -tnpi, on the same established sockets
#   5. Unix sockets:     sockx ports -x | ss -xlp | lsof -U, and one path (sockx ports PATH),
#      on 10,000 Unix listeners more: 50 other processes each bind and listen on 200 paths
# and prints sockx's median over each anchor's median, and sockx's peak RSS.
# Needs root, python3, hyperfine, ss, netstat, lsof, fuser and /usr/bin/time.
# Usage: tests/bench/ports.sh [--runs N] [--only listeners|connections|unix]
#        (uses target/release/sockx; builds it if missing)
set -euo pipefail
cd "$(dirname "$0")/../.."

runs=20
only=all
while (($#)); do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--only listeners|connections|unix]" >&2; exit 2 ;;
  esac
done
procs=50
per_proc=100
base=10000

if [ "$(id -u)" != 0 ]; then
  echo "ports.sh: needs root (network namespace)" >&2
  exit 2
fi
for tool in python3 hyperfine ss netstat lsof fuser; do
  command -v "$tool" >/dev/null || { echo "ports.sh: $tool is missing" >&2; exit 2; }
done
if [ ! -x /usr/bin/time ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
fi
[ -x target/release/sockx ] || cargo build --release --locked
sockx=$PWD/target/release/sockx

netns="sockx-bench-$$"
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
for ((i = 0; i < procs; i++)); do
  ip netns exec "$netns" python3 -c "$holder" $((base + i * per_proc)) "$per_proc" &
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
held=$(ip netns exec "$netns" "$sockx" ports 10050 -t --json | wc -l)
[ "$held" = 1 ] || { echo "ports.sh: port 10050 is not held as expected" >&2; exit 1; }

# The 10,000 established sockets of scenario 3, then its check and timings.
connections() {
  local talker='
import signal, socket, sys, threading, time
i, n, per, base = (int(arg) for arg in sys.argv[1:5])
server = socket.socket()
server.bind(("127.0.0.1", base + i))
server.listen(per)
held = []
def accept():
    for _ in range(per):
        held.append(server.accept()[0])
acceptor = threading.Thread(target=accept)
acceptor.start()
source = "127.0.1.%d" % (2 + i)
for _ in range(per):
    while True:
        c = socket.socket()
        c.bind((source, 0))
        try:
            c.connect(("127.0.0.1", base + (i + 1) % n))
            break
        except ConnectionRefusedError:
            c.close()
            time.sleep(0.05)
    held.append(c)
acceptor.join()
signal.pause()
'
  local talkers=50 per=100 first=20000
  for ((i = 0; i < talkers; i++)); do
    ip netns exec "$netns" python3 -c "$talker" "$i" "$talkers" "$per" "$first" &
    pids+=($!)
  done
  local want=$((talkers * per * 2)) established=0
  for _ in $(seq 1 600); do
    established=$(ip netns exec "$netns" ss -Htn state established | wc -l)
    [ "$established" -ge "$want" ] && break
    sleep 0.1
  done
  echo "fixture: $established established TCP sockets in $talkers more processes"
  [ "$established" -ge "$want" ] || { echo "ports.sh: the connections did not all open" >&2; exit 1; }

  # Untimed check: the same counts as the awk pipeline.
  local by_peer="ss -Htn | awk '{print \$5}' | cut -d: -f1 | sort | uniq -c | sort -rn"
  local ours theirs
  ours=$(ip netns exec "$netns" "$sockx" ports -a -t --by remote | awk 'NR > 1 {print $1, $2}' | sort)
  theirs=$(ip netns exec "$netns" bash -c "$by_peer" | awk '{print $1, $2}' | sort)
  if [ "$ours" != "$theirs" ]; then
    echo "ports.sh: sockx ports --by remote disagrees with ss | uniq -c" >&2
    diff <(echo "$ours") <(echo "$theirs") | head >&2
    exit 1
  fi
  echo "check: sockx --by remote counts equal the awk pipeline's ($(echo "$ours" | wc -l) peers)"

  echo
  echo "== counts by peer =="
  ip netns exec "$netns" hyperfine --shell=bash --warmup 3 --runs "$runs" --ignore-failure --export-json "$work/by.json" \
    -n "sockx ports -a --by remote" "$sockx ports -a --by remote" \
    -n "ss -tn | awk | sort | uniq -c" "$by_peer"
  ratios "$work/by.json"
  local rss
  rss=$(ip netns exec "$netns" /usr/bin/time -v "$sockx" ports -a --by remote 2>&1 >/dev/null |
    awk -F': ' '/Maximum resident set size/ {print $2}')
  printf 'sockx ports -a --by remote  peak RSS %s KiB (%.1f MiB)\n' "$rss" "$(awk -v kib="$rss" 'BEGIN { print kib / 1024 }')"
}

# sockx's median over each anchor's median, from hyperfine's JSON exports.
ratios() {
  echo
  echo "== ratios (sockx median / anchor median; < 1 means sockx is faster) =="
  python3 - "$@" <<'EOF'
import json, sys
for path in sys.argv[1:]:
    results = json.load(open(path))["results"]
    ours = [r for r in results if r["command"].startswith("sockx")]
    anchors = [r for r in results if not r["command"].startswith("sockx")]
    for mine in ours:
        for anchor in anchors:
            ratio = mine["median"] / anchor["median"]
            print(f"{mine['command']:<28} {mine['median']*1000:8.1f} ms   vs "
                  f"{anchor['command']:<30} {anchor['median']*1000:8.1f} ms   ratio {ratio:.2f}x")
EOF
}

# == -i: TCP internals of established connections (issue 11) ==
# Scenario 4. Times `sockx ports -a -i` (every socket, as the issue asks) and `sockx ports -t -i
# --state established` (the same sockets as ss) against `ss -tni` and `ss -tnpi`, and prints
# sockx's peak RSS with -a -i, on SOCKX_BENCH_SOCKETS established sockets (default 10000): those
# scenario 3 opened. If the namespace has fewer, it first adds 50 python3 processes that each
# connect to a listener of their own (127.0.0.1, ports 21000-21049) and accept.
info_bench() {
  local want=${SOCKX_BENCH_SOCKETS:-10000} talkers=50 i established
  established=$(ip netns exec "$netns" ss -Htn state established | wc -l)
  if [ "$established" -lt "$want" ]; then
    local talker='
import resource, signal, socket, sys
port, count = int(sys.argv[1]), int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 2 * count + 64), hard))
listener = socket.socket()
listener.bind(("127.0.0.1", port))
listener.listen(count)
held = []
for _ in range(count):
    held.append(socket.create_connection(("127.0.0.1", port)))
    held.append(listener.accept()[0])
signal.pause()
'
    local per=$((((want - established) / 2 + talkers - 1) / talkers))
    for ((i = 0; i < talkers; i++)); do
      ip netns exec "$netns" python3 -c "$talker" $((21000 + i)) "$per" &
      pids+=($!)
    done
    for _ in $(seq 1 600); do
      established=$(ip netns exec "$netns" ss -Htn state established | wc -l)
      [ "$established" -ge "$want" ] && break
      sleep 0.1
    done
  fi
  echo
  echo "== -i on $established established sockets =="
  ip netns exec "$netns" hyperfine -N --warmup 3 --runs "$runs" --ignore-failure --export-json "$work/info.json" \
    -n "sockx ports -a -i" "$sockx ports -a -i" \
    -n "sockx ports -t -i --state established" "$sockx ports -t -i --state established" \
    -n "ss -tni" "ss -tni" \
    -n "ss -tnpi" "ss -tnpi"
  ratios "$work/info.json"
  local rss
  rss=$(ip netns exec "$netns" /usr/bin/time -v "$sockx" ports -a -i 2>&1 >/dev/null |
    awk -F': ' '/Maximum resident set size/ {print $2}')
  printf 'sockx ports -a -i peak RSS %s KiB (%.1f MiB)\n' "$rss" "$(awk -v kib="$rss" 'BEGIN { print kib / 1024 }')"
}

# == -x: Unix-domain sockets (issue 8) ==
# Scenario 5: 50 python3 processes each listening on 200 Unix socket paths in $work; checks
# that sockx names the same holders as ss -xlp for one of them, then times the listings.
unix_bench() {
  local talkers=50 per=200 i listening=0
  local holder='
import signal, socket, sys
folder, index, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
held = []
for n in range(count):
    s = socket.socket(socket.AF_UNIX)
    s.bind("%s/p%d-%d.sock" % (folder, index, n))
    s.listen(4)
    held.append(s)
signal.pause()
'
  mkdir -p "$work/unix"
  for ((i = 0; i < talkers; i++)); do
    ip netns exec "$netns" python3 -c "$holder" "$work/unix" "$i" "$per" &
    pids+=($!)
  done
  local want=$((talkers * per))
  for _ in $(seq 1 600); do
    listening=$(ip netns exec "$netns" ss -Hxl | grep -c "$work/unix/" || true)
    [ "$listening" -ge "$want" ] && break
    sleep 0.1
  done
  echo "fixture: $listening Unix listeners in $talkers more processes"
  [ "$listening" -ge "$want" ] || { echo "ports.sh: the Unix listeners did not all open" >&2; exit 1; }
  local path="$work/unix/p7-9.sock" ours theirs
  ours=$(ip netns exec "$netns" "$sockx" ports "$path" --json | python3 -c 'import json, sys; print(*sorted(p["pid"] for p in json.loads(sys.stdin.readline())["processes"]))')
  theirs=$(ip netns exec "$netns" ss -Hxlp | grep "$path " | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -n | tr '\n' ' ' | sed 's/ $//')
  if [ "$ours" != "$theirs" ]; then
    echo "ports.sh: sockx ports $path names pids '$ours', ss -xlp '$theirs'" >&2
    exit 1
  fi
  echo "check: sockx ports PATH names the same holder as ss -xlp (pid $ours)"
  echo
  echo "== Unix sockets =="
  ip netns exec "$netns" hyperfine -N --warmup 3 --runs "$runs" --ignore-failure --export-json "$work/unix.json" \
    -n "sockx ports -x" "$sockx ports -x" \
    -n "sockx ports PATH" "$sockx ports $path" \
    -n "ss -xlp" "ss -xlp" \
    -n "lsof -U" "lsof -U"
  ratios "$work/unix.json"
  local rss
  rss=$(ip netns exec "$netns" /usr/bin/time -v "$sockx" ports -x 2>&1 >/dev/null |
    awk -F': ' '/Maximum resident set size/ {print $2}')
  printf 'sockx ports -x peak RSS %s KiB (%.1f MiB)\n' "$rss" "$(awk -v kib="$rss" 'BEGIN { print kib / 1024 }')"
}

if [ "$only" = connections ]; then
  connections
  info_bench
  exit 0
fi
if [ "$only" = unix ]; then
  unix_bench
  exit 0
fi

echo
echo "== full listing =="
ip netns exec "$netns" hyperfine -N --warmup 3 --runs "$runs" --ignore-failure --export-json "$work/full.json" \
  -n "sockx ports" "$sockx ports" \
  -n "ss -tulnp" "ss -tulnp" \
  -n "netstat -tulnp" "netstat -tulnp" \
  -n "lsof -nP -iTCP -sTCP:LISTEN" "lsof -nP -iTCP -sTCP:LISTEN"

echo
echo "== one port =="
ip netns exec "$netns" hyperfine -N --warmup 3 --runs "$runs" --ignore-failure --export-json "$work/one.json" \
  -n "sockx ports 10050" "$sockx ports 10050" \
  -n "sockx ports 14950" "$sockx ports 14950" \
  -n "fuser -n tcp 10050" "fuser -n tcp 10050" \
  -n "lsof -nP -i TCP:10050" "lsof -nP -i TCP:10050"

ratios "$work/full.json" "$work/one.json"

echo
echo "== peak RSS =="
for args in "" "10050"; do
  # shellcheck disable=SC2086
  rss=$(ip netns exec "$netns" /usr/bin/time -v "$sockx" ports $args 2>&1 >/dev/null |
    awk -F': ' '/Maximum resident set size/ {print $2}')
  printf 'sockx ports %-6s peak RSS %s KiB (%.1f MiB)\n' "$args" "$rss" "$(awk -v kib="$rss" 'BEGIN { print kib / 1024 }')"
done

if [ "$only" = all ]; then
  echo
  connections
  info_bench
  echo
  unix_bench
fi
