"""The pure part of the ETL: parsing, cleaning and aggregating orders. No files, no clock."""
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation, ROUND_HALF_EVEN

# Fixed rates keep a load reproducible; a real job would read the day's rates as another input.
RATES_TO_EUR = {"EUR": Decimal("1"), "USD": Decimal("0.92"), "GBP": Decimal("1.17")}
COLUMNS = ("order_id", "placed_at", "customer", "amount", "currency")


@dataclass(frozen=True)
class Order:
    order_id: str
    placed_on: date
    customer: str
    amount_cents: int  # in EUR; integer cents so that sums are exact


@dataclass(frozen=True)
class Rejected:
    where: str  # "FILE:LINE", LINE counting the header as line 1, as an editor shows it
    order_id: str
    reason: str


@dataclass(frozen=True)
class CustomerTotal:
    customer: str
    orders: int
    total_cents: int


def parse_order(row):
    """One CSV row (a dict) -> Order. Raises ValueError with a reason a human can act on."""
    missing = [column for column in COLUMNS if not (row.get(column) or "").strip()]
    if missing:
        raise ValueError("missing " + ", ".join(missing))
    try:
        placed = datetime.fromisoformat(row["placed_at"].strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"placed_at is not an ISO timestamp: {row['placed_at']!r}") from None
    if placed.tzinfo is not None:  # a day is a UTC day; naive timestamps are taken as UTC
        placed = placed.astimezone(timezone.utc)
    currency = row["currency"].strip().upper()
    if currency not in RATES_TO_EUR:
        raise ValueError(f"unknown currency {currency!r}")
    try:
        amount = Decimal(row["amount"].strip())
    except InvalidOperation:
        raise ValueError(f"amount is not a number: {row['amount']!r}") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"amount must be a non-negative number: {row['amount']!r}")
    eur_cents = (amount * RATES_TO_EUR[currency] * 100).quantize(Decimal(1), ROUND_HALF_EVEN)
    return Order(
        order_id=row["order_id"].strip(),
        placed_on=placed.date(),
        customer=row["customer"].strip().lower(),
        amount_cents=int(eur_cents),
    )


def clean(located_rows):
    """(where, row) pairs -> (orders, rejects). A repeated order_id keeps its first occurrence,
    also across files, since exports overlap when a source re-sends a batch."""
    orders, rejects, seen = [], [], set()
    for where, row in located_rows:
        order_id = (row.get("order_id") or "").strip()
        try:
            order = parse_order(row)
        except ValueError as error:
            rejects.append(Rejected(where, order_id, str(error)))
            continue
        if order.order_id in seen:
            rejects.append(Rejected(where, order_id, "duplicate order_id"))
            continue
        seen.add(order.order_id)
        orders.append(order)
    return orders, rejects


def daily_totals(orders, day):
    """Orders placed on `day`, summed per customer, sorted by customer."""
    count, total = defaultdict(int), defaultdict(int)
    for order in orders:
        if order.placed_on == day:
            count[order.customer] += 1
            total[order.customer] += order.amount_cents
    return [CustomerTotal(c, count[c], total[c]) for c in sorted(count)]


def format_cents(cents):
    """1234 -> "12.34"."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"
