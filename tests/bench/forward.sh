#!/usr/bin/env bash
# Port forwarding on loopback: `sockx listen --forward` against the usual forwarders.
#
# 1. Throughput: SIZE bytes of zeros through one forwarded connection,
#      head -c SIZE /dev/zero | sockx connect 127.0.0.1:F  ->  FORWARDER  ->  sockx listen 127.0.0.1:S > /dev/null
#    with FORWARDER, alternating in one run, ROUNDS times:
#      sockx   sockx listen 127.0.0.1:F --forward 127.0.0.1:S
#      socat   socat TCP-LISTEN:F,bind=127.0.0.1,fork,reuseaddr TCP:127.0.0.1:S
#      ncat    ncat -lk 127.0.0.1 F --sh-exec "ncat 127.0.0.1 S"
#      direct  no forwarder: the client connects to S (the limit)
#    Targets: sockx >= 3x socat and >= 0.7x direct.
# 2. Load: CLIENTS concurrent clients, each sending BYTES through the forwarder to
#    `sockx listen -k --echo` and reading them back (every byte verified by
#    tests/bench/echo_client.rs); time for all and the forwarder's peak RSS (VmHWM; target
#    < 64 MiB), against `socat TCP-LISTEN:F,fork TCP:127.0.0.1:E` (one process per client).
# 3. TLS termination: TLS_SIZE bytes through `sockx listen --tls --forward` against stunnel4
#    doing the same job (client: `sockx connect --tls --insecure`). Target: >= 2x stunnel4.
#    Skipped when this sockx has no `listen --tls` or `connect --tls`.
#
#   SIZE=4G TLS_SIZE=4G CLIENTS=2000 BYTES=1048576 ROUNDS=3 tests/bench/forward.sh
#
# SOCKX_OLD=path/to/another/sockx adds that binary's forwarder as `sockx-old` to parts 1 and 2
# (the clients, sinks and echo servers stay $SOCKX's), to compare two builds in one run.
set -euo pipefail
cd "$(dirname "$0")/../.."

SIZE=${SIZE:-4G}
TLS_SIZE=${TLS_SIZE:-$SIZE}
CLIENTS=${CLIENTS:-2000}
BYTES=${BYTES:-1048576}
ROUNDS=${ROUNDS:-3}
CLIENT_TIMEOUT=${CLIENT_TIMEOUT:-300}
SOCKX=${SOCKX:-target/release/sockx}
SOCKX_OLD=${SOCKX_OLD:-}
CLIENT=${CLIENT:-target/release/examples/echo_client}

ulimit -n "$(ulimit -Hn)"
if [ ! -x "$SOCKX" ] || [ ! -x "$CLIENT" ]; then
  cargo build --release --locked --bin sockx --example echo_client
fi
for tool in socat ncat python3; do
  command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }
done

work=$(mktemp -d)
PIDS=()
# Every server runs in its own session (setsid), so that it and whatever it forked (socat and
# ncat fork per connection) end together.
stop_all() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
}
trap 'stop_all; rm -rf "$work"' EXIT

. tests/bench/lib.sh

ready_port() { # FILE: the port of sockx's ready line in FILE
  local port=""
  for _ in $(seq 500); do
    port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\) (t[cl][ps])$/\1/p' "$1" 2>/dev/null)
    [ -n "$port" ] && { echo "$port"; return 0; }
    sleep 0.01
  done
  echo "sockx did not get ready: $(cat "$1")" >&2
  return 1
}

# start_sockx NAME ARGS... : a sockx listen in its own session; sets PORT (from its ready line)
# and SERVER (its PID). BINARY (default $SOCKX) is the sockx that runs.
start_sockx() {
  local name=$1
  shift
  setsid "${BINARY:-$SOCKX}" listen "$@" </dev/null >/dev/null 2>"$work/$name.ready" &
  SERVER=$!
  PIDS+=("$SERVER")
  PORT=$(ready_port "$work/$name.ready")
}

