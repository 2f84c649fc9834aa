#!/usr/bin/env bash
# Relay throughput over loopback: SIZE bytes of zeros from a pipe, through one TCP connection,
# into /dev/null, for sockx and the usual anchors, alternating in one run:
#   sockx   head -c SIZE /dev/zero | sockx connect 127.0.0.1:P     sockx listen 127.0.0.1:P > /dev/null
#   nc      head ... | nc -N 127.0.0.1 P                            nc -l 127.0.0.1 P > /dev/null
#   ncat    head ... | ncat --send-only 127.0.0.1 P                 ncat -l --recv-only 127.0.0.1 P > /dev/null
#   socat   head ... | socat -u STDIN TCP:127.0.0.1:P               socat -u TCP-LISTEN:P,bind=127.0.0.1,reuseaddr STDOUT > /dev/null
#   pipe    head ... | cat > /dev/null                              (the pipe-only limit)
# Prints GB/s per tool (mean and best over ROUNDS), the ratio sockx/nc, and the peak RSS of
# each sockx process (/usr/bin/time). Before timing, one untimed sockx transfer into `wc -c`
# checks that every byte arrives. Note: on loopback sockx switches its connection to Reno
# congestion control (src/net/relay/tune.rs); the other tools keep the system default, which
# the header line shows.
#
#   SIZE=4G ROUNDS=3 tests/bench/relay.sh        (SIZE as head -c takes it: 512M, 4G, ...)
set -euo pipefail
cd "$(dirname "$0")/../.."

SIZE=${SIZE:-4G}
ROUNDS=${ROUNDS:-3}
SOCKX=${SOCKX:-target/release/sockx}
TOOLS=(sockx nc ncat socat pipe)

[ -x "$SOCKX" ] || cargo build --release --locked
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
for tool in nc ncat socat; do
  command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }
done

bytes=$(head -c "$SIZE" /dev/zero | wc -c)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

. tests/bench/lib.sh

run_sockx() {
  /usr/bin/time -f %M -o "$work/rss_listen" "$SOCKX" listen 127.0.0.1:0 >/dev/null 2>"$work/ready" &
  local server=$!
  local port=""
  for _ in $(seq 500); do
    port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\) (tcp)$/\1/p' "$work/ready")
    [ -n "$port" ] && break
    sleep 0.01
  done
  [ -n "$port" ] || { echo "sockx listen did not get ready" >&2; cat "$work/ready" >&2; exit 1; }
  local start end
  start=$(now)
  head -c "$SIZE" /dev/zero | /usr/bin/time -f %M -o "$work/rss_connect" "$SOCKX" connect "127.0.0.1:$port"
  wait "$server"
  end=$(now)
  echo $((end - start))
  echo "$(cat "$work/rss_listen") $(cat "$work/rss_connect")" >>"$work/rss"
}

run_pair() { # SERVER-COMMAND CLIENT-COMMAND (with PORT substituted)
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

run_tool() {
  case "$1" in
    sockx) run_sockx ;;
    nc) run_pair 'exec nc -l 127.0.0.1 PORT' 'exec nc -N 127.0.0.1 PORT' ;;
    ncat) run_pair 'exec ncat -l --recv-only 127.0.0.1 PORT' 'exec ncat --send-only 127.0.0.1 PORT' ;;
    socat) run_pair 'exec socat -u TCP-LISTEN:PORT,bind=127.0.0.1,reuseaddr STDOUT' 'exec socat -u STDIN TCP:127.0.0.1:PORT' ;;
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
  "$SOCKX" listen 127.0.0.1:0 2>"$work/check_ready" | wc -c >"$work/check_count" &
  local port=""
  for _ in $(seq 500); do
    port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\) (tcp)$/\1/p' "$work/check_ready")
    [ -n "$port" ] && break
    sleep 0.01
  done
  [ -n "$port" ] || { echo "sockx listen did not get ready" >&2; exit 1; }
  head -c "$SIZE" /dev/zero | "$SOCKX" connect "127.0.0.1:$port"
  wait
  local got
  got=$(cat "$work/check_count")
  [ "$got" = "$bytes" ] || { echo "sockx delivered $got of $bytes bytes" >&2; exit 1; }
}

echo "relay benchmark: $SIZE ($bytes bytes) per transfer, $ROUNDS rounds, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "congestion control: system default $(cat /proc/sys/net/ipv4/tcp_congestion_control 2>/dev/null || echo '?'), sockx on loopback: reno"
check_sockx
echo "check: sockx delivered all $bytes bytes"
rounds

echo
rates
awk -v sockx="$(rate_of sockx)" -v nc="$(rate_of nc)" -v ncat="$(rate_of ncat)" -v socat="$(rate_of socat)" -v pipe="$(rate_of pipe)" 'BEGIN {
  printf "\nsockx/nc: %.2fx   sockx/ncat: %.2fx   sockx/socat: %.2fx   sockx/pipe: %.0f%%\n",
    sockx / nc, sockx / ncat, sockx / socat, 100 * sockx / pipe }'
awk '{ if ($1 > l) l = $1; if ($2 > c) c = $2 }
  END { printf "peak RSS: sockx listen %.1f MiB, sockx connect %.1f MiB\n", l / 1024, c / 1024 }' "$work/rss"
