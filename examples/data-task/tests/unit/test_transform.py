"""Unit: the pure transform functions."""
from datetime import date

import pytest

from etl.transform import Order, clean, daily_totals, format_cents, parse_order


def row(**overrides):
    base = {"order_id": "X-1", "placed_at": "2024-05-01T10:00:00Z", "customer": "Acme",
            "amount": "10.00", "currency": "EUR"}
    base.update(overrides)
    return base


def test_parse_order_normalises_customer_and_converts_to_eur_cents():
    order = parse_order(row(customer="  ACME ", amount="19.99", currency="usd"))
    assert order == Order("X-1", date(2024, 5, 1), "acme", 1839)  # 19.99 * 0.92 = 18.3908


def test_the_day_of_an_order_is_its_utc_day():
    assert parse_order(row(placed_at="2024-05-02T01:30:00+02:00")).placed_on == date(2024, 5, 1)
    assert parse_order(row(placed_at="2024-05-01T23:59:59")).placed_on == date(2024, 5, 1)


def test_rounding_is_half_even_on_cents():
    assert parse_order(row(amount="5.50", currency="GBP")).amount_cents == 644  # 643.5 -> 644
    assert parse_order(row(amount="0.125", currency="EUR")).amount_cents == 12  # 12.5 -> 12


@pytest.mark.parametrize("overrides, reason", [
    ({"amount": ""}, "missing amount"),
    ({"customer": " ", "currency": ""}, "missing customer, currency"),
    ({"placed_at": "yesterday"}, "placed_at is not an ISO timestamp"),
    ({"currency": "JPY"}, "unknown currency 'JPY'"),
    ({"amount": "ten"}, "amount is not a number"),
    ({"amount": "-1"}, "non-negative"),
    ({"amount": "NaN"}, "non-negative"),
])
def test_parse_order_says_why_a_row_is_rejected(overrides, reason):
    with pytest.raises(ValueError, match=reason):
        parse_order(row(**overrides))


def test_clean_keeps_the_first_of_duplicate_order_ids_and_locates_rejects():
    orders, rejects = clean([("a.csv:2", row()), ("a.csv:3", row(currency="XXX")),
                             ("b.csv:2", row(amount="99"))])
    assert [o.amount_cents for o in orders] == [1000]
    assert [(r.where, r.reason) for r in rejects] == [
        ("a.csv:3", "unknown currency 'XXX'"), ("b.csv:2", "duplicate order_id")]


def test_daily_totals_sums_one_day_per_customer_sorted():
    orders = [Order("1", date(2024, 5, 1), "globex", 500), Order("2", date(2024, 5, 1), "acme", 250),
              Order("3", date(2024, 5, 1), "globex", 1), Order("4", date(2024, 4, 30), "acme", 9)]
    totals = daily_totals(orders, date(2024, 5, 1))
    assert [(t.customer, t.orders, t.total_cents) for t in totals] == [
        ("acme", 1, 250), ("globex", 2, 501)]


def test_format_cents():
    assert [format_cents(c) for c in (0, 7, 1234, -50)] == ["0.00", "0.07", "12.34", "-0.50"]
