#!/usr/bin/env bash
# Log throughput end to end: `slipway run` of a step printing 1 GB of typical test output with
# 100 secrets registered. The output is 10 MB as `pytest -v` prints a large suite (22 000 test
# ids, each once per pass, PASSED/SKIPPED/FAILED with the progress percentage, a short traceback
# per failure, a warning now and then), made with a fixed seed and printed 100 times by `cat`. Prints MB/s over the step's own duration (from the run's record; closed chunks are
# compressed meanwhile, and the step ends once its last one is), the peak RSS of the slipway
# process (GNU time) and the log's size on disk.
# Targets: >= 300 MB/s, peak RSS <= 64 MB, <= 100 MB on disk (issue 13).
#   bench/log_throughput.sh [SLIPWAY]      Environment: REPEATS [100] (x 10 MB)
set -euo pipefail
slipway="$(realpath "${1:-build/slipway}")"
repeats="${REPEATS:-100}"
work="$(mktemp -d -t slipway-bench-XXXXXX)"
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/repo"
python3 - "$work/repo/sample.txt" <<'PY'
# One run of a large suite as `pytest -v` prints it: each test id once, in order, with the
# progress percentage; 4% skipped and 1% failed with pytest's short traceback; a warning now
# and then. Deterministic (seeded), so every run of the benchmark prints the same bytes.
import random, sys
random.seed(13)
areas = ["api", "store", "ci", "cd", "ui", "publish", "notify", "spec"]
topics = ["runs", "jobs", "steps", "logs", "secrets", "deploy", "tasks", "webhooks", "queue", "mirrors"]
verbs = ["create", "update", "list", "delete", "retry", "cancel", "follow", "mask", "parse", "render", "resume"]
objects = ["run", "job", "step", "chunk", "token", "image", "digest", "tag", "branch", "request", "status"]
tests = []
for area in areas:
    for topic in topics:
        module = f"tests/{area}/test_{topic}.py"
        for verb in verbs:
            for thing in objects:
                for variant in ("", "_when_missing", "_twice", "_concurrently", "_after_restart"):
                    tests.append(f"{module}::test_{verb}_{thing}{variant}")
out, size, total = [], 0, 10_000_000
while size < total:
    for index, test in enumerate(tests):
        roll = random.random()
        verdict = "PASSED" if roll < 0.95 else "SKIPPED" if roll < 0.99 else "FAILED"
        line = f"{test} {verdict:<8} [{100 * (index + 1) // len(tests):3d}%]\n"
        if verdict == "FAILED":
            line += (f"    def {test.split('::')[1]}(client):\n"
                     f">       assert response.status == 200, response.body\n"
                     f"E       AssertionError: expected 200, got {random.choice([404, 409, 500, 503])}\n"
                     f"{test.split('::')[0]}:{random.randint(10, 900)}: AssertionError\n")
        elif random.random() < 0.01:
            line += f"  DeprecationWarning: {random.choice(verbs)}() is deprecated; use {random.choice(verbs)}_v2()\n"
        out.append(line)
        size += len(line)
        if size >= total:
            break
open(sys.argv[1], "w").write("".join(out)[:total])
PY
cat > "$work/repo/.slipway.yml" <<YAML
kind: library
test:
  suites:
    flood: { run: "for i in \$(seq $repeats); do cat sample.txt; done" }
YAML
git -C "$work/repo" init -q --initial-branch=main
git -C "$work/repo" add -A
git -C "$work/repo" -c user.name=bench -c user.email=bench@slipway.invalid commit -qm bench
for i in $(seq 100); do echo "SECRET_$i=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"; done > "$work/secrets.env"

/usr/bin/time -f '%M' -o "$work/rss" "$slipway" --data-dir "$work/data" run "$work/repo" \
  --secrets-file "$work/secrets.env" > /dev/null
step_ms=$("$slipway" --data-dir "$work/data" runs show 1 --json |
  python3 -c 'import json,sys; s=json.load(sys.stdin)["jobs"][0]["steps"][0]; print(s["finished_ms"]-s["started_ms"])')
bytes=$((repeats * 10000000))
log_dir="$work/data/runs/1/logs"   # the run's step logs: the flood, and a few lines of Slipway's
disk_bytes=$(du -sb "$log_dir" | cut -f1)
python3 - "$bytes" "$step_ms" "$(cat "$work/rss")" "$disk_bytes" "$(find "$log_dir" -name '0*.log*' | wc -l)" <<'PY'
import sys
size, ms, rss_kb, disk, chunks = (int(arg) for arg in sys.argv[1:])
print(f"slipway run, {size/1e9:.2f} GB of typical test output, 100 secrets: {size/1e6/(ms/1000):.0f} MB/s "
      f"(step {ms/1000:.2f} s), peak RSS {rss_kb/1024:.1f} MB, on disk {disk/1e6:.1f} MB in {chunks} chunk files "
      f"(targets: >= 300 MB/s, <= 64 MB, <= 100 MB)")
PY
baseline_start=$(date +%s%N)
for i in $(seq "$repeats"); do cat "$work/repo/sample.txt"; done > /dev/null
baseline_ms=$(( ($(date +%s%N) - baseline_start) / 1000000 ))
python3 -c "import sys; print(f'baseline, the same output to /dev/null: {$bytes/1e6/max($baseline_ms,1)*1000:.0f} MB/s')"
