#!/usr/bin/env bash
# Laminar beside Slipway (issues 11 and 13): the same no-op job through three servers in ONE run,
# rounds interleaved (the order of the three rotates each round), on loopback only:
#   Laminar          laminard built by ../shared/peers/build-laminar, its own LAMINAR_HOME,
#                    one job running `true`, EXECUTORS=2;
#   Slipway host     `slipway serve` with `executor: host`, `concurrency: 2`, one repository
#                    whose .slipway.yml has one suite running `true`;
#   Slipway sandbox  the same with the sandbox executor (the server's default).
# Measures, printed as one table row each with the ratios Slipway ÷ Laminar:
#   (a) no-op trigger → done, p50 and p95 of LATENCY_RUNS single runs (split over the rounds):
#       Laminar's RPC `run` (returns with the result); Slipway's POST …/trigger, then GET
#       /api/v1/runs/ID every 0.5 ms until finished. Both timed inside one client process
#       (bench/peers/peers_client.cpp), so no figure includes starting laminarc or curl;
#   (b) BATCH no-ops queued at once, 2 running at a time: runs per second from the first trigger
#       to the last result, the median of the rounds;
#   (c) idle RSS of the server process (VmRSS) SETTLE seconds after it is ready, before any run.
#
#   bench/peers.sh [BUILD_DIR]       (default build; needs BUILD_DIR/slipway)
# Environment: ROUNDS [3: each server once in each position], LATENCY_RUNS [50], BATCH [300],
# SETTLE [2], PEERS_DIR [BUILD_DIR/peers:
# Laminar and the client are built there once], SHARED [the repository's ../shared],
# KEEP_WORK=1 keeps the temporary folder (servers' homes and logs).
# Every process it starts is stopped on exit (its process group: SIGTERM, then SIGKILL).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(realpath "${1:-build}")"
slipway="$build/slipway"
peers_dir="$(realpath -m "${PEERS_DIR:-$build/peers}")"
shared="$(realpath -m "${SHARED:-$root/../shared}")"
rounds="${ROUNDS:-3}" latency_runs="${LATENCY_RUNS:-50}" batch="${BATCH:-300}" settle="${SETTLE:-2}"
[ -x "$slipway" ] || { echo "no slipway binary at $slipway: cmake --build build --target slipway" >&2; exit 2; }
[ -x "$shared/peers/build-laminar" ] || { echo "no $shared/peers/build-laminar: set SHARED to the shared folder" >&2; exit 2; }

# --- Laminar and the client, built outside the repository's sources -----------------------------
"$shared/peers/build-laminar" "$peers_dir/laminar" > /dev/null
client="$peers_dir/client/peers_client"
if [ ! -x "$client" ] || [ "$root/bench/peers/peers_client.cpp" -nt "$client" ]; then
  mkdir -p "$peers_dir/client"
  tar -xzf "$shared/peers/laminar-23abdd2.tar.gz" -O laminar/src/laminar.capnp > "$peers_dir/client/laminar.capnp"
  (cd "$peers_dir/client" && capnp compile -oc++ laminar.capnp)
  # shellcheck disable=SC2046
  g++ -std=c++20 -O2 -I"$peers_dir/client" -o "$client" "$root/bench/peers/peers_client.cpp" \
    "$peers_dir/client/laminar.capnp.c++" $(pkg-config --cflags --libs capnp-rpc libcurl)
fi

work="$(mktemp -d -t slipway-peers-XXXXXX)"
groups=() client_pid=""
cleanup() {
  set +e
  [ -n "$client_pid" ] && kill -TERM "$client_pid" 2> /dev/null && wait "$client_pid" 2> /dev/null
  for pid in "${groups[@]}"; do kill -TERM -- "-$pid" 2> /dev/null; done
  for pid in "${groups[@]}"; do
    for _ in $(seq 50); do  # up to 5 s for it to exit (a zombie has exited: we reap it below)
      case "$(awk '/^State:/ { print $2 }' "/proc/$pid/status" 2> /dev/null)" in ''|Z) break ;; esac
      sleep 0.1
    done
    kill -KILL -- "-$pid" 2> /dev/null
    wait "$pid" 2> /dev/null
  done
  if [ "${KEEP_WORK:-}" = 1 ]; then echo "work folder kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() {  # wait_for WHAT COMMAND...: up to 20 s
  # The subshell reaps the command itself (the `exit`), so laminarc aborting on a refused
  # connection is not reported on our stderr.
  for _ in $(seq 200); do ("${@:2}"; exit $?) > /dev/null 2>&1 && return 0; sleep 0.1; done
  echo "$1 did not start; its log:" >&2; cat "$work/$1.log" >&2; exit 1
}
rss_mib() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
declare -A pid_of rss_of

# --- Laminar --------------------------------------------------------------------------------------
laminar_home="$work/laminar-home"
laminar_rpc="unix-abstract:slipway-peers-$$"
mkdir -p "$laminar_home/cfg/jobs" "$laminar_home/cfg/contexts"
printf '#!/bin/sh\ntrue\n' > "$laminar_home/cfg/jobs/noop.run"
chmod +x "$laminar_home/cfg/jobs/noop.run"
echo EXECUTORS=2 > "$laminar_home/cfg/contexts/default.conf"
LAMINAR_HOME="$laminar_home" LAMINAR_BIND_RPC="$laminar_rpc" LAMINAR_BIND_HTTP="127.0.0.1:$(free_port)" \
  setsid "$peers_dir/laminar/laminard" > "$work/laminar.log" 2>&1 &
