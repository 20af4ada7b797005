#!/usr/bin/env bash
# Forge repositories (issue 12), on loopback only: a repository of 10 000 commits and 5 000 files
# served over HTTPS with a token (nginx + git http-backend, scripts/infra start_git_https), built
# by `slipway serve` (sandbox executor) as a remote repository with `status:` pointing at a
# recording forge API in the driver. Each round, in one run, interleaved (the order alternates):
#   (a) a new commit is pushed to the forge and its signed GitHub push webhook sent; measured:
#       webhook sent → the run's first step started (its started_ms), which includes the
#       incremental fetch into the mirror, the checkout and the sandbox start;
#   (b) `git clone` of the same repository over the same HTTPS, for scale;
#   (c) the test job finished (its finished_ms) → its "success" status received by the forge;
#   (d) the server's fetch alone (the run created → started, which is the fetch), beside
#       `git fetch` of the same new commit into a mirror of its own, made and repacked as the
#       server's first fetch makes its mirror: how Slipway fetched before its fetches were its own.
# Prints p50/p99 of (a), p50 of (b), p50/p95 of (c), p50 of both of (d). A warm-up round (the
# mirror's first fetch) is not counted.
#   bench/forge.sh [BUILD_DIR]      Environment: ROUNDS [20], COMMITS [10000], FILES [5000]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(realpath "${1:-build}")"
slipway="$build/slipway"
rounds="${ROUNDS:-20}" commits="${COMMITS:-10000}" files="${FILES:-5000}"
[ -x "$slipway" ] || { echo "no slipway binary at $slipway" >&2; exit 2; }
work="$(mktemp -d /tmp/slipway-bench-forge.XXXXXX)"
source "$root/scripts/infra"
server_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && { kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true; }
  stop_infra
  rm -rf "$work"
}
trap cleanup EXIT

# --- the repository and its forge (bench/forge_repository.sh) --------------------------------------
source "$root/bench/forge_repository.sh"
start_bench_forge "$work" "$commits" "$files"
token="$forge_token"

# --- the server: the repository as a forge's, statuses to the driver's recording API -------------
data="$work/data" status_port=$((forge_port + 1)) port=$((forge_port + 2))
mkdir -p "$data"
admin="bench-admin-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
for name in FORGE_TOKEN STATUS_TOKEN; do
  printf %s "$token" | SLIPWAY_SERVER= "$slipway" secret set --server-only "$name" --data-dir "$data" >/dev/null
done
printf %s hook-secret | SLIPWAY_SERVER= "$slipway" secret set --server-only HOOK --data-dir "$data" >/dev/null
cat > "$work/slipway.yml" <<EOF_CONFIG
listen: 127.0.0.1:$port
concurrency: 1
repositories:
  - name: big
    url: https://127.0.0.1:$forge_port/big.git
    auth: { token: FORGE_TOKEN }
    ca_file: $work/forge/ca.pem
    poll_interval: 0s
    webhook_secret: HOOK
    status: { provider: github, api: "http://127.0.0.1:$status_port", token: STATUS_TOKEN, project: bench/big }
EOF_CONFIG
SLIPWAY_ADMIN_TOKEN="$admin" "$slipway" serve --config "$work/slipway.yml" --data-dir "$data" > "$work/serve.log" 2>&1 &
server_pid=$!
infra_wait "curl -fsS -o /dev/null -H 'Authorization: Bearer $admin' http://127.0.0.1:$port/api/v1/runs" 100 ||
  { cat "$work/serve.log" >&2; exit 1; }

