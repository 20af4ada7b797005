#!/usr/bin/env bash
# Data tasks (issue 6, "Measured"). A `slipway serve` holds one data-task repository with 1 000
# task definitions that all use one image. Each `docker push` of a new image (a local htpasswd
# registry whose notifications go to the server) must bring all 1 000 to a new revision pinned
# to the pushed digest: timed from the registry's notification (stored with its receive time)
# and from `docker push` returning, to the last revision's creation, as the store records them.
# Then a task run's start: POST /api/v1/tasks/NAME/runs → its container started (started_ms in
# the store), 20 times, beside `docker run -d` of the same image and command, 20 times.
#   bench/data_tasks.sh [SLIPWAY_BINARY]     (KEEP_WORK=1 keeps the work folder)
set -euo pipefail
slipway="$(realpath "${1:-build/slipway}")"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ -x "$slipway" ] || { echo "no slipway binary at $slipway: cmake --build build --target slipway" >&2; exit 2; }
"$slipway" task --help > /dev/null 2>&1 || { echo "$slipway has no task command: rebuild it" >&2; exit 2; }

tasks=1000 pushes=5 starts=20
work="$(mktemp -d -t slipway-task-bench-XXXXXX)"
data="$work/data"
export DOCKER_CONFIG="$work/docker-config" DOCKER_BUILDKIT=0
source "$root/scripts/infra"
pids=() tags=() registry=""

