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
python3 "$(dirname "${BASH_SOURCE[0]}")/typical_test_output.py" "$work/repo/sample.txt"
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
