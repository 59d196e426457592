"""The daily finance roll-up (analytics.FinanceDaily) kept in step with the finance operations and
fee lines it sums, the way analytics.rollup keeps the sales roll-up: the finance ingest takes the
batch's contribution before its upserts (subtracted), again after them (added), and writes the
difference in the same transaction. `rebuild` recomputes an account's rows through the same SQL.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from analytics.models import FeeLine
from analytics.rollup import local_midnight

_LOCK_FINANCE = 0x524F4C46  # "ROLF": advisory lock class for an account's finance operations

FEE_KINDS = [kind.value for kind in FeeLine.Kind]
FIGURES = ["operations", "quantity", "sale_amount", "payout", *FEE_KINDS]

_numbers = itertools.count(1)

_FEES = ", ".join(f"sum(amount) FILTER (WHERE kind = '{kind}') AS {kind}" for kind in FEE_KINDS)
_FEE_SUMS = ", ".join(f"%(sign)s * coalesce(sum(fl.{kind}), 0)" for kind in FEE_KINDS)
_CONTRIBUTION = f"""
    SELECT (f.operation_at AT TIME ZONE %(tz)s)::date AS day, f.currency, f.offer_id,
           %(sign)s * count(*), %(sign)s * sum(f.quantity), %(sign)s * sum(f.sale_amount), %(sign)s * sum(f.amount),
           {_FEE_SUMS}
    FROM analytics_financeoperation f
    LEFT JOIN LATERAL (SELECT {_FEES} FROM analytics_feeline WHERE operation_id = f.id) fl ON true
    WHERE f.account_id = %(account)s AND {{where}}
    GROUP BY 1, 2, 3
"""  # noqa: S608 - kinds are the model's constants; values are parameters

_COLUMNS = ", ".join(FIGURES)
_SUMS = ", ".join(f"sum({f})" for f in FIGURES)
_NONZERO = " OR ".join(f"sum({f}) <> 0" for f in FIGURES)
_EMPTY = " AND ".join(f"t.{f} = 0" for f in FIGURES)
_ADD = ", ".join(f"{f} = t.{f} + EXCLUDED.{f}" for f in FIGURES)
_APPLY = f"""
    WITH written AS (
        INSERT INTO analytics_financedaily AS t (account_id, day, offer_id, currency, {_COLUMNS})
        SELECT %(account)s, day, offer_id, currency, {_SUMS}
        FROM {{delta}}
        GROUP BY day, offer_id, currency HAVING {_NONZERO}
        ORDER BY day, offer_id, currency
        ON CONFLICT (account_id, day, offer_id, currency) DO UPDATE SET {_ADD}
        RETURNING t.id, ({_EMPTY}) AS empty
    )
    SELECT coalesce(array_agg(id) FILTER (WHERE empty), ARRAY[]::bigint[]) FROM written
"""  # noqa: S608


class _Delta:
    def __init__(self, account_id: int) -> None:
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("analytics.finance_rollup must run inside the ingest's transaction")
        self.account_id = account_id
        self.name = f"_finance_delta_{next(_numbers)}"
        columns = ", ".join(f"{f} numeric" for f in FIGURES)
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TEMP TABLE {self.name} (day date, currency text, offer_id text, {columns}) "
                           "ON COMMIT DROP")

    def add(self, sign: int, where: str, **params: Any) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {self.name} " + _CONTRIBUTION.format(where=where),
                {"account": self.account_id, "sign": sign, "tz": settings.TIME_ZONE, **params},
            )

    def write_and_drop(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(_APPLY.format(delta=self.name), {"account": self.account_id})
            empty = cursor.fetchone()[0]
            if empty:
                cursor.execute("DELETE FROM analytics_financedaily WHERE id = ANY(%s)", [empty])
            cursor.execute(f"DROP TABLE {self.name}")


def _lock(account_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_FINANCE, account_id])


_BY_IDS = "f.external_id = ANY(%(ids)s)"


class FinanceDelta:
    """Taken before a batch's upserts (under the account's lock); `.apply()` after them."""

    def __init__(self, account_id: int, external_ids: Sequence[str]) -> None:
        self.ids = list(external_ids)
        self.delta = _Delta(account_id) if self.ids else None
        if self.delta is not None:
            _lock(account_id)
            self.delta.add(-1, _BY_IDS, ids=self.ids)

    def apply(self) -> None:
        if self.delta is not None:
            self.delta.add(1, _BY_IDS, ids=self.ids)
            self.delta.write_and_drop()


def finance_delta(account_id: int, external_ids: Sequence[str]) -> FinanceDelta:
    return FinanceDelta(account_id, external_ids)


def rebuild(account_id: int, since: date | None = None) -> int:
    """Recompute one account's rows (from `since`, a Moscow day, or all); returns the row count."""
    first_day = since or date(1970, 1, 1)
    with transaction.atomic():
        _lock(account_id)
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM analytics_financedaily WHERE account_id = %s AND day >= %s",
                           [account_id, first_day])
        delta = _Delta(account_id)
        delta.add(1, "f.operation_at >= %(since)s", since=local_midnight(first_day))
        delta.write_and_drop()
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM analytics_financedaily WHERE account_id = %s AND day >= %s",
                           [account_id, first_day])
            return int(cursor.fetchone()[0])
