"""The figures of bench/deployments.sh, from its work folder: wrk's summary and per-thread version
logs (bench/deployments.lua), the slow-request logs, the pushes, and the deployments and their
steps in Slipway's store. Exit status 1 when a correctness check fails (a non-2xx answer or
socket error through the blue/green router, a slow request without a 200, a deployment that
ended otherwise than expected); the timing targets are printed as met or missed."""
import glob
import math
import os
import sqlite3
import sys

work = sys.argv[1]
failures = []


def ms(value):
    return "none" if value is None else f"{value:.1f}"


def percentile(values, p):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)] if ordered else float("nan")


def wrk_figures(probe):
    """The BENCH lines of wrk.out, and every run of one version as (version, first_ms, last_ms)."""
    figures, lasts = {}, []
    for line in open(os.path.join(probe, "wrk.out")):
        parts = line.split()
        if parts[:1] != ["BENCH"]:
            continue
        if parts[1] == "last":
            lasts.append((float(parts[2]), parts[3]))
        else:
            figures[parts[1]] = parts[2:]
    runs = []
    logs = sorted(glob.glob(os.path.join(probe, "wrk-*.log")))
    for index, path in enumerate(logs):
        current = None  # (version, first_ms)
        for line in open(path):
            parts = line.split()
            if parts[1] == "status":
                continue
            last_old, first_new, new = float(parts[0]), float(parts[2]), parts[3]
            if current and current[0] != "-":
                runs.append((current[0], current[1], last_old))
            current = (new, first_new)
        if current and index < len(lasts):
            runs.append((current[0], current[1], lasts[index][0]))
    return figures, runs


def slow_figures(probe):
    codes = []
    for path in glob.glob(os.path.join(probe, "slow-*")):
        codes += [line.split() for line in open(path) if line.strip()]
    return len(codes), sum(1 for c in codes if c[2] == "200"), [c for c in codes if c[2] != "200"]


def socket_errors(figures):
    return dict(zip(("connect", "read", "write", "timeout"), (int(x) for x in figures["socket_errors"])))


def load_summary(title, figures, slow):
    errors = socket_errors(figures)
    p50, p99, worst = figures["latency_ms"]
    print(f"{title}: {figures['rate'][0]} requests/s, {figures['requests'][0]} requests in {figures['seconds'][0]} s, "
          f"non-2xx {figures['non2xx'][0]}, socket errors connect {errors['connect']} read {errors['read']} "
          f"write {errors['write']} timeout {errors['timeout']}; latency p50 {p50} ms, p99 {p99} ms, max {worst} ms")
    print(f"  slow requests (GET /slow, 1.5 s): {slow[0]} sent, {slow[1]} answered 200")
    print(f"  answers per version: {' '.join(figures.get('versions', []))}")


# ---- Blue/green.
figures, runs = wrk_figures(os.path.join(work, "probe"))
slow = slow_figures(os.path.join(work, "probe"))
print("== blue/green: 20 deployments in a row, 10 of them rolled back (5 before the switch, 5 during the bake) ==")
load_summary("load through the production listener", figures, slow)
if int(figures["non2xx"][0]) or any(socket_errors(figures).values()):
    failures.append("non-2xx answers or socket errors through the blue/green router")
if float(figures["rate"][0]) < 1000:
    failures.append(f"the load was {figures['rate'][0]} requests/s, under 1 000")
if slow[0] != slow[1] or slow[0] == 0:
    failures.append(f"slow requests: {slow[0] - slow[1]} of {slow[0]} did not answer 200: {slow[2][:5]}")

db = sqlite3.connect(os.path.join(work, "data", "slipway.db"))
pushes = [line.split() for line in open(os.path.join(work, "pushes"))]


def deployment(tag):
    row = db.execute("SELECT id, outcome, reason FROM deployments WHERE kind = 'deploy' AND tag = ? ORDER BY id DESC",
                     (tag,)).fetchone()
    steps = db.execute("SELECT state, at_ms FROM deployment_steps WHERE deployment_id = ? ORDER BY id", (row[0],))
    return row, list(steps)


def first_answer(version, since):
    """ms from `since` to the first answer from `version` at or after it (0 if it was answering)."""
    later = [max(first, since) for v, first, last in runs if v == version and last >= since]
    return min(later) - since if later else None


def last_answer(version):
    ends = [last for v, first, last in runs if v == version]
    return max(ends) if ends else None


