"""Daily sales roll-ups kept in step with the orders and returns they sum.

analytics.SalesDaily holds one row per account, day (Europe/Moscow), seller article and currency;
analytics.SalesDayTotal the same per account and day, each order counted once. The order and return
ingests change them in the same transaction as their upserts, by difference:

    change = orders_delta(account_id, ids)   # before the upsert: subtract what those rows add now
    ... upsert the orders and their lines ...
    change.apply()                           # after it: add what they add then, write the difference

so a re-read order adds nothing, a cancellation or a move to another day moves its figures, and the
cost is a lookup of the batch's own rows by their keys (never a re-scan of a whole day). Rows of an
article with no listing yet are kept under the article and get their listing when it is synced
(link_listings). `rebuild` recomputes the tables from the orders and returns through the same SQL.

Changes of one account's orders (and of its returns) are serialised by a transaction-level advisory
lock, so two writers of the same rows cannot both subtract the same "before".
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from orders.models import OrderStatus, Return

# An order counts as a sale unless cancelled, or returned before it was bought (not picked up):
# status machine.TERMINAL. Returns after delivery arrive as Return rows and count as returns.
NOT_SALES = [OrderStatus.CANCELLED.value, OrderStatus.RETURNED.value]
# A cancellation reported through the returns API is an order that was never a sale: not a return.
NOT_RETURNS = [Return.Kind.CANCELLATION.value]

_LOCK_ORDERS = 0x524F4C4F  # "ROLO": advisory lock class for an account's orders
_LOCK_RETURNS = 0x524F4C52  # "ROLR": … and for its returns

_delta_numbers = itertools.count(1)

FIGURES = ["orders", "cancelled", "units", "revenue", "returns", "return_units", "return_amount"]

# One row per order line (or per order without lines), signed. Grouped twice: by article for
# SalesDaily, by day for SalesDayTotal (GROUPING(offer_id) = 1 marks the day rows).
_ORDER_CONTRIBUTION = """
    SELECT GROUPING(x.offer_id) = 1 AS total, x.day, x.currency, x.offer_id, max(x.listing_id) AS listing_id,
           %(sign)s * count(DISTINCT x.order_id) FILTER (WHERE x.sale) AS orders,
           %(sign)s * count(DISTINCT x.order_id) FILTER (WHERE NOT x.sale) AS cancelled,
           %(sign)s * coalesce(sum(x.quantity) FILTER (WHERE x.sale), 0) AS units,
           %(sign)s * coalesce(sum(x.amount) FILTER (WHERE x.sale), 0) AS revenue,
           0, 0, 0
    FROM (
        SELECT (o.ordered_at AT TIME ZONE %(tz)s)::date AS day, o.currency, l.offer_id, l.listing_id, o.id AS order_id,
               o.status <> ALL(%(not_sales)s) AS sale, coalesce(l.quantity, 0) AS quantity,
               coalesce(l.price * l.quantity, 0) AS amount
        FROM orders_order o
        LEFT JOIN orders_orderline l ON l.order_id = o.id
        WHERE o.account_id = %(account)s AND {where}
    ) x
    GROUP BY GROUPING SETS ((x.day, x.currency, x.offer_id), (x.day, x.currency))
    HAVING GROUPING(x.offer_id) = 1 OR x.offer_id IS NOT NULL
"""

_RETURN_CONTRIBUTION = """
    SELECT GROUPING(x.offer_id) = 1 AS total, x.day, x.currency, x.offer_id, max(x.listing_id) AS listing_id,
           0, 0, 0, 0,
           %(sign)s * count(*) AS returns,
           %(sign)s * sum(x.quantity) AS return_units,
           %(sign)s * sum(x.amount) AS return_amount
    FROM (
        SELECT (r.returned_at AT TIME ZONE %(tz)s)::date AS day, r.currency, r.offer_id, r.listing_id, r.quantity,
               coalesce(r.amount, 0) AS amount
        FROM orders_return r
        WHERE r.account_id = %(account)s AND r.kind <> ALL(%(not_returns)s) AND {where}
    ) x
    GROUP BY GROUPING SETS ((x.day, x.currency, x.offer_id), (x.day, x.currency))