python3 - "$work" "$port" "$status_port" "$forge_port" "$admin" "$token" "$rounds" "$commits" "$files" <<'EOF_DRIVER'
import base64, hashlib, hmac, http.server, json, os, statistics, subprocess, sys, threading, time, urllib.request
work, port, status_port, forge_port, admin, token, rounds = sys.argv[1], *map(int, sys.argv[2:5]), sys.argv[5], sys.argv[6], int(sys.argv[7])
received = {}  # sha -> time the success status arrived
class Recorder(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        if body.get("state") == "success":
            received[self.path.rsplit("/", 1)[-1]] = time.time()
        self.send_response(201); self.end_headers()
    def log_message(self, *args): pass
threading.Thread(target=http.server.ThreadingHTTPServer(("127.0.0.1", status_port), Recorder).serve_forever, daemon=True).start()
api = f"http://127.0.0.1:{port}/api/v1"
def get(path):
    request = urllib.request.Request(api + path, headers={"Authorization": "Bearer " + admin})
    return json.loads(urllib.request.urlopen(request).read())
def push_round(n):
    pusher = os.path.join(work, "pusher")
    with open(os.path.join(pusher, "bench.txt"), "w") as f: f.write(f"round {n}\n")
    git = ["git", "-C", pusher, "-c", "user.name=Bench", "-c", "user.email=bench@slipway.invalid"]
    subprocess.run(git + ["add", "bench.txt"], check=True)
    subprocess.run(git + ["commit", "-qm", f"round {n}"], check=True)
    subprocess.run(git + ["push", "-q", "origin", "main"], check=True)
    sha = subprocess.run(git + ["rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    body = json.dumps({"ref": "refs/heads/main", "before": "0" * 40, "after": sha}).encode()
    signature = "sha256=" + hmac.new(b"hook-secret", body, hashlib.sha256).hexdigest()
    sent = time.time()
    request = urllib.request.Request(api + "/webhooks/git/big", data=body, method="POST", headers={
        "X-GitHub-Event": "push", "X-GitHub-Delivery": f"bench-{n}-{sha}", "X-Hub-Signature-256": signature})
    run_id = json.loads(urllib.request.urlopen(request).read())["run"]
    while True:
        run = get(f"/runs/{run_id}")
        if run["status"] not in ("queued", "running"): break
        time.sleep(0.005)
    if run["status"] != "passed": sys.exit(f"run {run_id}: {run['status']}: {run['reason']}")
    job = run["jobs"][0]
    first_step = job["steps"][0]["started_ms"] / 1000.0
    if os.environ.get("BREAKDOWN"):
        print(f"  round {n}: accepted +{run['created_ms'] - sent * 1000:.0f} ms, fetched +{run['started_ms'] - run['created_ms']} ms, "
              f"job +{job['started_ms'] - run['started_ms']} ms, first step +{job['steps'][0]['started_ms'] - job['started_ms']} ms",
              file=sys.stderr)
    deadline = time.time() + 30
    while sha not in received and time.time() < deadline: time.sleep(0.002)
    status_delay = received[sha] - job["finished_ms"] / 1000.0 if sha in received else float("nan")
    return first_step - sent, status_delay, (run["started_ms"] - run["created_ms"]) / 1000.0
header = "Authorization: Basic " + base64.b64encode(f"x-access-token:{token}".encode()).decode()
# As the server's git ran: its CA alone (an empty CA folder, src/ci/git_remote.h), no configuration.
os.makedirs(os.path.join(work, "empty-ca-path"), exist_ok=True)
env = dict(os.environ, GIT_SSL_CAINFO=os.path.join(work, "forge", "ca.pem"), GIT_SSL_CAPATH=os.path.join(work, "empty-ca-path"),
           GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1")
url = f"https://127.0.0.1:{forge_port}/big.git"
def clone_round(n):
    target = os.path.join(work, f"clone-{n}")
    start = time.time()
    subprocess.run(["git", "-c", f"http.extraHeader={header}", "clone", "-q", url, target], check=True, env=env)
    elapsed = time.time() - start
    subprocess.run(["rm", "-rf", target], check=True)
    return elapsed
reference = os.path.join(work, "reference-mirror.git")
def git_fetch_round():
    start = time.time()
    subprocess.run(["git", "-C", reference, "-c", f"http.extraHeader={header}", "fetch", "--quiet", "--prune",
                    "--no-write-fetch-head", "--no-auto-maintenance", "--", url, "+refs/heads/*:refs/heads/*",
                    "+refs/tags/*:refs/tags/*", "+refs/pull/*/head:refs/pull/*/head",
                    "+refs/merge-requests/*/head:refs/merge-requests/*/head"], check=True, env=env)
    return time.time() - start
push_round(0)  # warm-up: the mirror's first (full) fetch
subprocess.run(["git", "init", "-q", "--bare", reference], check=True)
git_fetch_round()
subprocess.run(["git", "-C", reference, "config", "pack.depth", "10"], check=True)
subprocess.run(["git", "-C", reference, "repack", "-a", "-d", "-q"], check=True)
to_first_step, clones, status_delays, server_fetches, git_fetches = [], [], [], [], []
for n in range(1, rounds + 1):
    if n % 2: first, delay, fetched = push_round(n); clones.append(clone_round(n))
    else: clones.append(clone_round(n)); first, delay, fetched = push_round(n)
    git_fetches.append(git_fetch_round())
    to_first_step.append(first); status_delays.append(delay); server_fetches.append(fetched)
def pct(values, p):
    ordered = sorted(values); return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]
ms = lambda s: f"{s * 1000:.0f} ms"
print(f"forge bench: {rounds} rounds, a repository of {sys.argv[8]} commits and {sys.argv[9]} files over loopback HTTPS")
print(f"  webhook → first step (incremental fetch, checkout, sandbox): p50 {ms(pct(to_first_step, 50))}, p99 {ms(pct(to_first_step, 99))}")
print(f"  git clone of the same repository, same HTTPS:                 p50 {ms(pct(clones, 50))}")
print(f"  job finished → status received by the forge:                  p50 {ms(pct(status_delays, 50))}, p95 {ms(pct(status_delays, 95))}")
print(f"  the server's fetch of the new commit (run created → started):   p50 {ms(pct(server_fetches, 50))}")
print(f"  git fetch of the same commit into a mirror as the server's:     p50 {ms(pct(git_fetches, 50))}")
EOF_DRIVER