to_first, gate_to_all, gate_to_green, switch_to_all, restored, rows = [], [], [], [], [], []
live = "v0"
for tag, kind, pushed in pushes:
    pushed = int(pushed)
    (number, outcome, reason), steps = deployment(tag)
    at = {state: ms for state, ms in steps}
    states = [state for state, _ in steps]
    expected = "succeeded" if kind == "good" else "rolled_back"
    # A bake failure must have switched and baked; a health failure must never have switched.
    wrong_path = (kind == "bake" and "baking" not in states) or (kind == "health" and "switching" in states)
    if outcome != expected or wrong_path:
        failures.append(f"{tag} ({kind}) ended {outcome} after {' → '.join(states)}: {reason}")
    row = f"{tag:>4} {kind:6} #{number:<3} {outcome:11}"
    timeline = " ".join(f"{state} +{ms - pushed}" for state, ms in steps)
    if kind == "good" and outcome == "succeeded":
        first = first_answer(tag, pushed)
        gate = next(ms for state, ms in steps[states.index("health_checking") + 1:])
        old_end = last_answer(live)
        if first is not None:
            to_first.append(first)
        if first is not None:
            gate_to_green.append(first + pushed - gate)
        if old_end is not None:
            gate_to_all.append(old_end - gate)
            switch_to_all.append(old_end - at["switching"])
        row += f" pushed→first {ms(first)} ms, gate→all new {ms(None if old_end is None else old_end - gate)} ms"
        live = tag
    elif kind == "bake" and "rolling_back" in at:
        back = first_answer(live, at["rolling_back"])
        if back is not None:
            restored.append(back)
        row += f" rolling_back→{live} again {ms(back)} ms"
    elif kind == "health":
        row += f" answers from {tag}: {sum(1 for v, _, _ in runs if v == tag)} runs"
    rows.append(row + f"\n       steps (ms after the push): {timeline}")

print("per deployment (steps: ms after `docker push` returned):")
print("\n".join(rows))


def verdict(ok):
    return "met" if ok else "MISSED"


print(f"image pushed → first answer from the new version (10 good): p50 {percentile(to_first, 0.5):.0f} ms, "
      f"p95 {percentile(to_first, 0.95):.0f} ms, max {max(to_first, default=float('nan')):.0f} ms "
      f"(target p95 <= 5 000 ms: {verdict(percentile(to_first, 0.95) <= 5000)})")
print(f"health gate passed → all new requests on green: p50 {percentile(gate_to_all, 0.5):.1f} ms, "
      f"max {max(gate_to_all, default=float('nan')):.1f} ms (target <= 100 ms: {verdict(max(gate_to_all, default=1e9) <= 100)}); "
      f"from the 'switching' step: p50 {percentile(switch_to_all, 0.5):.1f} ms, max {max(switch_to_all, default=float('nan')):.1f} ms")
print(f"  (negative: the old version's last answer came before the step was written; "
      f"health gate passed → first answer from green: p50 {percentile(gate_to_green, 0.5):.1f} ms, "
      f"max {max(gate_to_green, default=float('nan')):.1f} ms)")
print(f"bake failure (rolling_back step) → old version answering again (5): p50 {percentile(restored, 0.5):.1f} ms, "
      f"max {max(restored, default=float('nan')):.1f} ms (target <= 1 000 ms: {verdict(max(restored, default=1e9) <= 1000)})")

steps_by_time = db.execute("SELECT s.at_ms, d.tag, d.kind, s.state FROM deployment_steps s "
                           "JOIN deployments d ON d.id = s.deployment_id ORDER BY s.at_ms").fetchall()
for started, ended, code in slow[2]:
    during = [f"{tag or kind} {state}" for at_ms, tag, kind, state in steps_by_time if at_ms <= int(ended)]
    print(f"  slow request {started}..{ended} answered {code}; the last step before its answer: "
          f"{during[-1] if during else 'none'}")

# ---- Baseline.
baseline = os.path.join(work, "baseline")
base_figures, base_runs = wrk_figures(os.path.join(baseline, "probe"))
base_slow = slow_figures(os.path.join(baseline, "probe"))
print("== baseline: docker stop the old container, then docker run the new one on the same port (10 switches) ==")
load_summary("load through one HAProxy", base_figures, base_slow)
gaps, switch_times = [], []
for line in open(os.path.join(baseline, "switches")):
    old, new, started, ran = line.split()
    switch_times.append(int(ran) - int(started))
    old_end = max((last for v, _, last in base_runs if v == old), default=None)
    new_start = min((first for v, first, _ in base_runs if v == new), default=None)
    if old_end is not None and new_start is not None:
        gaps.append(new_start - old_end)
print(f"  gap without a 2xx answer per switch (last answer of the old → first of the new): "
      f"{' '.join(f'{g:.0f}' for g in gaps)} ms; p50 {percentile(gaps, 0.5):.0f} ms, max {max(gaps, default=float('nan')):.0f} ms")
print(f"  `docker stop` + `docker run` per switch: p50 {percentile(switch_times, 0.5)} ms, max {max(switch_times)} ms "
      f"(HAProxy holds a request to a refused server and retries it a second later, so the gaps are whole seconds)")

if failures:
    print("FAILED:\n  " + "\n  ".join(failures))
sys.exit(1 if failures else 0)
