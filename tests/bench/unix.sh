#!/usr/bin/env bash
# Relay throughput over a Unix stream socket: SIZE bytes of zeros from a pipe, through one
# connection, into /dev/null, for sockx and the usual anchors, alternating in one run:
#   sockx   head -c SIZE /dev/zero | sockx connect unix:S     sockx listen unix:S > /dev/null
#   nc      head ... | nc -N -U S                               nc -l -U S > /dev/null
#   socat   head ... | socat -u STDIN UNIX-CONNECT:S            socat -u UNIX-LISTEN:S STDOUT > /dev/null
#   pipe    head ... | cat > /dev/null                          (the pipe-only limit)
# Prints GB/s per tool (mean and best over ROUNDS), the ratios sockx/nc, sockx/socat and
# sockx/pipe, and the peak RSS of each sockx process (/usr/bin/time). Before timing, one
# untimed sockx transfer into `wc -c` checks that every byte arrives.
#
#   SIZE=4G ROUNDS=3 tests/bench/unix.sh        (SIZE as head -c takes it: 512M, 4G, ...)
set -euo pipefail
cd "$(dirname "$0")/../.."

SIZE=${SIZE:-4G}
ROUNDS=${ROUNDS:-3}
SOCKX=${SOCKX:-target/release/sockx}
TOOLS=(sockx nc socat pipe)

[ -x "$SOCKX" ] || cargo build --release --locked
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
for tool in nc socat ss; do
  command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }
done
nc -h 2>&1 | grep -q -- '-U' || { echo "needs an nc with -U (netcat-openbsd)" >&2; exit 1; }

bytes=$(head -c "$SIZE" /dev/zero | wc -c)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sock="$work/bench.sock"

. tests/bench/lib.sh

wait_unix_listening() { # PATH: a listening socket bound there (the file alone may come first)
  for _ in $(seq 500); do
    ss -Hxl | grep -qF " $1 " && return 0
    sleep 0.01
  done
  echo "nothing listens on $1" >&2
  return 1
}

wait_ready() { # FILE: sockx's ready line there
  for _ in $(seq 500); do
    grep -q '^listening on unix:' "$1" && return 0
    sleep 0.01
  done
  echo "sockx listen did not get ready" >&2
  cat "$1" >&2
  exit 1
}

run_sockx() {
  rm -f "$sock"
  /usr/bin/time -f %M -o "$work/rss_listen" "$SOCKX" listen "unix:$sock" >/dev/null 2>"$work/ready" &
  local server=$!
  wait_ready "$work/ready"
  local start end
  start=$(now)
  head -c "$SIZE" /dev/zero | /usr/bin/time -f %M -o "$work/rss_connect" "$SOCKX" connect "unix:$sock"
  wait "$server"
  end=$(now)
  echo $((end - start))
  echo "$(cat "$work/rss_listen") $(cat "$work/rss_connect")" >>"$work/rss"
}

run_pair() { # SERVER-COMMAND CLIENT-COMMAND (with SOCK substituted)
  local server start end
  rm -f "$sock"
  bash -c "${1//SOCK/$sock}" >/dev/null </dev/null &
  server=$!
  wait_unix_listening "$sock"
  start=$(now)
  head -c "$SIZE" /dev/zero | bash -c "${2//SOCK/$sock}"
  wait "$server"
  end=$(now)
  echo $((end - start))
}

run_tool() {
  case "$1" in
    sockx) run_sockx ;;
    nc) run_pair 'exec nc -l -U SOCK' 'exec nc -N -U SOCK' ;;
    socat) run_pair 'exec socat -u UNIX-LISTEN:SOCK STDOUT' 'exec socat -u STDIN UNIX-CONNECT:SOCK' ;;
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
  rm -f "$sock"
  "$SOCKX" listen "unix:$sock" 2>"$work/check_ready" | wc -c >"$work/check_count" &
  wait_ready "$work/check_ready"
  head -c "$SIZE" /dev/zero | "$SOCKX" connect "unix:$sock"
  wait
  local got
  got=$(cat "$work/check_count")
  [ "$got" = "$bytes" ] || { echo "sockx delivered $got of $bytes bytes" >&2; exit 1; }
}

echo "unix socket benchmark: $SIZE ($bytes bytes) per transfer, $ROUNDS rounds, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
check_sockx
echo "check: sockx delivered all $bytes bytes"
rounds

echo
rates
awk -v sockx="$(rate_of sockx)" -v nc="$(rate_of nc)" -v socat="$(rate_of socat)" -v pipe="$(rate_of pipe)" 'BEGIN {
  printf "\nsockx/nc: %.2fx   sockx/socat: %.2fx   sockx/pipe: %.2f (targets: >= 2.5x nc, >= 0.7 pipe)\n",
    sockx / nc, sockx / socat, sockx / pipe }'
awk '{ if ($1 > l) l = $1; if ($2 > c) c = $2 }
  END { printf "peak RSS: sockx listen %.1f MiB, sockx connect %.1f MiB\n", l / 1024, c / 1024 }' "$work/rss"
