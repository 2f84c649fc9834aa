#!/usr/bin/env bash
# Benchmark of `sockx probe` against nmap (and rustscan when installed), alternating rounds.
#
#   1. In its own network namespace, with TCP ports 1000-1999 dropped by nft and six ports
#      open, a full scan of 127.0.0.1 ports 1-65535 with a 1 s timeout; sockx's state of every
#      port is checked against the fixture.
#   2. A full scan of an all-closed loopback (a fresh namespace without listeners or drops).
#   3. A single check `sockx probe 127.0.0.1:PORT` vs `nc -z 127.0.0.1 PORT` (hyperfine).
#   4. UDP: a namespace running dnsmasq (53), chronyd (123), snmpd (161) and memcached
#      (11211): `sockx probe -u` vs `nmap -sU` on those ports, time and states side by side.
#   5. `--wait --http` against a server that answers 503 for its first 2 s, then 200: how
#      long after the first 200 the wait ends.
#   6. Many hosts, one port: 127.0.0.0/16 port 80 in a fresh namespace (65,536 loopback
#      addresses, all closed) vs `nmap -sT -T4 -Pn -n`: time and peak RSS (GNU time), one
#      round each. HOSTS_BLOCK=127.0.0.0/22 runs it at a small scale.
#
# Needs root (network namespaces), nft, nmap, nc, hyperfine, python3, a release build
# (scenario 4 also dnsmasq, chrony, snmpd and memcached; skipped without them):
#   cargo build --release && tests/bench/probe.sh [ROUNDS]
# Traffic stays on the loopback of namespaces this script creates and deletes.
set -euo pipefail
cd "$(dirname "$0")/../.."

ROUNDS=${1:-5}
SOCKX=${SOCKX:-$PWD/target/release/sockx}
OPEN_PORTS=(22 80 443 8080 31337 50000)
DROPPED=1000-1999

HOSTS_BLOCK=${HOSTS_BLOCK:-127.0.0.0/16}
case "$HOSTS_BLOCK" in 127.*) ;; *) echo "HOSTS_BLOCK must stay inside 127.0.0.0/8" >&2; exit 1 ;; esac

for tool in ip nft nmap nc hyperfine python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done
[ -x "$SOCKX" ] || { echo "build first: cargo build --release" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "needs root for network namespaces" >&2; exit 1; }
RUSTSCAN=$(command -v rustscan || true)