# start_forwarder TOOL TARGET-PORT [TLS]: sets FWD (its port) and FWD_PID.
start_forwarder() {
  local tool=$1 target=$2
  case $tool in
    sockx)
      start_sockx forwarder 127.0.0.1:0 -k --forward "127.0.0.1:$target"
      FWD=$PORT
      FWD_PID=$SERVER
      ;;
    sockx-old)
      BINARY=$SOCKX_OLD start_sockx forwarder 127.0.0.1:0 -k --forward "127.0.0.1:$target"
      FWD=$PORT
      FWD_PID=$SERVER
      ;;
    sockx-tls)
      start_sockx forwarder 127.0.0.1:0 -k --tls --cert "$work/server.pem" --key "$work/server.key" --forward "127.0.0.1:$target"
      FWD=$PORT
      FWD_PID=$SERVER
      ;;
    socat)
      FWD=$(free_port)
      setsid socat "TCP-LISTEN:$FWD,bind=127.0.0.1,fork,reuseaddr,backlog=4096" "TCP:127.0.0.1:$target" </dev/null >/dev/null 2>&1 &
      FWD_PID=$!
      PIDS+=("$FWD_PID")
      wait_listening "$FWD"
      ;;
    ncat)
      FWD=$(free_port)
      setsid ncat -lk --max-conns 100000 127.0.0.1 "$FWD" --sh-exec "ncat 127.0.0.1 $target" </dev/null >/dev/null 2>&1 &
      FWD_PID=$!
      PIDS+=("$FWD_PID")
      wait_listening "$FWD"
      ;;
    stunnel)
      FWD=$(free_port)
      cat >"$work/stunnel.conf" <<EOF
foreground = yes
pid =
[forward]
accept = 127.0.0.1:$FWD
connect = 127.0.0.1:$target
cert = $work/server.pem
key = $work/server.key
EOF
      setsid stunnel4 "$work/stunnel.conf" </dev/null >/dev/null 2>&1 &
      FWD_PID=$!
      PIDS+=("$FWD_PID")
      wait_listening "$FWD"
      ;;
  esac
}

# transfer TOOL SIZE [CONNECT-FLAGS...]: one SIZE transfer through TOOL (direct: none) into a
# one-shot `sockx listen > /dev/null`; prints nanoseconds.
transfer() {
  local tool=$1 size=$2
  shift 2
  "$SOCKX" listen 127.0.0.1:0 </dev/null >/dev/null 2>"$work/sink.ready" &
  local sink=$! sink_port
  sink_port=$(ready_port "$work/sink.ready")
  local port=$sink_port
  if [ "$tool" != direct ]; then
    start_forwarder "$tool" "$sink_port"
    port=$FWD
  fi
  local start end
  start=$(now)
  head -c "$size" /dev/zero | "$SOCKX" connect "$@" "127.0.0.1:$port" >/dev/null
  wait "$sink"
  end=$(now)
  stop_all
  echo $((end - start))
}

check_bytes() { # one untimed transfer through sockx: the sink must get every byte
  "$SOCKX" listen 127.0.0.1:0 </dev/null 2>"$work/check.ready" | wc -c >"$work/check.count" &
  local counter=$! sink_port
  sink_port=$(ready_port "$work/check.ready")
  start_forwarder sockx "$sink_port"
  head -c "$SIZE" /dev/zero | "$SOCKX" connect "127.0.0.1:$FWD" >/dev/null
  wait "$counter"
  stop_all
  local got
  got=$(cat "$work/check.count")
  [ "$got" = "$bytes" ] || { echo "the forwarder delivered $got of $bytes bytes" >&2; exit 1; }
}

