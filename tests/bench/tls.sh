#!/usr/bin/env bash
# TLS benchmarks.
#
# Part 1, throughput: SIZE bytes of zeros from a pipe through one TLS connection on loopback
# into /dev/null, for sockx and the usual anchors, alternating in one run (each server uses
# an ECDSA P-256 certificate; every pair settles on TLS 1.3 with AES-256-GCM):
#   sockx   head -c SIZE /dev/zero | sockx connect --tls --insecure 127.0.0.1:P
#                                               sockx listen --tls 127.0.0.1:P > /dev/null
#   ncat    head ... | ncat --ssl --send-only 127.0.0.1 P
#                                               ncat -l --ssl --recv-only 127.0.0.1 P > /dev/null
#   socat   head ... | socat -u STDIN OPENSSL:127.0.0.1:P,verify=0
#                                               socat -u OPENSSL-LISTEN:P,... STDOUT > /dev/null
#   stunnel head ... | nc -N 127.0.0.1 C  ->  stunnel client C -> stunnel server P -> nc -l S
#   pipe    head ... | cat > /dev/null    (the pipe-only limit: no network, no TLS)
# and `openssl speed -evp aes-128-gcm` / `aes-256-gcm` (16 KiB blocks) as the cipher's
# one-core limit. Prints GB/s per tool (mean and best over ROUNDS), the ratios, how far sockx
# is from the cipher's limit, and the peak RSS of each sockx side (/usr/bin/time -f %M).
# Before timing, one untimed sockx transfer into `wc -c` checks that every byte arrives.
#
# Part 2, handshakes (root only: a network namespace): 1,000 TLS listeners (one nginx server
# block listening on PORTS, default 20000-20999, with WORKERS worker processes, default 2,
# its own config in a temp dir) inside a namespace this script creates and deletes; `sockx probe --tls` of them all against a loop of `openssl s_client`
# and against `nmap --script +ssl-cert`, each checked to have seen every port.
#
#   SIZE=4G ROUNDS=3 tests/bench/tls.sh        (SIZE as head -c takes it: 256M, 4G, ...)
#   PART=1 or PART=2 runs one part only.
#   SOCKX=path picks the sockx binary; SOCKX_OLD=path adds that one to part 1 as "sockx-old",
#   alternating with the others (a before/after comparison under the same load).
# Traffic stays on loopback (part 1) or inside the namespace (part 2).
set -euo pipefail
cd "$(dirname "$0")/../.."

SIZE=${SIZE:-4G}
ROUNDS=${ROUNDS:-3}
PART=${PART:-all}
PORTS=${PORTS:-20000-20999}
WORKERS=${WORKERS:-2}
SOCKX=${SOCKX:-$PWD/target/release/sockx}
SOCKX_OLD=${SOCKX_OLD:-}
TOOLS=(sockx ncat socat stunnel pipe)
[ -n "$SOCKX_OLD" ] && TOOLS=(sockx sockx-old ncat socat stunnel pipe)

[ -x "$SOCKX" ] || cargo build --release --locked
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
for tool in openssl ncat socat stunnel4 nc python3; do
  command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }
done

work=$(mktemp -d)
NS=sockx-bench-tls-$$
SERVER_PID=
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  # shellcheck disable=SC2046 # the PIDs this script started, one word each
  [ -s "$work/pids" ] && kill $(cat "$work/pids") 2>/dev/null || true
  ip netns delete "$NS" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

. tests/bench/lib.sh

sockx_client() { # BINARY PORT [PREFIX...]: stdin to 127.0.0.1:PORT over TLS, run under PREFIX
  local binary=$1 port=$2
  shift 2
  "$@" "$binary" connect --tls --insecure "127.0.0.1:$port"
}

sockx_port() { # READY-FILE: the port of 'listening on 127.0.0.1:P (tls)'
  local port=""
  for _ in $(seq 1000); do
    port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\) (tls)$/\1/p' "$1")
    [ -n "$port" ] && break
    sleep 0.01
  done
  [ -n "$port" ] || { echo "sockx listen did not get ready" >&2; cat "$1" >&2; exit 1; }
  echo "$port"
}