NS_DROP=sockx-bench-drop-$$
NS_CLOSED=sockx-bench-closed-$$
LISTENER_PID=
WORK=$(mktemp -d)
cleanup() {
  [ -n "$LISTENER_PID" ] && kill "$LISTENER_PID" 2>/dev/null || true
  ip netns delete "$NS_DROP" 2>/dev/null || true
  ip netns delete "$NS_CLOSED" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

for ns in "$NS_DROP" "$NS_CLOSED"; do
  ip netns add "$ns"
  ip netns exec "$ns" ip link set lo up
done
ip netns exec "$NS_DROP" nft -f - <<NFT
table inet sockxbench {
  chain in {
    type filter hook input priority 0;
    tcp dport $DROPPED drop
  }
}
NFT
ip netns exec "$NS_DROP" python3 -c '
import socket, sys, time
held = []
for port in map(int, sys.argv[1:]):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(1024)
    held.append(s)
print("ready", flush=True)
time.sleep(3600)
' "${OPEN_PORTS[@]}" >"$WORK/listener.out" &
LISTENER_PID=$!
for _ in $(seq 50); do grep -q ready "$WORK/listener.out" 2>/dev/null && break; sleep 0.1; done

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
seconds() { # runs a command, prints its wall time in seconds
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null 2>&1 || true
  end=$(date +%s.%N)
  printf '%.3f\n' "$(echo "$end - $start" | bc -l)"
}
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f\n", m}'; }

echo "== correctness: every port of the dropped-range fixture"
in_ns "$NS_DROP" "$SOCKX" probe 127.0.0.1 -p all -t 1s --state all --json >"$WORK/states.json" || true
python3 - "$WORK/states.json" "$DROPPED" "${OPEN_PORTS[@]}" <<'PY'
import json, sys
path, dropped, *open_ports = sys.argv[1:]
lo, hi = map(int, dropped.split("-"))
open_ports = set(map(int, open_ports))
states = {}
for line in open(path):
    row = json.loads(line)
    states[row["port"]] = (row["state"], row["reason"])
wrong = []
for port in range(1, 65536):
    want = ("open", "syn-ack") if port in open_ports else \
           ("filtered", "timeout") if lo <= port <= hi else ("closed", "conn-refused")
    if states.get(port) != want:
        wrong.append((port, states.get(port), want))
print(f"{len(states)} ports reported, {len(wrong)} wrong")
for port, got, want in wrong[:10]:
    print(f"  port {port}: got {got}, want {want}")
sys.exit(1 if wrong or len(states) != 65535 else 0)
PY

run_rounds() { # name ns -- prints medians and ratio to nmap
  local label=$1 ns=$2
  : >"$WORK/sockx.t"; : >"$WORK/nmap.t"; : >"$WORK/rustscan.t"
  for round in $(seq "$ROUNDS"); do
    seconds in_ns "$ns" "$SOCKX" probe 127.0.0.1 -p all -t 1s >>"$WORK/sockx.t"
    seconds in_ns "$ns" nmap -sT -T4 -p- 127.0.0.1 >>"$WORK/nmap.t"
    if [ -n "$RUSTSCAN" ]; then
      seconds in_ns "$ns" "$RUSTSCAN" -a 127.0.0.1 -r 1-65535 -t 1000 -g --no-config >>"$WORK/rustscan.t"
    fi
    echo "  round $round: sockx $(tail -1 "$WORK/sockx.t") s, nmap $(tail -1 "$WORK/nmap.t") s"
  done
  local s n
  s=$(median <"$WORK/sockx.t"); n=$(median <"$WORK/nmap.t")
  echo "$label: sockx $s s, nmap $n s (median of $ROUNDS), sockx/nmap = $(printf '%.2f' "$(echo "$s / $n" | bc -l)")"
  if [ -n "$RUSTSCAN" ]; then
    local r
    r=$(median <"$WORK/rustscan.t")
    echo "$label: rustscan $r s, sockx/rustscan = $(printf '%.2f' "$(echo "$s / $r" | bc -l)")"
  fi
}

echo "== full scan, ports $DROPPED dropped, ${#OPEN_PORTS[@]} open (target: sockx <= 0.5x nmap)"
run_rounds "dropped-range" "$NS_DROP"
echo "== full scan, all closed (target: sockx <= 0.7x nmap)"
run_rounds "all-closed" "$NS_CLOSED"

echo "== single check of an open port (target: sockx <= 2x nc -z)"
in_ns "$NS_DROP" hyperfine -N --warmup 20 --runs 300 --export-json "$WORK/single.json" \
  "$SOCKX probe -q 127.0.0.1:${OPEN_PORTS[0]}" "nc -z 127.0.0.1 ${OPEN_PORTS[0]}" >/dev/null
python3 - "$WORK/single.json" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
sockx, nc = (r["mean"] * 1000 for r in results)
print(f"single check: sockx {sockx:.2f} ms, nc -z {nc:.2f} ms (mean), sockx/nc = {sockx / nc:.2f}")
PY

echo "== UDP: dnsmasq, chronyd, snmpd, memcached in a namespace, sockx -u vs nmap -sU"
UDP_TOOLS_OK=1
for tool in dnsmasq chronyd snmpd memcached; do
  command -v "$tool" >/dev/null || { echo "  skipped: $tool is not installed"; UDP_TOOLS_OK=; }
done
if [ -n "$UDP_TOOLS_OK" ]; then
  NS_UDP=sockx-bench-udp-$$
  ip netns add "$NS_UDP"
  ip netns exec "$NS_UDP" ip link set lo up
  UDP_PIDS=()
  printf 'allow 127.0.0.1\nport 123\ncmdport 0\nbindcmdaddress /\nlocal stratum 10\npidfile %s/chronyd.pid\n' "$WORK" >"$WORK/chrony.conf"
  printf 'rocommunity public 127.0.0.1\n' >"$WORK/snmpd.conf"
  ip netns exec "$NS_UDP" dnsmasq --no-daemon --port=53 --listen-address=127.0.0.1 --bind-interfaces \
    --no-resolv --no-hosts -C /dev/null --pid-file="$WORK/dnsmasq.pid" >/dev/null 2>&1 & UDP_PIDS+=($!)
  ip netns exec "$NS_UDP" chronyd -d -x -f "$WORK/chrony.conf" >/dev/null 2>&1 & UDP_PIDS+=($!)
  ip netns exec "$NS_UDP" snmpd -f -Lo -C -c "$WORK/snmpd.conf" -p "$WORK/snmpd.pid" udp:127.0.0.1:161 >/dev/null 2>&1 & UDP_PIDS+=($!)
  ip netns exec "$NS_UDP" memcached -U 11211 -p 0 -l 127.0.0.1 -u root >/dev/null 2>&1 & UDP_PIDS+=($!)
  UDP_PORTS=53,123,161,11211
  in_ns "$NS_UDP" "$SOCKX" probe -q -u "127.0.0.1:$UDP_PORTS" --wait 30s --interval 200ms >/dev/null || true
  echo "  sockx states:"; in_ns "$NS_UDP" "$SOCKX" probe -q -u "127.0.0.1:$UDP_PORTS" | sed 's/^/    /' || true
  echo "  nmap -sU states:"; in_ns "$NS_UDP" nmap -sU -p "$UDP_PORTS" 127.0.0.1 | grep '/udp' | sed 's/^/    /' || true
  : >"$WORK/sockx-udp.t"; : >"$WORK/nmap-udp.t"
  for round in $(seq "$ROUNDS"); do
    seconds in_ns "$NS_UDP" "$SOCKX" probe -u "127.0.0.1:$UDP_PORTS" >>"$WORK/sockx-udp.t"
    seconds in_ns "$NS_UDP" nmap -sU -p "$UDP_PORTS" 127.0.0.1 >>"$WORK/nmap-udp.t"
  done
  s=$(median <"$WORK/sockx-udp.t"); n=$(median <"$WORK/nmap-udp.t")
  echo "udp-services: sockx $s s, nmap -sU $n s (median of $ROUNDS), sockx/nmap = $(printf '%.2f' "$(echo "$s / $n" | bc -l)")"
  # Every process left in the namespace is one of the daemons this script started.
  kill "${UDP_PIDS[@]}" $(ip netns pids "$NS_UDP") 2>/dev/null || true
  wait "${UDP_PIDS[@]}" 2>/dev/null || true
  ip netns delete "$NS_UDP"
fi

echo "== --wait --http against a server that answers 503 for 2 s, then 200 (target: within one interval)"
python3 -u -c '
import http.server, sys, time
start = None
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        global start
        now = time.monotonic()
        start = start or now
        ready = now - start >= 2.0
        if ready and not getattr(H, "first", None):
            H.first = time.time()
            print("first200", H.first, flush=True)
        self.send_response(200 if ready else 503)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
' >"$WORK/http.out" &
HTTP_PID=$!
for _ in $(seq 50); do [ -s "$WORK/http.out" ] && break; sleep 0.1; done
HTTP_PORT=$(head -1 "$WORK/http.out")
"$SOCKX" probe -q --wait 30s --interval 250ms "127.0.0.1:$HTTP_PORT" --http >/dev/null || true
DONE=$(date +%s.%N)
FIRST=$(awk '/first200/ {print $2}' "$WORK/http.out")
kill "$HTTP_PID" 2>/dev/null || true
echo "wait-http: sockx ended $(printf '%.0f' "$(echo "($DONE - $FIRST) * 1000" | bc -l)") ms after the first 200 (interval 250 ms)"

echo "== $HOSTS_BLOCK port 80, every address closed (target: sockx <= 0.5x nmap, under 64 MiB)"
peak() { # runs a command in the all-closed namespace; prints "SECONDS MAX_RSS_KIB"
  /usr/bin/time -f '%e %M' -o "$WORK/time.out" ip netns exec "$NS_CLOSED" "$@" >/dev/null 2>&1 || true
  tail -n 1 "$WORK/time.out" # (GNU time first notes a non-zero exit on a line of its own)
}
read -r s_time s_rss < <(peak "$SOCKX" probe "$HOSTS_BLOCK" -p 80 -t 1s)
read -r n_time n_rss < <(peak nmap -sT -T4 -Pn -n -p 80 "$HOSTS_BLOCK")
echo "hosts: sockx ${s_time} s, $((s_rss / 1024)) MiB peak; nmap ${n_time} s, $((n_rss / 1024)) MiB peak; sockx/nmap = $(printf '%.2f' "$(echo "$s_time / $n_time" | bc -l)")"