now_ms() { date +%s%3N; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
sql() { sqlite3 -cmd '.timeout 5000' "$data/slipway.db" "$@"; }
stats() {  # "p50 X ms, p95 Y ms, max Z ms" of the numbers on stdin
  python3 -c 'import sys,statistics as s; v=sorted(float(x) for x in sys.stdin.read().split()); q=lambda p: v[min(len(v)-1, int(round(p*(len(v)-1))))]; print(f"p50 {q(0.5):.1f} ms, p95 {q(0.95):.1f} ms, max {v[-1]:.1f} ms (n={len(v)})")'
}

cleanup() {
  set +e
  for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null && wait "$pid" 2> /dev/null; done
  local owned
  owned="$(docker ps -aq --filter "label=slipway.owner=$data" 2> /dev/null)"
  [ -n "$owned" ] && docker rm -f $owned > /dev/null 2>&1
  docker ps -aq --filter "label=slipway-task-bench=$work" | xargs -r docker rm -f > /dev/null 2>&1
  for tag in "${tags[@]}"; do docker rmi "$tag" > /dev/null 2>&1; done
  [ -n "$registry" ] && docker logout "$registry" > /dev/null 2>&1
  stop_infra
  if [ "${KEEP_WORK:-}" = 1 ]; then echo "work folder kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_dockerd
server_port="$(free_port)" registry_port="$(free_port)"
registry="127.0.0.1:$registry_port"
token="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"   # 64 hex digits: admin tokens need 32 or more
registry_password="$(head -c 12 /dev/urandom | base64 | tr -d '/+=')"
start_registry "$work/registry" "$registry_port" bench "$registry_password" \
  "http://127.0.0.1:$server_port/api/v1/registry/events" "$token"

mkdir -p "$work/repo" "$data" "$work/app"
{
  printf 'kind: data-task\ntest:\n  suites:\n    unit: { run: "true" }\npublish:\n  image: { repository: taskbench }\ntasks:\n'
  for n in $(seq 1 "$tasks"); do printf '  task-%04d: { command: [exit, "0"], memory: 64m }\n' "$n"; done
} > "$work/repo/.slipway.yml"
printf 'FROM scratch\n' > "$work/repo/Dockerfile"
git -C "$work/repo" init -q --initial-branch=main
git -C "$work/repo" add -A
git -C "$work/repo" -c user.name=bench -c user.email=bench@slipway.invalid commit -qm tasks
cat > "$work/slipway.yml" <<YAML
executor: host
registry_poll_interval: 0s
task_revisions_kept: 3
environments:
  production:
    publish: manual
    registry: { url: $registry/prod, username: REGISTRY_USER, password: REGISTRY_PASSWORD }
repositories:
  - { name: taskbench, url: $work/repo, poll_interval: 0s }
YAML
printf %s bench | SLIPWAY_SERVER= "$slipway" secret set '*' production REGISTRY_USER --data-dir "$data" > /dev/null
printf %s "$registry_password" |
  SLIPWAY_SERVER= "$slipway" secret set '*' production REGISTRY_PASSWORD --data-dir "$data" > /dev/null
SLIPWAY_ADMIN_TOKEN="$token" "$slipway" serve --listen "127.0.0.1:$server_port" --config "$work/slipway.yml" \
  --data-dir "$data" > "$work/serve.log" 2>&1 &
pids+=($!)
infra_wait "grep -q 'serving on http://' '$work/serve.log'" 200 ||
  { echo "slipway serve did not start:" >&2; cat "$work/serve.log" >&2; exit 1; }

# One image per push (a label makes each digest new), all FROM scratch with the static program.
gcc -static -O2 -o "$work/app/task_app" "$root/tests/apps/task_app.c"
for n in $(seq 0 "$pushes"); do
  printf 'FROM scratch\nCOPY task_app /task\nLABEL bench=%s\nENTRYPOINT ["/task"]\n' "$n" > "$work/app/Dockerfile"
  tags+=("$registry/prod/taskbench:r$n")
  docker build -q -t "$registry/prod/taskbench:r$n" "$work/app" > /dev/null
done
echo "$registry_password" | docker login -u bench --password-stdin "$registry" > /dev/null 2>&1

echo "== image pushed → all $tasks task definitions at a new revision (pinned to its digest) =="
: > "$work/from_notification" && : > "$work/from_push"
for n in $(seq 0 "$pushes"); do
  docker push -q "$registry/prod/taskbench:r$n" > "$work/push.out"
  pushed=$(now_ms)
  digest="$(docker inspect --format '{{index .RepoDigests 0}}' "$registry/prod/taskbench:r$n" | sed 's/.*@//')"
  for _ in $(seq 300); do
    [ "$(sql "SELECT count(*) FROM task_revisions WHERE status = 'active' AND digest = '$digest'")" = "$tasks" ] && break
    sleep 0.05
  done
  at="$(sql "SELECT count(*) FROM task_revisions WHERE status = 'active' AND digest = '$digest'")"
  [ "$at" = "$tasks" ] || { echo "push r$n: only $at of $tasks at $digest" >&2; tail -30 "$work/serve.log" >&2; exit 1; }
  last="$(sql "SELECT max(created_ms) FROM task_revisions WHERE digest = '$digest'")"
  received="$(sql "SELECT min(received_ms) FROM image_pushes WHERE digest = '$digest'")"
  revision="$(sql "SELECT revision FROM task_revisions WHERE task = 'task-0001' AND digest = '$digest'")"
  echo "  push r$n: revision $revision of all $tasks; notification → last revision $((last - received)) ms, docker push returned → last revision $((last - pushed)) ms"
  # The first push registers revision 1; the figure is for the pushes that move existing ones.
  if ((n > 0)); then
    echo $((last - received)) >> "$work/from_notification"
    echo $((last - pushed)) >> "$work/from_push"
  fi
done
echo "  notification received → all $tasks at the new revision: $(stats < "$work/from_notification")   (target ≤ 1 000 ms)"
echo "  docker push returned → all $tasks at the new revision:  $(stats < "$work/from_push")"
echo "  revisions kept per task: $(sql "SELECT count(*) FROM task_revisions WHERE task = 'task-0001' AND status != 'deregistered'") (task_revisions_kept: 3), deregistered: $(sql "SELECT count(*) FROM task_revisions WHERE task = 'task-0001' AND status = 'deregistered'")"

echo "== a task run's start: trigger → container started, beside docker run -d of the same image =="
: > "$work/slipway_start" && : > "$work/docker_start"
image="$registry/prod/taskbench@$digest"
for i in $(seq 1 "$starts"); do
  before=$(now_ms)
  answer="$(curl -fsS -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d '{"environment":"production"}' "http://127.0.0.1:$server_port/api/v1/tasks/task-0001/runs")"
  id="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["run"]["id"])' "$answer")"
  for _ in $(seq 200); do
    started="$(sql "SELECT started_ms FROM task_runs WHERE id = $id")"
    [ -n "$started" ] && [ "$started" != 0 ] && break
    sleep 0.02
  done
  # A poll that timed out records nothing: it is a failure, not a figure.
  if [ -z "$started" ] || [ "$started" = 0 ]; then
    echo "task run $id did not start within 4 s: $(sql "SELECT status, reason FROM task_runs WHERE id = $id")" >&2
    exit 1
  fi
  echo $((started - before)) >> "$work/slipway_start"
  for _ in $(seq 200); do
    [ "$(sql "SELECT finished_ms != 0 FROM task_runs WHERE id = $id")" = 1 ] && break
    sleep 0.05
  done
  status="$(sql "SELECT status FROM task_runs WHERE id = $id")"
  [ "$status" = succeeded ] || { echo "task run $id: $status: $(sql "SELECT reason FROM task_runs WHERE id = $id")" >&2; exit 1; }

  before=$(now_ms)
  container="$(docker run -d --network host --memory 64m --label "slipway-task-bench=$work" "$image" exit 0)"
  echo $(($(now_ms) - before)) >> "$work/docker_start"
  docker wait "$container" > /dev/null
  docker rm "$container" > /dev/null
done
echo "  slipway (POST /api/v1/tasks/…/runs → started): $(stats < "$work/slipway_start")"
echo "  docker run -d (CLI → started):                  $(stats < "$work/docker_start")"