run_sockx() { # BINARY
  local binary=$1
  /usr/bin/time -f %M -o "$work/rss_listen" "$binary" listen --tls 127.0.0.1:0 >/dev/null 2>"$work/ready" </dev/null &
  local server=$! port start end
  port=$(sockx_port "$work/ready")
  start=$(now)
  head -c "$SIZE" /dev/zero | sockx_client "$binary" "$port" /usr/bin/time -f %M -o "$work/rss_connect"
  wait "$server"
  end=$(now)
  echo $((end - start))
  if [ "$binary" = "$SOCKX" ]; then
    echo "$(cat "$work/rss_listen") $(cat "$work/rss_connect")" >>"$work/rss"
  fi
}

run_pair() { # SERVER-COMMAND CLIENT-COMMAND (PORT substituted)
  local port server start end
  port=$(free_port)
  bash -c "${1//PORT/$port}" >/dev/null </dev/null &
  server=$!
  wait_listening "$port"
  start=$(now)
  head -c "$SIZE" /dev/zero | bash -c "${2//PORT/$port}"
  wait "$server"
  end=$(now)
  echo $((end - start))
}

run_stunnel() { # nc -> stunnel client -> TLS -> stunnel server -> nc -l
  local sink tls entry start end conf_s conf_c
  sink=$(free_port) tls=$(free_port) entry=$(free_port)
  conf_s="$work/stunnel-server.conf" conf_c="$work/stunnel-client.conf"
  cat >"$conf_s" <<EOF
foreground = yes
pid =
[bench]
accept = 127.0.0.1:$tls
connect = 127.0.0.1:$sink
cert = $work/cert.pem
key = $work/key.pem
EOF
  cat >"$conf_c" <<EOF
foreground = yes
pid =
[bench]
client = yes
accept = 127.0.0.1:$entry
connect = 127.0.0.1:$tls
verifyChain = no
EOF
  nc -l 127.0.0.1 "$sink" >/dev/null </dev/null &
  local sink_pid=$!
  stunnel4 "$conf_s" 2>"$work/stunnel-server.log" &
  local server_pid=$!
  stunnel4 "$conf_c" 2>"$work/stunnel-client.log" &
  local client_pid=$!
  echo "$sink_pid $server_pid $client_pid" >>"$work/pids" # for the exit trap, whatever happens
  wait_listening "$sink"
  wait_listening "$tls"
  wait_listening "$entry"
  start=$(now)
  head -c "$SIZE" /dev/zero | nc -N 127.0.0.1 "$entry"
  wait "$sink_pid" || true
  end=$(now)
  kill "$server_pid" "$client_pid" 2>/dev/null || true
  wait "$server_pid" "$client_pid" 2>/dev/null || true
  : >"$work/pids" # all reaped: nothing for the trap (their PIDs may be reused)
  echo $((end - start))
}

run_tool() {
  local cert="$work/cert.pem" key="$work/key.pem"
  case "$1" in
    sockx) run_sockx "$SOCKX" ;;
    sockx-old) run_sockx "$SOCKX_OLD" ;;
    ncat) run_pair "exec ncat -l --ssl --ssl-cert $cert --ssl-key $key --recv-only 127.0.0.1 PORT" \
      'exec ncat --ssl --send-only 127.0.0.1 PORT' ;;
    socat) run_pair "exec socat -u OPENSSL-LISTEN:PORT,bind=127.0.0.1,reuseaddr,cert=$cert,key=$key,verify=0 STDOUT" \
      'exec socat -u STDIN OPENSSL:127.0.0.1:PORT,verify=0' ;;
    stunnel) run_stunnel ;;
    pipe)
      local start end
      start=$(now)
      head -c "$SIZE" /dev/zero | cat >/dev/null
      end=$(now)
      echo $((end - start))
      ;;
  esac
}

check_sockx() { # one untimed transfer: the listener must write out exactly $bytes bytes
  "$SOCKX" listen --tls 127.0.0.1:0 2>"$work/check_ready" </dev/null | wc -c >"$work/check_count" &
  local port
  port=$(sockx_port "$work/check_ready")
  head -c "$SIZE" /dev/zero | sockx_client "$SOCKX" "$port"
  wait
  local got
  got=$(cat "$work/check_count")
  [ "$got" = "$bytes" ] || { echo "sockx delivered $got of $bytes bytes" >&2; exit 1; }
}

cipher_limit() { # ALGORITHM: one core's GB/s on 16 KiB blocks
  openssl speed -evp "$1" -bytes 16384 -seconds 2 2>/dev/null |
    awk -v alg="$1" 'toupper($1) == toupper(alg) { v = $NF; sub(/k$/, "", v); printf "%.2f\n", v * 1000 / 1e9 }'
}

