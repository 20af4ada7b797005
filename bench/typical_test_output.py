#!/usr/bin/env python3
# Writes 10 MB of typical test output to the file named by its argument, for the log benchmarks
# (bench/log_throughput.sh, bench/peers_log.sh), so both print the same bytes.
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
