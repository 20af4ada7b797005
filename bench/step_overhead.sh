#!/usr/bin/env bash
# Step overhead of the sandbox executor: (time of a Test job of 100 suites that each run `true`
# without a report − time of a job of 1) / 99, median of hyperfine runs; printed beside plain
# `bash -c` running the same commands, measured in the same run.
set -euo pipefail
slipway="$(realpath "${1:-build/slipway}")"
runs="${RUNS:-10}"
work="$(mktemp -d -t slipway-bench-XXXXXX)"
trap 'rm -rf "$work"' EXIT

make_repo() {  # make_repo DIR SUITES
  mkdir -p "$1"
  { echo "kind: library"; echo "test:"; echo "  suites:"
    for i in $(seq "$2"); do echo "    s$i: { run: \"true\" }"; done; } > "$1/.slipway.yml"
  git -C "$1" init -q --initial-branch=main
  git -C "$1" add -A
  git -C "$1" -c user.name=bench -c user.email=bench@slipway.invalid commit -qm bench
}
make_repo "$work/one" 1
make_repo "$work/hundred" 100
bash_loop() { printf 'for i in $(seq %d); do bash -e -o pipefail -c true; done' "$1"; }

hyperfine --style basic --warmup 2 --runs "$runs" --export-json "$work/times.json" \
  -n "slipway 1 suite" "$slipway --data-dir $work/data run $work/one" \
  -n "slipway 100 suites" "$slipway --data-dir $work/data run $work/hundred" \
  -n "bash 1 command" "bash -c '$(bash_loop 1)'" \
  -n "bash 100 commands" "bash -c '$(bash_loop 100)'" >/dev/null

python3 - "$work/times.json" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
def per_step(one, hundred):
    return (results[hundred]["median"] - results[one]["median"]) / 99 * 1000
for name, r in results.items():
    print(f"{name:22s} median {r['median']*1000:8.1f} ms  (min {r['min']*1000:.1f}, max {r['max']*1000:.1f})")
print(f"slipway sandbox step overhead: {per_step('slipway 1 suite', 'slipway 100 suites'):.2f} ms per step (target <= 10 ms)")
print(f"plain bash -c per command:     {per_step('bash 1 command', 'bash 100 commands'):.2f} ms per command")
PY
