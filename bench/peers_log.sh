#!/usr/bin/env bash
# A 1 GB log beside Laminar (issue 13): the same job — `cat` of 10 MB of typical test output
# (bench/typical_test_output.py) 100 times — through Laminar and `slipway serve` (executor: host),
# ROUNDS rounds with the order alternating, on loopback only. Per server and round:
#   wall      trigger → the run finished (laminarc run waits for it; Slipway: POST trigger, then
#             GET the run every 100 ms);
#   peak RSS  the server's VmHWM after the job (its lifetime peak; both are fresh servers that
#             ran nothing bigger);
#   disk      what the log takes: Laminar's database (it stores logs zlib-compressed in SQLite)
#             minus its size before; Slipway's runs/ID/logs folder;
#   API p99   reading the log back over HTTP: Laminar's only way, GET /log/JOB/NUM (the whole
#             log), READS_LAMINAR times; Slipway's GET /api/v1/steps/ID/log?tail=65536 (what the
#             UI opens first) and ?offset=RANDOM&limit=65536, READS times each.
#   bench/peers_log.sh [BUILD_DIR]     Environment: ROUNDS [2], READS [50], READS_LAMINAR [5],
#                                      SHARED [../shared], PEERS_DIR [BUILD_DIR/peers], KEEP_WORK=1
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(realpath "${1:-build}")"
slipway="$build/slipway"
peers_dir="$(realpath -m "${PEERS_DIR:-$build/peers}")"
shared="$(realpath -m "${SHARED:-$root/../shared}")"
rounds="${ROUNDS:-2}" reads="${READS:-50}" reads_laminar="${READS_LAMINAR:-5}"
[ -x "$slipway" ] || { echo "no slipway binary at $slipway" >&2; exit 2; }
[ -x "$shared/peers/build-laminar" ] || { echo "no $shared/peers/build-laminar: set SHARED" >&2; exit 2; }
"$shared/peers/build-laminar" "$peers_dir/laminar" > /dev/null

