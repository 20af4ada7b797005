"""ingest: a Lambda-style function called with the object store's "object created" events.

It decides which days need a (re)load: a file under raw/YYYY-MM-DD/ means that day changed.
The bundle is this folder alone, so it uses only the standard library (not the etl package).
"""
import re
from datetime import date
from urllib.parse import unquote_plus

PARTITION = re.compile(r"^raw/(\d{4}-\d{2}-\d{2})/[^/]+\.csv$")


def days_to_load(keys):
    """Object keys -> (sorted distinct days as YYYY-MM-DD, keys that are not raw CSV files)."""
    days, ignored = set(), []
    for key in keys:
        match = PARTITION.match(key)
        try:
            days.add(date.fromisoformat(match.group(1)).isoformat() if match else None)
        except ValueError:  # raw/2024-13-40/x.csv: the shape is right, the date is not
            match = None
        if not match:
            days.discard(None)
            ignored.append(key)
    return sorted(days), ignored


def handler(event, context=None):
    """S3-style notification -> {"statusCode", "days", "ignored"} or {"statusCode": 400, "error"}."""
    try:
        # S3 URL-encodes keys in notifications ("a+b" is "a b").
        keys = [unquote_plus(record["s3"]["object"]["key"]) for record in event["Records"]]
    except (KeyError, TypeError) as error:
        return {"statusCode": 400, "error": f"not an object-created event: missing {error}"}
    days, ignored = days_to_load(keys)
    return {"statusCode": 200, "days": days, "ignored": ignored}
