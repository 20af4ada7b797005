#!/usr/bin/env bash
# Image push: a 200 MB image of incompressible content (FROM scratch + head -c 200M /dev/urandom)
# pushed to a local htpasswd registry by Slipway (bench/image_push_bench → push_image) and by
# `docker push`, each to its own repository of the same registry, in the same run; then each
# pushes the unchanged image again, and the image under a new tag. Prints a table.
# Targets: Slipway's first push <= half of docker push's; re-push and new tag <= 50 ms.
# Needs dockerd (started here with --bridge=none --iptables=false if none answers, and stopped
# again) and /usr/bin/docker-registry. Everything it makes is removed at the end.
set -euo pipefail
build="$(realpath "${1:-build}")"
bench_binary="$build/bench/image_push_bench"
size_mb="${IMAGE_MB:-200}"
[ -x "$bench_binary" ] || { echo "build the bench first: cmake --build $build --target image_push_bench" >&2; exit 2; }

work="$(mktemp -d -t slipway-push-bench-XXXXXX)"
registry_pid=""
image=""
export DOCKER_CONFIG="$work/docker-config"   # docker login writes here, not in ~/.docker
export DOCKER_BUILDKIT=0

# dockerd is shared with the integration tests through tests/support/docker_daemon.h's locks;
# scripts/infra's start_dockerd follows the same protocol (and stop_infra leaves it).
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/infra"

cleanup() {
  set +e
  if [ -n "$image" ]; then
    docker logout "$registry" > /dev/null 2>&1
    for name in "$registry/bench/docker:v1" "$registry/bench/docker:v2" slipway-bench-push:src; do
      docker rmi "$name" > /dev/null 2>&1
    done
    docker rmi -f "$image" > /dev/null 2>&1
  fi
  [ -n "$registry_pid" ] && kill "$registry_pid" 2> /dev/null && wait "$registry_pid" 2> /dev/null
  stop_infra
  rm -rf "$work"
}
trap cleanup EXIT
start_dockerd

# The registry: htpasswd (bcrypt), filesystem storage in $work, a free loopback port.
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
registry="127.0.0.1:$port"
export REGISTRY_USER=bench REGISTRY_PASSWORD="$(head -c 12 /dev/urandom | base64 | tr -d '/+=')"
htpasswd -Bbn "$REGISTRY_USER" "$REGISTRY_PASSWORD" > "$work/htpasswd"
cat > "$work/registry.yml" <<YAML
version: 0.1
log: { level: warn, accesslog: { disabled: true } }
storage:
  filesystem: { rootdirectory: $work/storage }
  delete: { enabled: true }
  cache: { blobdescriptor: inmemory }
http: { addr: "$registry", secret: "$(head -c 16 /dev/urandom | base64)" }
auth:
  htpasswd: { realm: bench, path: $work/htpasswd }
YAML
/usr/bin/docker-registry serve "$work/registry.yml" > "$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 100); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$registry/v2/")" = 401 ] && break
  sleep 0.1
done

# The image: one layer of incompressible bytes.
mkdir "$work/context"
head -c "${size_mb}M" /dev/urandom > "$work/context/noise"
printf 'FROM scratch\nCOPY noise /noise\n' > "$work/context/Dockerfile"
docker build -q -t slipway-bench-push:src "$work/context" > /dev/null
image="$(docker image inspect -f '{{.Id}}' slipway-bench-push:src)"
rm -f "$work/context/noise"

now_ms() { date +%s%3N; }
# slipway LABEL TAG...: one push_image; prints wall ms (the process, start to exit).
slipway_push() {
  local label="$1"; shift
  local started; started="$(now_ms)"
  timeout 300 "$bench_binary" "$registry" bench/slipway "$image" "$@" > "$work/$label.json" 2> "$work/$label.log" ||
    { echo "slipway push failed:" >&2; cat "$work/$label.log" >&2; exit 1; }
  echo $(( $(now_ms) - started ))
}
docker_push() {
  local started; started="$(now_ms)"
  timeout 300 docker push -q "$1" > /dev/null || { echo "docker push $1 failed" >&2; exit 1; }
  echo $(( $(now_ms) - started ))
}
field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$work/$1.json" "$2"; }

echo "$REGISTRY_PASSWORD" | docker login -u "$REGISTRY_USER" --password-stdin "$registry" > /dev/null 2>&1
docker tag "$image" "$registry/bench/docker:v1"

slipway_first=$(slipway_push first v1)
docker_first=$(docker_push "$registry/bench/docker:v1")
slipway_again=$(slipway_push again v1)
docker_again=$(docker_push "$registry/bench/docker:v1")
slipway_tag=$(slipway_push newtag v2)
docker tag "$image" "$registry/bench/docker:v2"
docker_tag=$(docker_push "$registry/bench/docker:v2")

echo "image push, ${size_mb} MB of incompressible content, local htpasswd registry $registry"
printf '%-28s %12s %12s %s\n' "" "slipway" "docker push" "slipway detail"
printf '%-28s %9s ms %9s ms %s\n' "first push" "$slipway_first" "$docker_first" \
  "$(field first uploaded_blobs) blobs, $(field first bytes) bytes uploaded, push_image $(printf '%.0f' "$(field first ms)") ms"
printf '%-28s %9s ms %9s ms %s\n' "re-push, unchanged" "$slipway_again" "$docker_again" \
  "$(field again uploaded_blobs) uploaded, $(field again reused_blobs) reused, push_image $(printf '%.1f' "$(field again ms)") ms"
printf '%-28s %9s ms %9s ms %s\n' "same image, new tag" "$slipway_tag" "$docker_tag" \
  "$(field newtag uploaded_blobs) uploaded, $(field newtag reused_blobs) reused, push_image $(printf '%.1f' "$(field newtag ms)") ms"
python3 - "$slipway_first" "$docker_first" "$(field again ms)" "$(field newtag ms)" <<'PY'
import sys
first, docker, again, tag = (float(x) for x in sys.argv[1:])
print(f"first push: slipway takes {first / docker:.0%} of docker push's time (target <= 50%); "
      f"re-push {again:.1f} ms, new tag {tag:.1f} ms inside push_image (target <= 50 ms)")
PY
echo "slipway's progress lines (first push):"
sed 's/^/  /' "$work/first.log"
