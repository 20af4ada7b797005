"""Unit: the ingest function's decision, on hand-made events."""
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Loaded by path: in its bundle the handler is a top-level module, not part of a package.
spec = importlib.util.spec_from_file_location("handler", ROOT / "functions/ingest/handler.py")
handler_module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(handler_module)


def event(*keys):
    return {"Records": [{"s3": {"object": {"key": key}}} for key in keys]}


def test_each_changed_day_is_loaded_once_in_order():
    result = handler_module.handler(event("raw/2024-05-02/a.csv", "raw/2024-05-01/b.csv",
                                          "raw/2024-05-02/c.csv"))
    assert result == {"statusCode": 200, "days": ["2024-05-01", "2024-05-02"], "ignored": []}


def test_keys_that_are_not_raw_csv_partitions_are_ignored():
    keys = ["raw/2024-05-01/notes.txt", "out/2024-05-01/totals.csv", "raw/2024-13-40/x.csv",
            "raw/2024-05-01/deep/x.csv"]
    result = handler_module.handler(event(*keys))
    assert result == {"statusCode": 200, "days": [], "ignored": keys}


def test_keys_are_url_decoded():
    result = handler_module.handler(event("raw/2024-05-01/orders+eu%2B1.csv"))
    assert result["days"] == ["2024-05-01"]


def test_a_malformed_event_is_a_400():
    result = handler_module.handler({"Records": [{"s3": {}}]})
    assert result["statusCode"] == 400
    assert "object" in result["error"]