groups+=($!) pid_of[laminar]=$!
wait_for laminar env LAMINAR_HOST="$laminar_rpc" "$peers_dir/laminar/laminarc" show-jobs
sleep "$settle"
rss_of[laminar]="$(rss_mib "${pid_of[laminar]}")"

# --- Slipway, host and sandbox executors -------------------------------------------------------
repo="$work/repo"
source "$root/bench/noop_repository.sh"
make_noop_repository "$repo"
token="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
declare -A url_of
for executor in host sandbox; do
  port="$(free_port)"
  mkdir -p "$work/$executor"
  printf 'executor: %s\nconcurrency: 2\nregistry_poll_interval: 0s\nrepositories:\n  - { name: noop, url: %s, poll_interval: 0s }\n' \
    "$executor" "$repo" > "$work/$executor/slipway.yml"
  SLIPWAY_ADMIN_TOKEN="$token" setsid "$slipway" serve --listen "127.0.0.1:$port" \
    --config "$work/$executor/slipway.yml" --data-dir "$work/$executor/data" > "$work/$executor.log" 2>&1 &
  groups+=($!) pid_of[$executor]=$!
  url_of[$executor]="http://127.0.0.1:$port"
  wait_for "$executor" grep -q 'serving on http://' "$work/$executor.log"
  sleep "$settle"
  rss_of[$executor]="$(rss_mib "${pid_of[$executor]}")"
done

# --- Rounds ---------------------------------------------------------------------------------------
measure() {  # measure SERVER latency|batch N FILE: appends the client's lines to FILE
  # In the background with `wait`, so that a signal to this script is handled at once.
  if [ "$1" = laminar ]; then
    timeout 300 "$client" laminar "$laminar_rpc" noop "$2" "$3" >> "$4" &
  else
    timeout 300 "$client" slipway "${url_of[$1]}" "$token" noop "$2" "$3" >> "$4" &
  fi
  client_pid=$!
  wait "$client_pid"
}
servers=(laminar host sandbox)
per_round=$(((latency_runs + rounds - 1) / rounds))
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
started=$(date +%s)
for server in "${servers[@]}"; do measure "$server" latency 3 /dev/null; done   # warm-up
for round in $(seq "$rounds"); do
  order=("${servers[@]:$(((round - 1) % 3))}" "${servers[@]:0:$(((round - 1) % 3))}")
  for server in "${order[@]}"; do measure "$server" latency "$per_round" "$work/latency.$server"; done
  line="round $round (${order[*]}):"
  for server in "${order[@]}"; do
    measure "$server" batch "$batch" "$work/batch.$server"
    seconds="$(tail -1 "$work/batch.$server")"
    line+="$(printf ' %s %.0f runs/s' "$server" "$(awk -v n="$batch" -v s="$seconds" 'BEGIN { print n / s }')")"
  done
  echo "$line"
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

# --- The table ------------------------------------------------------------------------------------
python3 - "$work" "$batch" "$rounds" "${rss_of[laminar]}" "${rss_of[host]}" "${rss_of[sandbox]}" <<'PY'
import statistics, sys
work, batch, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rss = dict(zip(["laminar", "host", "sandbox"], map(float, sys.argv[4:7])))
def column(server, name, field=0):
    return sorted(float(line.split()[field]) for line in open(f"{work}/{name}.{server}") if line.strip())
def quantile(values, q):  # nearest rank
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]
latency = {s: column(s, "latency") for s in rss}
throughput = {s: statistics.median(batch / v for v in column(s, "batch")) for s in rss}
rows = [
    (f"no-op trigger → done, p50 (n={len(latency['laminar'])})", {s: quantile(v, 0.5) for s, v in latency.items()}, "{:.1f} ms"),
    ("no-op trigger → done, p95", {s: quantile(v, 0.95) for s, v in latency.items()}, "{:.1f} ms"),
    (f"{batch} no-ops queued, 2 at once (median of {rounds})", throughput, "{:.0f} runs/s"),
    ("idle RSS after start", rss, "{:.1f} MiB"),
]
print("| measure | Laminar | Slipway host | Slipway sandbox | host ÷ Laminar | sandbox ÷ Laminar |")
print("| --- | --- | --- | --- | --- | --- |")
for name, values, form in rows:
    figures = " | ".join(form.format(values[s]) for s in ("laminar", "host", "sandbox"))
    ratios = " | ".join(f"{values[s] / values['laminar']:.2f}" for s in ("host", "sandbox"))
    print(f"| {name} | {figures} | {ratios} |")
server_side = {s: quantile(column(s, "latency", 1), 0.5) for s in ("host", "sandbox")}
print(f"Slipway's own created → finished, p50: host {server_side['host']:.0f} ms, sandbox {server_side['sandbox']:.0f} ms"
      " (the client's polling adds the rest)")
PY
echo "load average before: $load_before, after: $load_after; rounds took $(($(date +%s) - started)) s; $(nproc) cores"