part_throughput() {
  bytes=$(head -c "$SIZE" /dev/zero | wc -c)
  echo "TLS throughput: $SIZE ($bytes bytes) per transfer, $ROUNDS rounds, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
  local aes128 aes256
  aes128=$(cipher_limit aes-128-gcm)
  aes256=$(cipher_limit aes-256-gcm)
  echo "cipher limit (openssl speed -evp, 16 KiB blocks, one core): aes-128-gcm $aes128 GB/s, aes-256-gcm $aes256 GB/s"
  check_sockx
  echo "check: sockx delivered all $bytes bytes"
  : >"$work/times"
  for round in $(seq "$ROUNDS"); do
    local line="round $round:" tool ns
    for tool in "${TOOLS[@]}"; do
      ns=$(run_tool "$tool")
      echo "$tool $ns" >>"$work/times"
      line+=$(awk -v b="$bytes" -v ns="$ns" -v t="$tool" 'BEGIN { printf "  %s %.2f GB/s", t, b / ns }')
    done
    echo "$line"
  done
  echo
  awk -v b="$bytes" -v aes128="$aes128" -v aes256="$aes256" '
    { total[$1] += $2; n[$1]++; if (!($1 in best) || $2 < best[$1]) best[$1] = $2 }
    END {
      split("sockx sockx-old ncat socat stunnel pipe", order, " ")
      printf "%-9s %10s %10s\n", "tool", "mean GB/s", "best GB/s"
      for (i = 1; i <= 6; i++) {
        t = order[i]
        if (!(t in n)) continue
        rate[t] = b * n[t] / total[t]
        printf "%-9s %10.2f %10.2f\n", t, rate[t], b / best[t]
      }
      if ("sockx-old" in n)
        printf "\nsockx/sockx-old: %.2fx   sockx-old/ncat: %.2fx\n", rate["sockx"] / rate["sockx-old"], rate["sockx-old"] / rate["ncat"]
      printf "\nsockx/ncat: %.2fx   sockx/socat: %.2fx   sockx/stunnel: %.2fx\n",
        rate["sockx"] / rate["ncat"], rate["sockx"] / rate["socat"], rate["sockx"] / rate["stunnel"]
      printf "sockx is %.0f%% of aes-256-gcm on one core (%.0f%% of aes-128-gcm), %.0f%% of the pipe alone\n",
        100 * rate["sockx"] / aes256, 100 * rate["sockx"] / aes128, 100 * rate["sockx"] / rate["pipe"]
    }' "$work/times"
  awk '{ if ($1 > l) l = $1; if ($2 > c) c = $2 }
    END { printf "peak RSS: sockx listen --tls %.1f MiB, client %.1f MiB\n", l / 1024, c / 1024 }' "$work/rss"
}

server_cpu() { # CPU seconds the fixture's processes have used so far (user + system)
  local stats=()
  for pid in $(cat "$work/tls-servers.pids"); do stats+=("/proc/$pid/stat"); done
  awk -v hz="$(getconf CLK_TCK)" '{ t += $14 + $15 } END { printf "%.2f\n", t / hz }' "${stats[@]}"
}

timed_against_server() { # LABEL COMMAND...: wall time, and the fixture's CPU use meanwhile
  local label=$1 start end cpu0 cpu1
  shift
  cpu0=$(server_cpu)
  start=$(now)
  "$@"
  end=$(now)
  cpu1=$(server_cpu)
  wall=$(awk -v ns=$((end - start)) 'BEGIN { printf "%.2f", ns / 1e9 }')
  busy=$(awk -v a="$cpu0" -v b="$cpu1" -v w="$wall" 'BEGIN { printf "%.0f", 100 * (b - a) / w }')
}

