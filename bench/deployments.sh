#!/usr/bin/env bash
# Blue/green deployments under load (issue 5, "Measured"). A `slipway serve` deploys 20 versions of
# tests/apps/bluegreen_app.c in a row, each pushed by `docker push` to a local htpasswd registry
# whose notifications go to the server, while wrk sends GET / through the production HAProxy
# listener (paced, >= 1 000 requests/s; bench/deployments.lua) and 4 curl loops send GET /slow
# (1.5 s each, under the 3 s drain). Odd versions are good; v2, v6, ... fail their health check
# before the switch; v4, v8, ... turn /health to 503 after the gate passed, during the bake.
# Then a baseline in the same run: one HAProxy in front of one port, and 10 times `docker stop`
# the old container, `docker run` the new one, under the same load.
# Deploy settings: health every 1 s, timeout 1 s, 3 successes, 1 failure; bake 5 s; drain 3 s;
# retain 1. Prints the figures; exits non-zero on a non-2xx answer or socket error through the
# blue/green router, a slow request that did not answer 200, or a deployment ending otherwise
# than expected. Everything it starts is stopped by PID, and its containers and images removed.
#   bench/deployments.sh [SLIPWAY_BINARY]     (KEEP_WORK=1 keeps the work folder)
set -euo pipefail
slipway="$(realpath "${1:-build/slipway}")"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ -x "$slipway" ] || { echo "no slipway binary at $slipway: cmake --build build --target slipway" >&2; exit 2; }
"$slipway" deploy --help > /dev/null 2>&1 || { echo "$slipway has no deploy command: rebuild it" >&2; exit 2; }

versions=20
health="{ path: /health, interval: 1s, timeout: 1s, healthy: 3, unhealthy: 1 }"
bake=5s drain=3s
slow_ms=1500 fail_after_ms=4500      # the bake failures: healthy for 4.5 s, then 503
delay_ms="${BENCH_DELAY_MS:-8}"      # per connection between requests: 16 connections ≈ 1 700/s
settle_timeout_s=90                  # per deployment

work="$(mktemp -d -t slipway-deploy-bench-XXXXXX)"
data="$work/data"
export DOCKER_CONFIG="$work/docker-config" DOCKER_BUILDKIT=0
source "$root/scripts/infra"

pids=()                              # wrk, curl loops, slipway serve, the baseline's HAProxy
baseline_containers=()
tags=()                              # local image tags to remove
registry=""
status=0

