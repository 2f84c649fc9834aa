#!/usr/bin/env bash
# Keep-open echo under load: `sockx listen -k --echo` with CLIENTS concurrent clients, each
# sending BYTES and reading them back (every byte verified by tests/bench/echo_client.rs).
# Reports aggregate throughput, the time for all clients to finish, whether the listener is
# still alive afterwards, and its peak RSS (VmHWM). Then, with COMPARE_CLIENTS clients, the same
# load against sockx, `ncat -l -k --exec /bin/cat` and `socat TCP-LISTEN:P,fork EXEC:cat`,
# alternating, ROUNDS times, side by side.
#
# Usage: tests/bench/keepopen.sh            (CLIENTS=2000 BYTES=1048576 COMPARE_CLIENTS=200 ROUNDS=3)
set -euo pipefail
cd "$(dirname "$0")/../.."

CLIENTS=${CLIENTS:-2000}
BYTES=${BYTES:-1048576}
COMPARE_CLIENTS=${COMPARE_CLIENTS:-200}
ROUNDS=${ROUNDS:-3}
CLIENT_TIMEOUT=${CLIENT_TIMEOUT:-120}

ulimit -n "$(ulimit -Hn)"
cargo build --release --quiet --bin sockx --example echo_client 2>/dev/null ||
  cargo build --release --bin sockx --example echo_client
SOCKX=target/release/sockx
CLIENT=target/release/examples/echo_client
TMP=$(mktemp -d)
SERVER_PID=
# Each server runs in its own session (setsid), so that it and every child it forked (ncat and
# socat fork per connection) end together.
stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill -- "-$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=
}
cleanup() {
  stop_server
  rm -rf "$TMP"
}
trap cleanup EXIT

# A port nobody listens on (loopback only).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {
  for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.02
  done
  echo "nothing listens on port $1" >&2
  return 1
}

# start_server NAME -> sets SERVER_PID and PORT
start_server() {
  case $1 in
    sockx)
      setsid "$SOCKX" listen -k --echo 127.0.0.1:0 </dev/null >/dev/null 2>"$TMP/ready" &
      SERVER_PID=$!
      for _ in $(seq 200); do grep -q listening "$TMP/ready" && break; sleep 0.02; done
      PORT=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\) (tcp)$/\1/p' "$TMP/ready")
      ;;
    ncat)
      PORT=$(free_port)
      setsid ncat -l -k --max-conns 100000 --exec /bin/cat 127.0.0.1 "$PORT" </dev/null >/dev/null 2>&1 &
      SERVER_PID=$!
      wait_port "$PORT"
      ;;
    socat)
      PORT=$(free_port)
      setsid socat "TCP-LISTEN:$PORT,bind=127.0.0.1,fork,reuseaddr,backlog=4096" EXEC:cat </dev/null >/dev/null 2>&1 &
      SERVER_PID=$!
      wait_port "$PORT"
      ;;
  esac
}

# run_load NAME CLIENTS -> prints "NAME CLIENTS elapsed MiB/s ok alive hwm_kib"
run_load() {
  local name=$1 clients=$2 line status alive hwm
  start_server "$name"
  set +e
  line=$(timeout "$CLIENT_TIMEOUT" "$CLIENT" "127.0.0.1:$PORT" "$clients" "$BYTES" 2>"$TMP/client.err")
  status=$?
  set -e
  hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || echo "?")
  if kill -0 "$SERVER_PID" 2>/dev/null; then alive=yes; else alive=NO; fi
  stop_server
  local elapsed rate ok
  elapsed=$(sed -n 's/.*elapsed_s=\([0-9.]*\).*/\1/p' <<<"$line")
  rate=$(sed -n 's/.*mib_per_s=\([0-9.]*\).*/\1/p' <<<"$line")
  ok=$(sed -n 's/.*ok=\([0-9]*\).*/\1/p' <<<"$line")
  if [ "$status" = 124 ]; then
    echo "  $name: clients still waiting after ${CLIENT_TIMEOUT}s (bytes lost), stopped" >&2
    ok="?"
  elif [ "$status" != 0 ]; then
    echo "  $name: client reported failures:" >&2
    head -3 "$TMP/client.err" >&2
  fi
  printf '%-6s %7s %9s %10s %7s %6s %9s\n' "$name" "$clients" "${elapsed:-?}" "${rate:-?}" "${ok:-0}/$clients" "$alive" "$hwm"
}

header() {
  printf '%-6s %7s %9s %10s %7s %6s %9s\n' server clients time_s MiB/s ok alive hwm_KiB
}

echo "== sockx listen -k --echo: $CLIENTS clients x $BYTES bytes each way (every byte verified)"
echo "   (MiB/s counts both directions through the listener; hwm = the listener's peak RSS)"
header
for _ in $(seq "$ROUNDS"); do run_load sockx "$CLIENTS"; done | tee "$TMP/big"

echo
echo "== side by side, $COMPARE_CLIENTS clients x $BYTES bytes, alternating, $ROUNDS rounds"
echo "   (ncat and socat run one cat process per client; their hwm is the listener process only)"
header
for _ in $(seq "$ROUNDS"); do
  for name in sockx ncat socat; do run_load "$name" "$COMPARE_CLIENTS"; done
done | tee "$TMP/small"

echo
echo "== medians"
for name in sockx ncat socat; do
  awk -v n="$name" '$1==n && $3 ~ /^[0-9.]+$/ {print $3}' "$TMP/small" | sort -n | awk -v n="$name" '
    {v[NR]=$1} END {if (NR) printf "%-6s median time %.3fs over %d complete rounds\n", n, v[int((NR+1)/2)], NR
                    else printf "%-6s no complete round (bytes lost or clients stuck)\n", n}'
done | tee "$TMP/medians"
sockx_t=$(awk '$1=="sockx" {print $4}' "$TMP/medians" | tr -d s)
for name in ncat socat; do
  t=$(awk -v n="$name" '$1==n {print $4}' "$TMP/medians" | tr -d s)
  [[ $t =~ ^[0-9.]+$ && $sockx_t =~ ^[0-9.]+$ ]] && awk -v a="$t" -v b="$sockx_t" -v n="$name" \
    'BEGIN {printf "%s takes %.2fx the time of sockx\n", n, a/b}' || true
done