part_handshakes() {
  if [ "$(id -u)" != 0 ]; then
    echo "part 2 skipped: needs root for a network namespace"
    return
  fi
  for tool in nmap nginx; do
    command -v "$tool" >/dev/null || { echo "part 2 needs $tool" >&2; exit 1; }
  done
  local first=${PORTS%-*} last=${PORTS#*-}
  local count=$((last - first + 1))
  ip netns add "$NS"
  ip netns exec "$NS" ip link set lo up
  # nginx (C, event-driven; WORKERS processes share the listening sockets) rather than a
  # python3 asyncio server, which used a whole core and so timed itself, not the clients.
  local conf="$work/nginx" port
  mkdir -p "$conf/logs"
  {
    echo "daemon off;"
    echo "worker_processes $WORKERS;"
    echo "worker_rlimit_nofile $((4 * count + 4096));"
    echo "pid $conf/nginx.pid;"
    echo "error_log $conf/logs/error.log;"
    echo "events { worker_connections $((2 * count + 2048)); }"
    echo "http {"
    echo "  access_log off;"
    for dir in client_body proxy fastcgi uwsgi scgi; do echo "  ${dir}_temp_path $conf/$dir;"; done
    echo "  server {"
    for port in $(seq "$first" "$last"); do echo "    listen 127.0.0.1:$port ssl;"; done
    echo "    ssl_certificate $work/cert.pem;"
    echo "    ssl_certificate_key $work/key.pem;"
    echo "    return 204;"
    echo "  }"
    echo "}"
  } >"$conf/nginx.conf"
  ip netns exec "$NS" nginx -p "$conf" -e "$conf/logs/error.log" -c "$conf/nginx.conf" 2>"$work/tls-servers.err" &
  SERVER_PID=$! # ip netns exec execs nginx: this is its master process
  local listening=0 workers=()
  for _ in $(seq 600); do
    listening=$(ip netns exec "$NS" ss -Hltn | wc -l)
    workers=()
    # (no newline at the end of that file: read fills the array and still says "end of file")
    read -r -a workers <"/proc/$SERVER_PID/task/$SERVER_PID/children" 2>/dev/null || true
    [ "$listening" -ge "$count" ] && [ "${#workers[@]}" -ge "$WORKERS" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [ "$listening" -lt "$count" ] || [ "${#workers[@]}" -lt "$WORKERS" ]; then
    echo "nginx did not start its $count listeners ($listening listening, ${#workers[@]} workers)" >&2
    cat "$work/tls-servers.err" "$conf/logs/error.log" >&2 2>/dev/null || true
    exit 1
  fi
  echo "$SERVER_PID ${workers[*]}" >"$work/tls-servers.pids"
  echo
  echo "TLS handshakes: $count listeners (nginx $(nginx -v 2>&1 | sed 's|.*nginx/||'), $WORKERS workers, ports $PORTS) in namespace $NS"
  local sockx_s loop_s nmap_s seen wall busy
  probe_all() { ip netns exec "$NS" "$SOCKX" probe --tls --json "127.0.0.1:$PORTS" >"$work/probe.json" 2>"$work/probe.err" || true; }
  timed_against_server sockx probe_all
  sockx_s=$wall
  seen=$(grep -c '"sha256":"' "$work/probe.json" || true)
  [ "$seen" = "$count" ] || { echo "sockx probe --tls saw $seen certificates of $count" >&2; exit 1; }
  echo "sockx probe --tls:         ${sockx_s} s ($seen certificates; the server used ${busy}% of a core)"
  s_client_loop() {
    ip netns exec "$NS" bash -c '
      for port in $(seq "$1" "$2"); do
        openssl s_client -connect "127.0.0.1:$port" </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256
      done' _ "$first" "$last" >"$work/s_client.out"
  }
  timed_against_server loop s_client_loop
  loop_s=$wall
  seen=$(grep -c Fingerprint "$work/s_client.out" || true)
  [ "$seen" = "$count" ] || { echo "the openssl loop saw $seen certificates of $count" >&2; exit 1; }
  echo "openssl s_client loop:     ${loop_s} s ($seen certificates; the server used ${busy}% of a core)"
  nmap_all() { ip netns exec "$NS" nmap -n -Pn -sT -T4 --script +ssl-cert -p "$PORTS" 127.0.0.1 >"$work/nmap.out"; }
  timed_against_server nmap nmap_all
  nmap_s=$wall
  seen=$(grep -c 'Subject: commonName' "$work/nmap.out" || true)
  [ "$seen" = "$count" ] || { echo "nmap saw $seen certificates of $count" >&2; exit 1; }
  echo "nmap --script +ssl-cert:   ${nmap_s} s ($seen certificates; the server used ${busy}% of a core)"
  awk -v s="$sockx_s" -v l="$loop_s" -v n="$nmap_s" \
    'BEGIN { printf "\nsockx/nmap: %.3fx   sockx/s_client loop: %.3fx\n", s / n, s / l }'
}

case "$PART" in
  1) part_throughput ;;
  2) part_handshakes ;;
  *) part_throughput; part_handshakes ;;
esac