now_ms() { date +%s%3N; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
sql() { sqlite3 -cmd '.timeout 5000' "$data/slipway.db" "$@"; }
stop_pid() { kill "$1" 2> /dev/null && wait "$1" 2> /dev/null; true; }

# Evidence for a deployment that misbehaved: every deployment's steps and the server's log.
evidence() {
  echo "--- deployments (id kind tag outcome reason) and their steps:" >&2
  sql "SELECT d.id, d.kind, d.tag, d.outcome, d.reason, s.state, s.at_ms, s.message FROM deployments d
       JOIN deployment_steps s ON s.deployment_id = d.id ORDER BY d.id, s.id" >&2 || true
  echo "--- serve.log (last 60 lines):" >&2
  tail -60 "$work/serve.log" >&2 || true
}

cleanup() {
  set +e
  touch "$work/stop"
  for pid in "${pids[@]}"; do stop_pid "$pid"; done
  # The server leaves its HAProxy and containers running on purpose (traffic outlives a restart).
  local router_pid
  router_pid="$(cat "$data/routers/deploybench-production/haproxy.pid" 2> /dev/null)"
  if [ -n "$router_pid" ] && [ "$(cat "/proc/$router_pid/comm" 2> /dev/null)" = haproxy ]; then kill "$router_pid"; fi
  local owned
  owned="$(docker ps -aq --filter "label=slipway.owner=$data" 2> /dev/null)"
  [ -n "$owned" ] && docker rm -f $owned > /dev/null 2>&1
  for name in "${baseline_containers[@]}"; do docker rm -f "$name" > /dev/null 2>&1; done
  for tag in "${tags[@]}"; do docker rmi "$tag" > /dev/null 2>&1; done
  [ -n "$registry" ] && docker logout "$registry" > /dev/null 2>&1
  stop_infra
  if [ "${KEEP_WORK:-}" = 1 ]; then echo "work folder kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- Infra: dockerd, the registry (notifications to the server), slipway serve.
start_dockerd
server_port="$(free_port)" registry_port="$(free_port)" router_port="$(free_port)" test_port="$(free_port)"
registry="127.0.0.1:$registry_port"
token="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"   # 64 hex digits: admin tokens need 32 or more
registry_password="$(head -c 12 /dev/urandom | base64 | tr -d '/+=')"
start_registry "$work/registry" "$registry_port" bench "$registry_password" \
  "http://127.0.0.1:$server_port/api/v1/registry/events" "$token"

mkdir -p "$work/repo" "$data" "$work/app" "$work/probe" "$work/baseline/probe"
cat > "$work/repo/.slipway.yml" <<YAML
kind: application
test:
  suites:
    unit: { run: 'true' }
publish:
  image: { repository: deploybench }
deploy:
  health: $health
  bake: $bake
  drain: $drain
  retain: 1
YAML
printf 'FROM scratch\n' > "$work/repo/Dockerfile"
git -C "$work/repo" init -q --initial-branch=main
git -C "$work/repo" add -A
git -C "$work/repo" -c user.name=bench -c user.email=bench@slipway.invalid commit -qm application
# The registry poll is off: the figures are the notification path's. The application is not
# called "hello": containers are named slipway-APP-ENV-ID on the shared Engine, and the
# deployment tests' servers deploy "hello" to "production".
cat > "$work/slipway.yml" <<YAML
executor: host
registry_poll_interval: 0s
environments:
  production:
    publish: manual
    registry: { url: $registry/prod, username: REGISTRY_USER, password: REGISTRY_PASSWORD }
    router: { listen: 127.0.0.1:$router_port, test_listen: 127.0.0.1:$test_port }
repositories:
  - { name: deploybench, url: $work/repo, poll_interval: 0s }
YAML
printf %s bench | SLIPWAY_SERVER= "$slipway" secret set '*' production REGISTRY_USER --data-dir "$data" > /dev/null
printf %s "$registry_password" |
  SLIPWAY_SERVER= "$slipway" secret set '*' production REGISTRY_PASSWORD --data-dir "$data" > /dev/null
SLIPWAY_ADMIN_TOKEN="$token" "$slipway" serve --listen "127.0.0.1:$server_port" --config "$work/slipway.yml" \
  --data-dir "$data" > "$work/serve.log" 2>&1 &
pids+=($!)
infra_wait "grep -q 'serving on http://' '$work/serve.log'" 200 ||
  { echo "slipway serve did not start:" >&2; cat "$work/serve.log" >&2; exit 1; }

# ---- Images v0..v20: the static test application FROM scratch, its switches baked in as ENV.
gcc -static -O2 -pthread -o "$work/app/bluegreen_app" "$root/tests/apps/bluegreen_app.c"
kind_of() {  # good | health (fails before the switch) | bake (fails during the bake)
  local n="$1"
  if ((n % 2 == 1 || n == 0)); then echo good; elif ((n % 4 == 2)); then echo health; else echo bake; fi
}
for n in $(seq 0 "$versions"); do
  {
    printf 'FROM scratch\nCOPY bluegreen_app /app\nENV APP_VERSION=v%d SLOW_MS=%d\n' "$n" "$slow_ms"
    case "$(kind_of "$n")" in
      health) echo "ENV HEALTH_FAIL=1" ;;
      bake) echo "ENV FAIL_AFTER_MS=$fail_after_ms" ;;
    esac
    printf 'ENTRYPOINT ["/app"]\n'
  } > "$work/app/Dockerfile"
  tags+=("$registry/prod/deploybench:v$n" "slipway-bench-deploy:v$n")
  docker build -q -t "$registry/prod/deploybench:v$n" -t "slipway-bench-deploy:v$n" "$work/app" > /dev/null 2> "$work/build.log" ||
    { cat "$work/build.log" >&2; exit 1; }
done
echo "$registry_password" | docker login -u bench --password-stdin "$registry" > /dev/null 2>&1

