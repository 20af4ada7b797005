#!/usr/bin/env bash
# What a `slipway` process costs before it does anything (issue 13): the commands a user types
# most, and the memory of a server that has just started, for one binary or two side by side
# (say the build of the commit before and this one), rounds alternating which binary goes first:
#   `slipway --version`                  the process alone: loading, relocation, static set-up;
#   `slipway run --executor host`        one suite running `true` in a one-commit repository;
#   `slipway run` (sandbox)              the same in the job sandbox (with its network);
#   idle `slipway serve`                 VmRSS SETTLE seconds after "serving on", and how many
#                                        shared libraries it has mapped, with an empty
#                                        configuration (no repository) on loopback.
# Medians of ROUNDS (the sandbox run: of ROUNDS/2, it is slower), timed inside one Python
# process (no shell per command). Loopback only; everything it starts is stopped on exit.
#
#   bench/startup.sh BINARY [OTHER_BINARY]
# Environment: ROUNDS [20], SETTLE [3].
set -euo pipefail
[ $# -ge 1 ] || { sed -n 2,15p "$0" >&2; exit 2; }
binaries=()
for binary in "$@"; do
  [ -x "$binary" ] || { echo "no slipway binary at $binary" >&2; exit 2; }
  binaries+=("$(realpath "$binary")")
done
rounds="${ROUNDS:-20}" settle="${SETTLE:-3}"
work="$(mktemp -d -t slipway-startup-XXXXXX)"
server_pid=""
cleanup() {
  set +e
  [ -n "$server_pid" ] && kill -TERM -- "-$server_pid" 2> /dev/null && wait "$server_pid" 2> /dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

repo="$work/repo"
source "$(dirname "${BASH_SOURCE[0]}")/noop_repository.sh"
make_noop_repository "$repo"

python3 - "$repo" "$work" "$rounds" "${binaries[@]}" <<'PY'
import os, statistics, subprocess, sys, time
repo, work, rounds, binaries = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
commands = [("`slipway --version`", ["--version"], rounds),
            ("`slipway run --executor host`", ["run", "--executor", "host"], rounds),
            ("`slipway run` (sandbox)", ["run"], max(2, rounds // 2))]
times = {}
for name, arguments, count in commands:
    for round_ in range(count):
        order = binaries if round_ % 2 == 0 else list(reversed(binaries))
        for index, binary in enumerate(order):
            slot = binaries.index(binary)
            env = dict(os.environ, SLIPWAY_DATA_DIR=f"{work}/data-{slot}")
            started = time.perf_counter()
            done = subprocess.run([binary, *arguments], cwd=repo, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE)
            elapsed = (time.perf_counter() - started) * 1000
            if done.returncode != 0:
                sys.exit(f"{binary} {' '.join(arguments)} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
            times.setdefault((name, slot), []).append(elapsed)
print("| measure | " + " | ".join(binaries) + " |")
print("| --- |" + " --- |" * len(binaries))
for name, _, count in commands:
    cells = [f"{statistics.median(times[(name, slot)]):.1f} ms" for slot in range(len(binaries))]
    print(f"| {name}, median of {count} | " + " | ".join(cells) + " |")
PY

# Idle servers, one after the other (each alone on the machine while it is measured).
row="| idle \`slipway serve\`: VmRSS after ${settle} s, shared libraries mapped |"
for binary in "${binaries[@]}"; do
  mkdir -p "$work/serve"
  # A log of its own: the shell opens it in the background, so a shared one could still show the
  # previous server's "serving on" when first looked at.
  log="$work/serve/serve.log"
  printf 'repositories: []\n' > "$work/serve/slipway.yml"
  SLIPWAY_ADMIN_TOKEN="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" setsid "$binary" serve \
    --listen 127.0.0.1:0 --config "$work/serve/slipway.yml" --data-dir "$work/serve/data" > "$log" 2>&1 &
  server_pid=$!
  for _ in $(seq 600); do grep -qs 'serving on http://' "$log" && break; sleep 0.1; done
  grep -q 'serving on http://' "$log" || {
    echo "$binary serve did not start within 60 s; its log:" >&2; cat "$log" >&2; exit 1; }
  sleep "$settle"
  rss="$(awk '/^VmRSS:/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$server_pid/status")"
  libraries="$(awk '$6 ~ /\.so/ { print $6 }' "/proc/$server_pid/maps" | sort -u | wc -l)"
  row+=" $rss, $libraries |"
  kill -TERM -- "-$server_pid"
  wait "$server_pid" 2> /dev/null || true
  server_pid=""
  rm -rf "$work/serve"
done
echo "$row"
docker="no Docker Engine"
[ -S /var/run/docker.sock ] && docker="a Docker Engine at /var/run/docker.sock (the server asks it at start, which loads libcurl)"
echo "load average $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; $docker"