summary() { # FILE REFERENCE OTHERS...: mean and best GB/s per tool, ratios against REFERENCE
  local file=$1 size_bytes=$2
  shift 2
  awk -v b="$size_bytes" -v tools="$*" '
    { total[$1] += $2; n[$1]++; if (!($1 in best) || $2 < best[$1]) best[$1] = $2 }
    END {
      count = split(tools, order, " ")
      printf "%-10s %10s %10s\n", "forwarder", "mean GB/s", "best GB/s"
      for (i = 1; i <= count; i++) {
        t = order[i]
        if (!(t in n)) continue
        rate[t] = b * n[t] / total[t]
        printf "%-10s %10.2f %10.2f\n", t, rate[t], b / best[t]
      }
      line = ""
      for (i = 2; i <= count; i++) {
        t = order[i]
        if (t in rate) line = line sprintf("  %s/%s: %.2fx", order[1], t, rate[order[1]] / rate[t])
      }
      print line
    }' "$file"
}

bytes=$(head -c "$SIZE" /dev/zero | wc -c)
old=()
[ -n "$SOCKX_OLD" ] && old=(sockx-old)
echo "forward benchmark: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "== 1. one connection, $SIZE ($bytes bytes), $ROUNDS rounds, alternating"
check_bytes
echo "check: the sockx forwarder delivered all $bytes bytes"
for round in $(seq "$ROUNDS"); do
  line="round $round:"
  for tool in sockx "${old[@]}" socat ncat direct; do
    ns=$(transfer "$tool" "$SIZE")
    echo "$tool $ns" >>"$work/throughput"
    line+=$(awk -v b="$bytes" -v ns="$ns" -v t="$tool" 'BEGIN { printf "  %s %.2f GB/s", t, b / ns }')
  done
  echo "$line"
done
summary "$work/throughput" "$bytes" sockx "${old[@]}" socat ncat direct

echo
echo "== 2. $CLIENTS concurrent clients x $BYTES bytes each way through the forwarder to sockx listen -k --echo"
printf '%-6s %7s %9s %10s %9s %10s\n' forwarder clients time_s MiB/s ok hwm_KiB
for _ in $(seq "$ROUNDS"); do
  for tool in sockx "${old[@]}" socat; do
    start_sockx echo 127.0.0.1:0 -k --echo
    start_forwarder "$tool" "$PORT"
    set +e
    line=$(timeout "$CLIENT_TIMEOUT" "$CLIENT" "127.0.0.1:$FWD" "$CLIENTS" "$BYTES" 2>"$work/client.err")
    status=$?
    set -e
    hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$FWD_PID/status" 2>/dev/null || echo "?")
    stop_all
    [ "$status" = 0 ] || { echo "  $tool: the clients reported failures (status $status):" >&2; head -3 "$work/client.err" >&2; }
    printf '%-9s %7s %9s %10s %9s %10s\n' "$tool" "$CLIENTS" \
      "$(sed -n 's/.*elapsed_s=\([0-9.]*\).*/\1/p' <<<"$line")" \
      "$(sed -n 's/.*mib_per_s=\([0-9.]*\).*/\1/p' <<<"$line")" \
      "$(sed -n 's/.*ok=\([0-9]*\).*/\1/p' <<<"$line")/$CLIENTS" "$hwm"
  done
done

echo
echo "== 3. TLS termination, $TLS_SIZE, $ROUNDS rounds, alternating"
if ! "$SOCKX" listen --help | grep -q -- '--cert' || ! "$SOCKX" connect --help | grep -q -- '--tls'; then
  echo "skipped: this sockx has no listen --tls or no connect --tls"
  exit 0
fi
command -v stunnel4 >/dev/null || { echo "skipped: needs stunnel4"; exit 0; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$work/server.key" \
  -out "$work/server.pem" -days 2 -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 2>/dev/null
tls_bytes=$(head -c "$TLS_SIZE" /dev/zero | wc -c)
for round in $(seq "$ROUNDS"); do
  line="round $round:"
  for tool in sockx-tls stunnel; do
    ns=$(transfer "$tool" "$TLS_SIZE" --tls --insecure)
    echo "$tool $ns" >>"$work/tls"
    line+=$(awk -v b="$tls_bytes" -v ns="$ns" -v t="$tool" 'BEGIN { printf "  %s %.2f GB/s", t, b / ns }')
  done
  echo "$line"
done
summary "$work/tls" "$tls_bytes" sockx-tls stunnel