"""

_BY_IDS = {"orders": "o.external_id = ANY(%(ids)s)", "returns": "r.external_id = ANY(%(ids)s)"}
_SINCE = {"orders": "o.ordered_at >= %(since)s", "returns": "r.returned_at >= %(since)s"}
_SOURCES = {"orders": _ORDER_CONTRIBUTION, "returns": _RETURN_CONTRIBUTION}
_LOCKS = {"orders": _LOCK_ORDERS, "returns": _LOCK_RETURNS}

_NONZERO = " OR ".join(f"sum({f}) <> 0" for f in FIGURES)
_EMPTY = " AND ".join(f"t.{f} = 0" for f in FIGURES)
_ADD = ", ".join(f"{f} = t.{f} + EXCLUDED.{f}" for f in FIGURES)
_COLUMNS = ", ".join(FIGURES)
_SUMS = ", ".join(f"sum({f})" for f in FIGURES)

# The net change per key, added to the stored row (or inserted), in key order so two writers of the
# same rows take their locks in the same order; rows left at zero everywhere are deleted.
_APPLY = {
    "analytics_salesdaily": f"""
        WITH written AS (
            INSERT INTO analytics_salesdaily AS t (account_id, day, offer_id, currency, listing_id, {_COLUMNS})
            SELECT %(account)s, day, offer_id, currency, max(listing_id), {_SUMS}
            FROM {{delta}} WHERE NOT total
            GROUP BY day, offer_id, currency HAVING {_NONZERO}
            ORDER BY day, offer_id, currency
            ON CONFLICT (account_id, day, offer_id, currency)
            DO UPDATE SET {_ADD}, listing_id = coalesce(t.listing_id, EXCLUDED.listing_id)
            RETURNING t.id, ({_EMPTY}) AS empty
        )
        SELECT coalesce(array_agg(id) FILTER (WHERE empty), ARRAY[]::bigint[]) FROM written
    """,  # noqa: S608 - table names and columns are constants; values are parameters
    "analytics_salesdaytotal": f"""
        WITH written AS (
            INSERT INTO analytics_salesdaytotal AS t (account_id, day, currency, {_COLUMNS})
            SELECT %(account)s, day, currency, {_SUMS}
            FROM {{delta}} WHERE total
            GROUP BY day, currency HAVING {_NONZERO}
            ORDER BY day, currency
            ON CONFLICT (account_id, day, currency) DO UPDATE SET {_ADD}
            RETURNING t.id, ({_EMPTY}) AS empty
        )
        SELECT coalesce(array_agg(id) FILTER (WHERE empty), ARRAY[]::bigint[]) FROM written
    """,  # noqa: S608
}


def _params(account_id: int, sign: int, **extra: Any) -> dict[str, Any]:
    return {
        "account": account_id, "sign": sign, "tz": settings.TIME_ZONE, "not_sales": NOT_SALES,
        "not_returns": NOT_RETURNS, **extra,
    }


def _lock(source: str, account_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCKS[source], account_id])


@contextmanager
def _no_jit(cursor: Any) -> Iterator[None]:
    """A batch's statements run in milliseconds; compiling them (their plans' costs pass the JIT
    threshold as the tables grow) would cost more, as for core.bulk's upserts."""
    cursor.execute("SELECT current_setting('jit'), set_config('jit', 'off', true)")
    jit = cursor.fetchone()[0]
    try:
        yield
    finally:
        cursor.execute("SELECT set_config('jit', %s, true)", [jit])


