"""Acceptance: what runs in production, run the way production runs it, on the sample data.

The ingest function gets the sample event as its bundle would (top-level `handler` module),
and each day it names is loaded by the CLI entry point `python3 -m etl`, as the task does.
With $SLIPWAY_SUMMARY set, the loaded totals are appended there as a Markdown table.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample"


def etl(*args, env=None, cwd=ROOT):
    full_env = {k: v for k, v in os.environ.items() if k != "WAREHOUSE_URL"}
    full_env.update({"PYTHONDONTWRITEBYTECODE": "1"}, **(env or {}))
    return subprocess.run([sys.executable, "-m", "etl", *map(str, args)], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=30)


def invoke_ingest(event):
    code = "import json, sys, handler; print(json.dumps(handler.handler(json.load(sys.stdin))))"
    done = subprocess.run([sys.executable, "-B", "-c", code], cwd=ROOT / "functions" / "ingest",
                          input=json.dumps(event), capture_output=True, text=True, timeout=30,
                          check=True)
    return json.loads(done.stdout)


@pytest.fixture
def raw(tmp_path):
    return Path(shutil.copytree(SAMPLE / "raw", tmp_path / "raw"))


def test_sample_event_then_load_of_each_day_matches_the_expected_output(raw, tmp_path):
    result = invoke_ingest(json.loads((SAMPLE / "event.json").read_text()))
    assert result == {"statusCode": 200, "days": ["2024-05-01", "2024-05-02"],
                      "ignored": ["raw/2024-05-02/README notes.txt"]}

    out = tmp_path / "out"
    summaries = []
    for day in result["days"]:
        done = etl("--date", day, "--input", raw, "--output", out)
        assert done.returncode == 0, done.stderr
        summaries.append(json.loads(done.stdout))

    for name in ("totals.csv", "rejects.csv", "summary.json"):
        expected = (SAMPLE / "expected" / "2024-05-01" / name).read_text()
        assert (out / "2024-05-01" / name).read_text() == expected, f"2024-05-01/{name} differs"
    assert summaries[1]["total_eur"] == "10.00"
    write_summary(out, summaries)


def write_summary(out, summaries):
    destination = os.environ.get("SLIPWAY_SUMMARY")
    if not destination:
        return
    lines = ["### orders-etl on the sample data", "",
             "| day | files | rows | loaded | rejected | other days | total EUR |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for s in summaries:
        lines.append(f"| {s['day']} | {s['files']} | {s['rows']} | {s['loaded']} | "
                     f"{s['rejected']} | {s['other_days']} | {s['total_eur']} |")
    with open(destination, "a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n\n")


def test_output_defaults_to_the_warehouse_url(raw, tmp_path):
    warehouse = tmp_path / "warehouse"
    done = etl("--date", "2024-05-02", "--input", raw, env={"WAREHOUSE_URL": warehouse.as_uri()})
    assert done.returncode == 0, done.stderr
    assert (warehouse / "2024-05-02" / "totals.csv").read_text() == \
        "customer,orders,total_eur\nacme,1,10.00\n"


def test_a_warehouse_url_that_is_not_a_file_is_refused_without_showing_it(raw):
    secret = "postgresql://loader:hunter2@127.0.0.1/warehouse"
    done = etl("--date", "2024-05-01", "--input", raw, env={"WAREHOUSE_URL": secret})
    assert done.returncode == 2
    assert "file://" in done.stderr
    assert "hunter2" not in done.stderr + done.stdout


def test_a_day_without_input_exits_1_with_the_folder_named(raw, tmp_path):
    done = etl("--date", "2024-06-01", "--input", raw, "--output", tmp_path / "out")
    assert done.returncode == 1
    assert "2024-06-01" in done.stderr


def test_a_bad_date_is_a_usage_error(raw, tmp_path):
    done = etl("--date", "last tuesday", "--input", raw, "--output", tmp_path / "out")
    assert done.returncode == 2
    assert "not a date" in done.stderr


def test_the_day_can_come_from_etl_date_as_a_task_run_passes_it(raw, tmp_path):
    done = etl("--input", raw, "--output", tmp_path / "out", env={"ETL_DATE": "2024-05-02"})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["day"] == "2024-05-02"