# push_and_settle N: docker push vN; waits until its deployment has an outcome and none is active.
push_and_settle() {
  local tag="v$1" deadline outcome active
  docker push -q "$registry/prod/deploybench:$tag" > /dev/null
  echo "$tag $(kind_of "$1") $(now_ms)" >> "$work/pushes"
  deadline=$(($(date +%s) + settle_timeout_s))
  while (($(date +%s) < deadline)); do
    outcome="$(sql "SELECT outcome FROM deployments WHERE kind = 'deploy' AND tag = '$tag' ORDER BY id DESC LIMIT 1")"
    active="$(sql "SELECT count(*) FROM deployments WHERE outcome = ''")"
    if [ -n "$outcome" ] && [ "$active" = 0 ]; then return 0; fi
    sleep 0.2
  done
  echo "deployment of $tag did not settle within ${settle_timeout_s}s" >&2
  evidence
  return 1
}

# slow_loop URL FILE: GET /slow again and again until $work/stop; "START_MS END_MS CODE" lines.
slow_loop() {
  while [ ! -e "$work/stop" ]; do
    local started code
    started="$(now_ms)"
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$1" || true)"
    echo "$started $(now_ms) $code" >> "$2"
  done
}

# load URL PROBE_DIR: wrk and 4 slow loops in the background; their PIDs in load_pids.
load() {
  BENCH_PROBE_DIR="$2" BENCH_DELAY_MS="$delay_ms" \
    wrk -t2 -c16 -d900s --latency -s "$root/bench/deployments.lua" "$1/" > "$2/wrk.out" 2>&1 &
  load_pids=($!)
  for i in 1 2 3 4; do
    slow_loop "$1/slow" "$2/slow-$i" &
    load_pids+=($!)
  done
  pids+=("${load_pids[@]}")
}
# end_load: wrk prints its summary on SIGINT; the slow loops finish their request in flight.
end_load() {
  touch "$work/stop"
  kill -INT "${load_pids[0]}"
  for pid in "${load_pids[@]}"; do wait "$pid" || true; done
  rm -f "$work/stop"
}

# ---- Blue/green: v0 first (nothing is live before it), then v1..v20 under load.
push_and_settle 0
: > "$work/pushes"
router="http://127.0.0.1:$router_port"
[ "$(curl -s "$router/")" = "version v0" ] || { echo "v0 is not live at $router" >&2; evidence; exit 1; }
load "$router" "$work/probe"
sleep 2
for n in $(seq 1 "$versions"); do push_and_settle "$n"; done
sleep 2
end_load

# ---- Baseline: stop the old container, then start the new one, on the same port.
app_port="$(free_port)" baseline_port="$(free_port)"
cat > "$work/baseline/haproxy.cfg" <<CFG
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend in
  bind 127.0.0.1:$baseline_port
  default_backend app
backend app
  server app 127.0.0.1:$app_port
CFG
haproxy -db -f "$work/baseline/haproxy.cfg" > "$work/baseline/haproxy.log" 2>&1 &
pids+=($!)
run_baseline() {  # run_baseline N: the container of vN on $app_port, host network
  baseline_containers+=("slipway-bench-baseline-v$1")
  docker run -d --network host -e PORT="$app_port" --name "slipway-bench-baseline-v$1" "slipway-bench-deploy:v$1" > /dev/null
}
run_baseline 0
infra_wait "[ \"\$(curl -s http://127.0.0.1:$baseline_port/)\" = 'version v0' ]" 100 ||
  { echo "baseline v0 did not answer" >&2; exit 1; }
load "http://127.0.0.1:$baseline_port" "$work/baseline/probe"
sleep 3
previous=0
for n in $(seq 1 2 "$versions"); do
  started="$(now_ms)"
  docker stop -t 10 "slipway-bench-baseline-v$previous" > /dev/null
  run_baseline "$n"
  echo "v$previous v$n $started $(now_ms)" >> "$work/baseline/switches"
  previous=$n
  sleep 3
done
end_load

# ---- Figures.
python3 "$root/bench/deployments_report.py" "$work" || status=$?
[ "$status" = 0 ] || evidence
exit "$status"