work="$(mktemp -d -t slipway-peers-log-XXXXXX)"
pids=()
cleanup() {
  set +e
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2> /dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2> /dev/null; done
  if [ "${KEEP_WORK:-}" = 1 ]; then echo "work folder kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
python3 "$root/bench/typical_test_output.py" "$work/sample.txt"

start_laminar() {  # start_laminar ROUND: a fresh Laminar home, its pid in laminar_pid
  home="$work/laminar-$1"
  mkdir -p "$home/cfg/jobs"
  printf '#!/bin/sh\nfor i in $(seq 100); do cat %s; done\n' "$work/sample.txt" > "$home/cfg/jobs/flood.run"
  chmod +x "$home/cfg/jobs/flood.run"
  laminar_rpc="unix-abstract:slipway-peers-log-$$-$1" laminar_http="127.0.0.1:$(free_port)"
  LAMINAR_HOME="$home" LAMINAR_BIND_RPC="$laminar_rpc" LAMINAR_BIND_HTTP="$laminar_http" \
    setsid "$peers_dir/laminar/laminard" > "$work/laminar-$1.log" 2>&1 &
  laminar_pid=$! pids+=($!)
  for _ in $(seq 200); do
    (LAMINAR_HOST="$laminar_rpc" "$peers_dir/laminar/laminarc" show-jobs; exit $?) > /dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "laminard did not start" >&2; exit 1
}

token="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
start_slipway() {  # start_slipway ROUND: a fresh data directory, its pid in slipway_pid
  repo="$work/repo-$1" data="$work/slipway-$1"
  mkdir -p "$repo"
  cp "$work/sample.txt" "$repo/sample.txt"
  printf 'kind: library\ntest:\n  suites:\n    flood: "for i in $(seq 100); do cat sample.txt; done"\n' > "$repo/.slipway.yml"
  git -C "$repo" init -q --initial-branch=main
  git -C "$repo" add -A
  git -C "$repo" -c user.name=bench -c user.email=bench@slipway.invalid commit -qm flood
  slipway_url="http://127.0.0.1:$(free_port)"
  printf 'executor: host\nrepositories:\n  - { name: flood, url: %s, poll_interval: 0s }\n' "$repo" > "$work/slipway-$1.yml"
  SLIPWAY_ADMIN_TOKEN="$token" setsid "$slipway" serve --listen "${slipway_url#http://}" \
    --config "$work/slipway-$1.yml" --data-dir "$data" > "$work/slipway-$1.log" 2>&1 &
  slipway_pid=$! pids+=($!)
  for _ in $(seq 200); do grep -q 'serving on http://' "$work/slipway-$1.log" && return 0; sleep 0.1; done
  echo "slipway serve did not start" >&2; cat "$work/slipway-$1.log" >&2; exit 1
}

hwm_mib() { awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
ms() { date +%s%3N; }

run_laminar() {  # run_laminar ROUND: one line "laminar WALL_MS RSS DISK P99 ..." into results
  start_laminar "$1"
  local before after began ended
  before=$(stat -c %s "$home/laminar.sqlite")
  began=$(ms)
  LAMINAR_HOST="$laminar_rpc" "$peers_dir/laminar/laminarc" run flood > /dev/null
  ended=$(ms)
  after=$(stat -c %s "$home/laminar.sqlite")
  local times=()
  for _ in $(seq "$reads_laminar"); do
    times+=("$(curl -s -o /dev/null -w '%{time_total}' "http://$laminar_http/log/flood/1")")
  done
  echo "laminar $((ended - began)) $(hwm_mib "$laminar_pid") $((after - before)) ${times[*]}" >> "$work/results"
  kill -TERM -- "-$laminar_pid"; wait "$laminar_pid" 2> /dev/null || true
}

api() { curl -fsS -H "Authorization: Bearer $token" "$slipway_url$1"; }
run_slipway() {  # run_slipway ROUND
  start_slipway "$1"
  local began ended id status step size
  began=$(ms)
  id=$(curl -fsS -X POST -H "Authorization: Bearer $token" "$slipway_url/api/v1/repositories/flood/trigger" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  while :; do
    status=$(api "/api/v1/runs/$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
    case "$status" in queued|running) sleep 0.1 ;; *) break ;; esac
  done
  ended=$(ms)
  [ "$status" = passed ] || { echo "slipway's run #$id: $status" >&2; exit 1; }
  step=$(api "/api/v1/runs/$id" | python3 -c '
import json, sys
run = json.load(sys.stdin)
print(next(s["id"] for j in run["jobs"] for s in j["steps"] if s["name"] == "flood"))')
  size=$(api "/api/v1/steps/$step/log?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["size"])')
  local tail_times=() range_times=()
  for _ in $(seq "$reads"); do
    tail_times+=("$(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $token" "$slipway_url/api/v1/steps/$step/log?tail=65536")")
    range_times+=("$(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $token" \
      "$slipway_url/api/v1/steps/$step/log?offset=$(python3 -c "import random; print(random.randrange($size))")&limit=65536")")
  done
  echo "slipway $((ended - began)) $(hwm_mib "$slipway_pid") $(du -sb "$data/runs/$id/logs" | cut -f1) ${tail_times[*]}" >> "$work/results"
  echo "slipway-range 0 0 0 ${range_times[*]}" >> "$work/results"
  kill -TERM -- "-$slipway_pid"; wait "$slipway_pid" 2> /dev/null || true
}

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$rounds"); do
  if [ $((round % 2)) = 1 ]; then run_laminar "$round"; run_slipway "$round"; order="laminar slipway"
  else run_slipway "$round"; run_laminar "$round"; order="slipway laminar"; fi
  echo "round $round ($order) done"
done
python3 - "$work/results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    server, wall, rss, disk, *times = line.split()
    entry = rows.setdefault(server, {"wall": [], "rss": [], "disk": [], "times": []})
    entry["wall"].append(int(wall)); entry["rss"].append(float(rss)); entry["disk"].append(int(disk))
    entry["times"] += [float(t) * 1000 for t in times]
def p99(values):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(0.99 * (len(values) - 1))))]
lam, sli, rng = rows["laminar"], rows["slipway"], rows["slipway-range"]
print("| 1 GB log of test output (median of rounds) | Laminar | Slipway host | Slipway ÷ Laminar |")
print("| --- | --- | --- | --- |")
for name, key, form in (("wall, trigger → done", "wall", "{:.0f} ms"), ("server peak RSS", "rss", "{:.1f} MiB"),
                        ("disk for the log", "disk", "{:.1f} MB")):
    a, b = statistics.median(lam[key]), statistics.median(sli[key])
    scale = 1e6 if key == "disk" else 1
    print(f"| {name} | {form.format(a / scale)} | {form.format(b / scale)} | {b / a:.2f} |")
print(f"| API p99: Laminar the whole log (n={len(lam['times'])}); Slipway the tail page (n={len(sli['times'])}) "
      f"| {p99(lam['times']):.0f} ms | {p99(sli['times']):.1f} ms | {p99(sli['times']) / p99(lam['times']):.4f} |")
print(f"Slipway, a 64 KiB page at a random offset: p99 {p99(rng['times']):.1f} ms, p50 {statistics.median(rng['times']):.1f} ms (n={len(rng['times'])})")
PY
echo "load average before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
