#!/usr/bin/env bash
# Memory of a long-running server (issue 13): `slipway serve` (executor: host, concurrency: 2,
# one repository whose .slipway.yml has one suite running `true`) on loopback, in a temporary
# data directory. Prints the server's VmRSS after start (SETTLE seconds after it answers), then
# triggers RUNS no-op runs in batches of STEP over one keep-alive connection, waits for each
# batch to finish, and prints VmRSS, VmHWM, its anonymous and file parts and the runs per second
# of the batch after each.
# The figure to read is the growth: RSS after the last batch minus after the first.
#   bench/memory.sh [BUILD_DIR]      Environment: RUNS [10000], STEP [1000], SETTLE [2],
#                                    EXECUTOR [host], KEEP_WORK=1 keeps the folder
set -euo pipefail
build="$(realpath "${1:-build}")"
slipway="$build/slipway"
runs="${RUNS:-10000}" step="${STEP:-1000}" settle="${SETTLE:-2}" executor="${EXECUTOR:-host}"
[ -x "$slipway" ] || { echo "no slipway binary at $slipway" >&2; exit 2; }
work="$(mktemp -d -t slipway-memory-XXXXXX)"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  [ "${KEEP_WORK:-0}" = 1 ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

source "$(dirname "${BASH_SOURCE[0]}")/noop_repository.sh"
make_noop_repository "$work/noop"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$work/slipway.yml" <<YAML
listen: 127.0.0.1:$port
executor: $executor
concurrency: 2
repositories:
  - { name: noop, url: $work/noop, main: main, poll_interval: 0s }
YAML
token="memory-bench-admin-token-0123456789abcdef"
SLIPWAY_ADMIN_TOKEN="$token" "$slipway" serve --config "$work/slipway.yml" --data-dir "$work/data" \
  > "$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 200); do
  curl -fsS -o /dev/null -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/runs?limit=1" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
  sleep 0.05
done
sleep "$settle"
python3 - "$server_pid" "$port" "$token" "$runs" "$step" <<'PY'
import http.client, json, sys, time
pid, port, token, runs, step = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

def memory():
    fields = {}
    for line in open(f"/proc/{pid}/status"):
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads"):
            fields[name] = int(value.split()[0])
    return fields

def call(method, path, body=None):
    connection.request(method, path, body=body, headers=headers)
    answer = connection.getresponse()
    data = answer.read()
    if answer.status >= 300:
        sys.exit(f"{method} {path}: HTTP {answer.status}: {data[:200]!r}")
    return json.loads(data)

start = memory()
# RssFile is code and read-only data of the binary and its libraries, mapped the first time a
# run needs them (it can only grow up to their size); RssAnon is the heap, stacks and caches:
# where a leak or an unbounded cache would show.
print(f"{'runs':>6} {'VmRSS MiB':>10} {'VmHWM MiB':>10} {'RssAnon':>8} {'RssFile':>8} {'threads':>8} {'runs/s':>7}")
def row(done, m, rate):
    print(f"{done:>6} {m['VmRSS']/1024:>10.1f} {m['VmHWM']/1024:>10.1f} {m['RssAnon']/1024:>8.1f} "
          f"{m['RssFile']/1024:>8.1f} {m['Threads']:>8} {rate:>7}", flush=True)
row(0, start, "-")
first = None
for done in range(step, runs + 1, step):
    began = time.monotonic()
    last = 0
    for _ in range(step):
        last = call("POST", "/api/v1/repositories/noop/trigger", "{}")["id"]
    deadline = time.monotonic() + 600
    while call("GET", f"/api/v1/runs/{last}")["status"] in ("queued", "running"):
        if time.monotonic() > deadline:
            sys.exit(f"run {last} did not finish within 600 s")
        time.sleep(0.05)
    # The queue runs in id order, two at a time: the last one done means its batch is done, but
    # for the one beside it; wait until nothing is queued or running.
    while call("GET", "/api/v1/runs?status=running&limit=1")["runs"] or call("GET", "/api/v1/runs?status=queued&limit=1")["runs"]:
        time.sleep(0.05)
    rate = step / (time.monotonic() - began)
    now = memory()
    first = first or now
    row(done, now, f"{rate:.0f}")
def growth(since, field):
    return f"{(now[field] - since[field])/1024:+.1f} MiB"
print(f"growth from the first {step} runs to the last: {growth(first, 'VmRSS')} (anonymous {growth(first, 'RssAnon')}); "
      f"from start: {growth(start, 'VmRSS')} (anonymous {growth(start, 'RssAnon')}, file {growth(start, 'RssFile')})")
PY
