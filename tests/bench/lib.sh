# Pieces every benchmark script here shares; sourced, not run. Each script sets `work` (its
# temp dir) and, for `rounds`, `bytes`, `ROUNDS`, `TOOLS` and a `run_tool TOOL` that prints
# the nanoseconds one transfer took.

now() { date +%s%N; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_listening() { # PORT: a TCP listener on it, within 10 s
  for _ in $(seq 1000); do
    ss -Hltn "sport = :$1" | grep -q . && return 0
    sleep 0.01
  done
  echo "nothing listens on $1" >&2
  return 1
}

rounds() { # every tool once per round, alternating; a line per round; times into $work/times
  local round tool ns line
  for round in $(seq "$ROUNDS"); do
    line="round $round:"
    for tool in "${TOOLS[@]}"; do
      ns=$(run_tool "$tool")
      echo "$tool $ns" >>"$work/times"
      line+=$(awk -v b="$bytes" -v ns="$ns" -v t="$tool" 'BEGIN { printf "  %s %.2f GB/s", t, b / ns }')
    done
    echo "$line"
  done
}

rates() { # the mean and best GB/s of every tool in $work/times, in TOOLS' order; the means
  # also go to $work/rates as "TOOL GB/s" lines, for the script's ratio line
  awk -v b="$bytes" -v order="${TOOLS[*]}" -v out="$work/rates" '
    { total[$1] += $2; n[$1]++; if (!($1 in best) || $2 < best[$1]) best[$1] = $2 }
    END {
      count = split(order, tools, " ")
      printf "%-6s %10s %10s\n", "tool", "mean GB/s", "best GB/s"
      for (i = 1; i <= count; i++) {
        t = tools[i]
        rate = b * n[t] / total[t]
        printf "%-6s %10.2f %10.2f\n", t, rate, b / best[t]
        printf "%s %f\n", t, rate > out
      }
    }' "$work/times"
}

rate_of() { # TOOL: its mean GB/s from `rates`
  awk -v t="$1" '$1 == t { print $2 }' "$work/rates"
}
