"""Runs one day's load: reads raw/DAY/*.csv, writes out/DAY/ all at once or not at all."""
import csv
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from etl.transform import clean, daily_totals, format_cents


class NoInput(Exception):
    """The day's raw partition is missing or holds no CSV file."""


@dataclass(frozen=True)
class Summary:
    day: str
    files: int
    rows: int
    loaded: int
    rejected: int
    other_days: int  # valid orders in this day's files but placed on another day: not loaded
    customers: int
    total_eur: str

    def as_dict(self):
        return dict(self.__dict__)


def read_rows(paths):
    """All rows of the CSV files, as ("FILE:LINE", row) pairs."""
    rows = []
    for path in paths:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            rows.extend((f"{path.name}:{reader.line_num}", row) for row in reader)
    return rows


def run(input_dir, output_dir, day):
    """Loads `day` (a date) from `input_dir` into `output_dir`; returns the Summary.

    Rerunning a day replaces its output, so a retried or repeated task is harmless.
    """
    partition = Path(input_dir) / day.isoformat()
    files = sorted(partition.glob("*.csv"))
    if not files:
        raise NoInput(f"no CSV files in {partition}")
    rows = read_rows(files)
    orders, rejects = clean(rows)
    totals = daily_totals(orders, day)
    summary = Summary(
        day=day.isoformat(), files=len(files), rows=len(rows),
        loaded=sum(t.orders for t in totals), rejected=len(rejects),
        other_days=len(orders) - sum(t.orders for t in totals), customers=len(totals),
        total_eur=format_cents(sum(t.total_cents for t in totals)),
    )

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    # Write into a sibling temp folder and swap it in, so readers never see half a day.
    staging = Path(tempfile.mkdtemp(prefix=f".{day.isoformat()}-", dir=output_dir))
    try:
        with open(staging / "totals.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["customer", "orders", "total_eur"])
            for total in totals:
                writer.writerow([total.customer, total.orders, format_cents(total.total_cents)])
        with open(staging / "rejects.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["where", "order_id", "reason"])
            for reject in rejects:
                writer.writerow([reject.where, reject.order_id, reject.reason])
        (staging / "summary.json").write_text(json.dumps(summary.as_dict(), indent=2) + "\n")
        final = output_dir / day.isoformat()
        if final.exists():
            shutil.rmtree(final)
        staging.rename(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return summary