class _DeltaTable:
    """A temp table of signed figures per key, dropped at the end (or at commit)."""

    def __init__(self, account_id: int) -> None:
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("analytics.rollup must run inside the upsert's transaction")
        self.account_id = account_id
        self.name = f"_rollup_delta_{next(_delta_numbers)}"
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMP TABLE {self.name} (total boolean, day date, currency text, offer_id text, "
                "listing_id bigint, orders integer, cancelled integer, units integer, revenue numeric, "
                "returns integer, return_units integer, return_amount numeric) ON COMMIT DROP"
            )

    def add(self, source: str, sign: int, where: str, **params: Any) -> None:
        sql = f"INSERT INTO {self.name} " + _SOURCES[source].format(where=where)
        with connection.cursor() as cursor, _no_jit(cursor):
            cursor.execute(sql, _params(self.account_id, sign, **params))

    def write(self) -> None:
        with connection.cursor() as cursor, _no_jit(cursor):
            for table, sql in _APPLY.items():
                cursor.execute(sql.format(delta=self.name), {"account": self.account_id})
                empty = cursor.fetchone()[0]
                if empty:
                    cursor.execute(f"DELETE FROM {table} WHERE id = ANY(%s)", [empty])  # noqa: S608

    def drop(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {self.name}")


class Delta:
    """The roll-up change of a batch of one account's orders or returns, between two snapshots of
    the same rows: taken before their upsert (under the account's lock) and after it."""

    def __init__(self, source: str, account_id: int, ids: Sequence[str]) -> None:
        self.source = source
        self.ids = list(ids)
        self.table = _DeltaTable(account_id) if self.ids else None
        if self.table is not None:
            _lock(source, account_id)
            self.table.add(source, -1, _BY_IDS[source], ids=self.ids)

    def apply(self, *, changed: bool = True) -> None:
        """Add the rows' figures as they are now and write the difference. `changed=False` (the
        upserts wrote nothing) skips the second snapshot: the difference is nothing."""
        if self.table is None:
            return
        if changed:
            self.table.add(self.source, 1, _BY_IDS[self.source], ids=self.ids)
            self.table.write()
        self.table.drop()


def orders_delta(account_id: int, external_ids: Sequence[str]) -> Delta:
    """Call before upserting an account's orders and their lines; `.apply()` after."""
    return Delta("orders", account_id, external_ids)


def lock_orders(account_id: int) -> None:
    """Take the account's roll-up lock for orders before locking order rows another way, so a writer
    that moves orders outside the order ingest never deadlocks with it (the lock is re-entrant)."""
    _lock("orders", account_id)


def returns_delta(account_id: int, external_ids: Sequence[str]) -> Delta:
    """Call before upserting an account's returns; `.apply()` after."""
    return Delta("returns", account_id, external_ids)


# The listing of a seller article: the account's first with it, as the ingests' lookups choose it.
# Rows are locked in the upserts' key order, so this never deadlocks with an ingest of the account.
_LINK = """
    WITH target AS (
        SELECT s.id, l.id AS listing_id
        FROM analytics_salesdaily s
        JOIN (
            SELECT DISTINCT ON (offer_id) offer_id, id FROM catalog_listing
            WHERE account_id = %(account)s AND offer_id = ANY(%(offers)s) ORDER BY offer_id, id
        ) l ON l.offer_id = s.offer_id
        WHERE s.account_id = %(account)s AND s.listing_id IS NULL
        ORDER BY s.day, s.offer_id, s.currency
        FOR UPDATE OF s
    )
    UPDATE analytics_salesdaily s SET listing_id = target.listing_id FROM target WHERE s.id = target.id
"""


def link_listings(account_id: int, offer_ids: Sequence[str]) -> None:
    """Rows of articles sold before their listing was synced get it (a partial index holds only those)."""
    if offer_ids:
        with connection.cursor() as cursor:
            cursor.execute(_LINK, {"account": account_id, "offers": sorted(set(offer_ids))})


@dataclass
class RebuildResult:
    account_id: int
    articles: int
    days: int


def local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def rebuild(account_id: int, since: date | None = None) -> RebuildResult:
    """Recompute one account's roll-up rows (from `since`, a Moscow day, or all) from its orders and
    returns, in one transaction that holds off the ingests' changes meanwhile."""
    first_day = since or date(1970, 1, 1)
    start = local_midnight(first_day)
    with transaction.atomic():
        _lock("orders", account_id)
        _lock("returns", account_id)
        with connection.cursor() as cursor:
            for table in _APPLY:
                cursor.execute(f"DELETE FROM {table} WHERE account_id = %s AND day >= %s",  # noqa: S608
                               [account_id, first_day])
        delta = _DeltaTable(account_id)
        delta.add("orders", 1, _SINCE["orders"], since=start)
        delta.add("returns", 1, _SINCE["returns"], since=start)
        delta.write()
        delta.drop()
        counts = []
        with connection.cursor() as cursor:
            for table in _APPLY:
                cursor.execute(f"SELECT count(*) FROM {table} WHERE account_id = %s AND day >= %s",  # noqa: S608
                               [account_id, first_day])
                counts.append(cursor.fetchone()[0])
    return RebuildResult(account_id, *counts)
