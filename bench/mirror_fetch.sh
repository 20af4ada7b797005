#!/usr/bin/env bash
# What a mirror's packing costs every incremental fetch (issue 12): the forge bench's repository
# (bench/forge_repository.sh) served over loopback HTTPS with a token (scripts/infra
# start_git_https), and two bare mirrors of it fetched the way Slipway fetches (the same
# refspecs and options, src/ci/repository_mirrors.cpp):
#   (a) as the forge packed it (delta chains up to 50);
#   (b) repacked once as Slipway does after a mirror's first fetch (`git repack -a -d`, pack.depth 10).
# Each round pushes a new commit to the forge, then fetches it into both, the order alternating.
# Prints the repack's time, both packs' sizes and each mirror's fetch p50/min/max. It measures git
# and the forge alone: no slipway binary is needed. Loopback only; everything started is stopped.
#   bench/mirror_fetch.sh       Environment: ROUNDS [16], COMMITS [10000], FILES [5000]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds="${ROUNDS:-16}" commits="${COMMITS:-10000}" files="${FILES:-5000}"
work="$(mktemp -d /tmp/slipway-bench-mirror.XXXXXX)"
source "$root/scripts/infra"
cleanup() {
  stop_infra
  rm -rf "$work"
}
trap cleanup EXIT

source "$root/bench/forge_repository.sh"
start_bench_forge "$work" "$commits" "$files"
mkdir -p "$work/empty-ca-path"

python3 - "$work" "$forge_port" "$forge_token" "$rounds" "$commits" "$files" <<'EOF_DRIVER'
import base64, os, statistics, subprocess, sys, time
work, port, token, rounds, commits, files = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6]
url = f"https://127.0.0.1:{port}/big.git"
env = dict(os.environ, GIT_SSL_CAINFO=f"{work}/forge/ca.pem", GIT_SSL_CAPATH=f"{work}/empty-ca-path",
           GIT_CONFIG_NOSYSTEM="1")
header = "http.extraHeader=Authorization: Basic " + base64.b64encode(f"x-access-token:{token}".encode()).decode()
refspecs = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*", "+refs/pull/*/head:refs/pull/*/head",
            "+refs/merge-requests/*/head:refs/merge-requests/*/head"]
def git(*args): subprocess.run(["git", *args], check=True, env=env)
def fetch(mirror): git("-C", mirror, "-c", header, "fetch", "--quiet", "--prune", "--no-write-fetch-head",
                       "--no-auto-maintenance", "--", url, *refspecs)
def pack_kib(mirror):
    folder = f"{mirror}/objects/pack"
    return sum(os.path.getsize(f"{folder}/{name}") for name in os.listdir(folder) if name.endswith(".pack")) // 1024
mirrors = {"as the forge packed it": f"{work}/forge-packed.git", "repacked, pack.depth 10": f"{work}/repacked.git"}
for mirror in mirrors.values():
    git("init", "--quiet", "--bare", mirror)
    fetch(mirror)
started = time.perf_counter()
git("-C", mirrors["repacked, pack.depth 10"], "config", "pack.depth", "10")
git("-C", mirrors["repacked, pack.depth 10"], "repack", "-a", "-d", "-q")
print(f"mirror bench: the one-off repack took {(time.perf_counter() - started) * 1000:.0f} ms")
times = {name: [] for name in mirrors}
pusher = f"{work}/pusher"
for n in range(rounds):
    with open(f"{pusher}/bench.txt", "w") as f: f.write(f"round {n}\n")
    for args in (["add", "bench.txt"], ["-c", "user.name=Bench", "-c", "user.email=bench@slipway.invalid", "commit", "-qm", f"round {n}"],
                 ["push", "-q", "origin", "main"]):
        git("-C", pusher, *args)
    names = list(mirrors) if n % 2 == 0 else list(reversed(mirrors))
    for name in names:
        started = time.perf_counter()
        fetch(mirrors[name])
        times[name].append((time.perf_counter() - started) * 1000)
print(f"mirror bench: {rounds} rounds of one new commit, a repository of {commits} commits and {files} files "
      "over loopback HTTPS, the order alternating")
for name, mirror in mirrors.items():
    t = times[name]
    print(f"  incremental fetch, mirror {name:24s} p50 {statistics.median(t):6.1f} ms  min {min(t):6.1f}  "
          f"max {max(t):6.1f}  pack {pack_kib(mirror) / 1024:.1f} MiB")
EOF_DRIVER
