"""python3 -m etl --date DAY [--input DIR] [--output DIR]

DAY is YYYY-MM-DD, `today` or `yesterday` (UTC); without --date, $ETL_DATE (how a Slipway task run
passes it: `slipway task run daily-load --env ETL_DATE=2024-05-01`). --output defaults to $WAREHOUSE_URL, which must
be a file:// URL in this example. Prints the load's summary as one JSON line.
Exit status: 0 loaded, 1 no input for that day, 2 usage error.
"""
import argparse
import json
import os
import sys
from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlparse

from etl.pipeline import NoInput, run


def parse_day(text):
    today = datetime.now(timezone.utc).date()
    if text == "today":
        return today
    if text == "yesterday":
        return today - timedelta(days=1)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD, today, yesterday): {text!r}")


def default_output():
    url = os.environ.get("WAREHOUSE_URL", "")
    if not url:
        return None
    parsed = urlparse(url)
    if parsed.scheme != "file":
        # Never print the URL itself: it is a secret.
        print(f"etl: WAREHOUSE_URL must be a file:// URL in this example, got scheme "
              f"{parsed.scheme!r}", file=sys.stderr)
        sys.exit(2)
    return parsed.path


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m etl", description=__doc__.split("\n")[0])
    from_env = os.environ.get("ETL_DATE") or None
    parser.add_argument("--date", required=from_env is None, default=from_env, type=parse_day,
                        help="YYYY-MM-DD|today|yesterday (default: $ETL_DATE)")
    parser.add_argument("--input", default="raw", help="folder holding DAY/*.csv (default: raw)")
    parser.add_argument("--output", help="folder for DAY/ results (default: $WAREHOUSE_URL)")
    args = parser.parse_args(argv)
    output = args.output or default_output()
    if not output:
        parser.error("--output is required when $WAREHOUSE_URL is not set")
    try:
        summary = run(args.input, output, args.date)
    except NoInput as error:
        print(f"etl: {error}", file=sys.stderr)
        return 1
    print(json.dumps(summary.as_dict(), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
