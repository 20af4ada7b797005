#!/usr/bin/env bash
# Log throughput end to end: `slipway run` of a step printing 1 GB in 100-byte lines with 100
# secrets registered. Prints MB/s over the step's own duration (from the run's record) and the
# peak RSS of the slipway process (GNU time). Target: >= 200 MB/s, peak RSS <= 64 MB.
set -euo pipefail
slipway="$(realpath "${1:-build/slipway}")"
lines="${LINES_COUNT:-10000000}"   # 10 000 000 x 100 bytes = 1 GB
work="$(mktemp -d -t slipway-bench-XXXXXX)"
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/repo"
cat > "$work/repo/.slipway.yml" <<YAML
kind: library
test:
  suites:
    # yes ends on SIGPIPE when head has enough; under pipefail that is not a failure here.
    flood: { run: "yes 'line of ninety-nine bytes, with no secret in it ............................................... end' | head -n $lines || test \$? -eq 141" }
YAML
git -C "$work/repo" init -q --initial-branch=main
git -C "$work/repo" add -A
git -C "$work/repo" -c user.name=bench -c user.email=bench@slipway.invalid commit -qm bench
for i in $(seq 100); do echo "SECRET_$i=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"; done > "$work/secrets.env"

/usr/bin/time -f '%M' -o "$work/rss" "$slipway" --data-dir "$work/data" run "$work/repo" \
  --secrets-file "$work/secrets.env" > /dev/null
step_ms=$("$slipway" --data-dir "$work/data" runs show 1 --json |
  python3 -c 'import json,sys; s=json.load(sys.stdin)["jobs"][0]["steps"][0]; print(s["finished_ms"]-s["started_ms"])')
bytes=$((lines * 100))
python3 - "$bytes" "$step_ms" "$(cat "$work/rss")" <<'PY'
import sys
size, ms, rss_kb = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
print(f"slipway run, {size/1e9:.2f} GB in 100-byte lines, 100 secrets: {size/1e6/(ms/1000):.0f} MB/s "
      f"(step {ms/1000:.2f} s), peak RSS {rss_kb/1024:.1f} MB (targets: >= 200 MB/s, <= 64 MB)")
PY
baseline_start=$(date +%s%N)
yes 'line of ninety-nine bytes, with no secret in it ............................................... end' | head -n "$lines" > /dev/null || true
baseline_ms=$(( ($(date +%s%N) - baseline_start) / 1000000 ))
python3 -c "import sys; print(f'baseline, the same output to /dev/null: {$bytes/1e6/max($baseline_ms,1)*1000:.0f} MB/s')"
