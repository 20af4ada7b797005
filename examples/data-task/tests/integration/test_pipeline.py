"""Integration: a whole load, from CSV files in a temp dir to the written results."""
import csv
import json
from datetime import date

import pytest

from etl.pipeline import NoInput, run

HEADER = "order_id,placed_at,customer,amount,currency\n"


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


@pytest.fixture
def raw(tmp_path):
    raw = tmp_path / "raw"
    write(raw / "2024-05-01" / "shop.csv", HEADER +
          "1,2024-05-01T10:00:00Z,acme,10.00,EUR\n"
          "2,2024-05-01T11:00:00Z,acme,2.50,EUR\n"
          "3,2024-05-01T12:00:00Z,globex,,EUR\n")
    write(raw / "2024-05-01" / "app.csv", HEADER +
          "4,2024-05-01T13:00:00Z,globex,100,USD\n"
          "1,2024-05-01T10:00:00Z,acme,10.00,EUR\n")
    return raw


def test_a_day_is_loaded_into_totals_rejects_and_summary(raw, tmp_path):
    out = tmp_path / "out"
    summary = run(raw, out, date(2024, 5, 1))
    day = out / "2024-05-01"
    assert read_csv(day / "totals.csv") == [
        ["customer", "orders", "total_eur"], ["acme", "2", "12.50"], ["globex", "1", "92.00"]]
    # app.csv sorts before shop.csv, so the re-sent order 1 counts as the duplicate there.
    assert read_csv(day / "rejects.csv") == [
        ["where", "order_id", "reason"], ["shop.csv:2", "1", "duplicate order_id"],
        ["shop.csv:4", "3", "missing amount"]]
    assert json.loads((day / "summary.json").read_text()) == summary.as_dict()
    assert (summary.files, summary.rows, summary.loaded, summary.rejected) == (2, 5, 3, 2)
    assert summary.total_eur == "104.50"


def test_rerunning_a_day_replaces_its_output(raw, tmp_path):
    out = tmp_path / "out"
    run(raw, out, date(2024, 5, 1))
    (out / "2024-05-01" / "stale.txt").write_text("from an older load")
    write(raw / "2024-05-01" / "late.csv", HEADER + "9,2024-05-01T20:00:00Z,initech,1,EUR\n")
    summary = run(raw, out, date(2024, 5, 1))
    assert summary.customers == 3
    assert sorted(p.name for p in (out / "2024-05-01").iterdir()) == [
        "rejects.csv", "summary.json", "totals.csv"]
    assert [p.name for p in out.iterdir()] == ["2024-05-01"], "no staging folder is left behind"


def test_other_days_are_kept_apart(raw, tmp_path):
    write(raw / "2024-05-01" / "late.csv", HEADER + "7,2024-04-30T23:00:00Z,acme,5,EUR\n")
    summary = run(raw, tmp_path / "out", date(2024, 5, 1))
    assert summary.other_days == 1
    assert summary.loaded == 3


def test_a_missing_day_is_an_error_and_writes_nothing(raw, tmp_path):
    with pytest.raises(NoInput, match="2024-05-03"):
        run(raw, tmp_path / "out", date(2024, 5, 3))
    assert not (tmp_path / "out").exists()
