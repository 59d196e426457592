"""Reconciliation with what the marketplaces paid: per marketplace and period, what our delivered orders
predict (seller's price less returns) against what the finance reports accrued, charged and paid, and
every difference per order (analytics.Discrepancy), the list a seller takes to the marketplace's support.

The refresh recomputes an account's days from `since` (RECONCILIATION_WINDOW_DAYS back by default) in
one transaction, set-based: one statement gathers every order of the window with its lines, returns,
finance operations and fee lines (one row per order, in a temporary table), one more the operations
that name no order of ours; the discrepancies and the two daily tables (ReconciliationDaily,
DiscrepancyDaily) are INSERT … SELECT from those. An order counts on its own day (Moscow) with every
operation linked to it, whenever the marketplace booked it; an operation without one of our orders
counts on its own day. The page reads the daily tables and pages the discrepancies by index.

Kinds (Discrepancy.Kind), amounts signed as the reports sign them, difference = expected − actual:
- no payout: a delivered order, RECONCILIATION_PAYOUT_DAYS[marketplace] days after delivery, with no
  accrual for a sale; expected its price less returns;
- accrued below the price: the sale accrued less than the order's price (gross, before returns) by more
  than RECONCILIATION_TOLERANCE;
- commission above the tariff: the commission charged on the sale above the fee rate in effect for the
  card, its category or the account (pricing.FeeRate, chosen as pricing.fees does: the card's own before
  its category's before the account's, the scheme's own before "any", the newest on the order's day),
  by more than the tolerance; orders whose lines have no rate are not judged;
- return charged, no return recorded: a sale reversed (a negative accrual) on an order with no return
  and not returned before delivery;
- deduction without an order or sale: a charge naming no order and no sale, other than the account's
  storage and advertising; or charges on an order that was cancelled, never sold;
- operation for an order we do not have: operations naming an order that is not in our orders.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from analytics.finance_rollup import FEE_KINDS
from analytics.models import Discrepancy, ReconciliationRun
from analytics.period import Period
from core.audit import audit_record
from core.models import Marketplace
from core.money import RUB
from core.pagination import Sort, Sorts
from integrations.models import MarketplaceAccount, SyncRun
from orders.models import OrderStatus, Return

logger = logging.getLogger(__name__)

ZERO = Decimal(0)
_LOCK_RECONCILIATION = 0x5245434E  # "RECN": advisory lock class for an account's reconciliation
# Charges of the account as a whole, expected without an order.
ACCOUNT_LEVEL_KINDS = ["storage", "advertising"]
# Without a finance sync since, the beat still recomputes once a day: orders age into "no payout".
STALE_AFTER = timedelta(hours=24)
KEEP_RUNS = timedelta(days=30)
# The task that runs run_queued(), sent by its registered name: analytics.tasks imports this module.
RUN_QUEUED_TASK = "analytics.run_reconciliation"  # analytics.tasks.run_reconciliation

DISCREPANCY_SORTS = Sorts(Discrepancy, [
    Sort("date", _("Newest first"), ("-day", "-id")),
    Sort("difference", _("Largest difference first"), ("-difference", "-id")),
])

_numbers = itertools.count(1)


def payout_days(marketplace: str) -> int:
    days: dict[str, int] = getattr(settings, "RECONCILIATION_PAYOUT_DAYS", {})
    return int(days.get(marketplace, 14))


def tolerance() -> Decimal:
    return Decimal(str(getattr(settings, "RECONCILIATION_TOLERANCE", "1.00")))


def window_days() -> int:
    return int(getattr(settings, "RECONCILIATION_WINDOW_DAYS", 180))


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


# ---------------------------------------------------------------------------------------------
# The refresh

_FEE_SUMS = ", ".join(f"sum(amount) FILTER (WHERE kind = '{kind}') AS {kind}" for kind in FEE_KINDS)
_ORDER_FEES = ", ".join(f"coalesce(sum(fl.{kind}), 0) AS {kind}" for kind in FEE_KINDS)
_F_FEES = ", ".join(f"coalesce(f.{kind}, 0) AS {kind}" for kind in FEE_KINDS)

# One row per order of the window: its price (seller's price, else the line price, × quantity), its
# returns, and its finance operations with their fees.
_ORDERS = f"""
    CREATE TEMP TABLE {{table}} ON COMMIT DROP AS
    WITH o AS (
        SELECT o.id, o.external_id, o.scheme, o.status, o.ordered_at, o.currency,
               (o.ordered_at AT TIME ZONE %(tz)s)::date AS day, coalesce(o.status_changed_at, o.ordered_at) AS status_at
        FROM orders_order o
        WHERE o.account_id = %(account)s AND o.ordered_at >= %(since_at)s
    ), e AS (
        SELECT l.order_id, sum(coalesce(l.seller_price, l.price) * l.quantity) AS expected
        FROM orders_orderline l WHERE l.order_id IN (SELECT id FROM o) GROUP BY 1
    ), r AS (
        SELECT r.order_id, count(*) AS returns, sum(coalesce(r.amount, 0)) AS returned
        FROM orders_return r
        WHERE r.order_id IN (SELECT id FROM o) AND r.kind <> %(cancellation)s GROUP BY 1
    ), f AS (
        SELECT f.order_id, count(*) FILTER (WHERE f.sale_amount > 0) AS sales,
               coalesce(sum(f.sale_amount) FILTER (WHERE f.sale_amount > 0), 0) AS sold,
               coalesce(sum(f.sale_amount) FILTER (WHERE f.sale_amount < 0), 0) AS refunded,
               sum(f.sale_amount) AS accrued, sum(f.amount) AS paid,
               coalesce(sum(fl.commission) FILTER (WHERE f.sale_amount > 0), 0) AS sale_commission,
               {_ORDER_FEES},
               array_agg(f.external_id ORDER BY f.operation_at, f.id) AS ids,
               array_agg(f.external_id ORDER BY f.operation_at, f.id) FILTER (WHERE f.sale_amount > 0) AS sale_ids,
               array_agg(f.external_id ORDER BY f.operation_at, f.id) FILTER (WHERE f.sale_amount < 0) AS refund_ids
        FROM analytics_financeoperation f
        LEFT JOIN LATERAL (SELECT {_FEE_SUMS} FROM analytics_feeline WHERE operation_id = f.id) fl ON true
        WHERE f.order_id IN (SELECT id FROM o)
        GROUP BY 1
    )
    SELECT o.*, coalesce(e.expected, 0) AS expected, coalesce(r.returns, 0) AS returns,
           coalesce(r.returned, 0) AS returned, coalesce(f.sales, 0) AS sales, coalesce(f.sold, 0) AS sold,
           coalesce(f.refunded, 0) AS refunded, coalesce(f.accrued, 0) AS accrued, coalesce(f.paid, 0) AS paid,
           coalesce(f.sale_commission, 0) AS sale_commission, {_F_FEES},
           coalesce(f.ids, '{{{{}}}}') AS ids, coalesce(f.sale_ids, '{{{{}}}}') AS sale_ids,
           coalesce(f.refund_ids, '{{{{}}}}') AS refund_ids
    FROM o LEFT JOIN e ON e.order_id = o.id LEFT JOIN r ON r.order_id = o.id LEFT JOIN f ON f.order_id = o.id
"""  # noqa: S608 - kinds are the model's constants; values are parameters

# The account's operations of the window that are linked to none of our orders.
_LOOSE = f"""
    CREATE TEMP TABLE {{table}} ON COMMIT DROP AS
    SELECT f.id, f.external_id, f.order_external_id, f.operation_at, f.currency, f.sale_amount, f.amount,
           (f.operation_at AT TIME ZONE %(tz)s)::date AS day, {_F_FEES},
           coalesce(f.account_level, false) AS account_level
    FROM (
        SELECT f.*, fl.*
        FROM analytics_financeoperation f
        LEFT JOIN LATERAL (
            SELECT {_FEE_SUMS}, bool_and(kind = ANY(%(account_level)s)) AS account_level
            FROM analytics_feeline WHERE operation_id = f.id
        ) fl ON true
        WHERE f.account_id = %(account)s AND f.order_id IS NULL AND f.operation_at >= %(since_at)s
    ) f
"""  # noqa: S608

_INSERT = """
    INSERT INTO analytics_discrepancy (account_id, kind, day, occurred_at, order_id, order_external_id, expected,
                                       actual, difference, rate, currency, operation_ids, computed_at)
"""

_ORDER_KINDS = {
    Discrepancy.Kind.NO_PAYOUT: """
        SELECT %(account)s, %(kind)s, day, ordered_at, id, external_id, expected - returned, accrued,
               expected - returned - accrued, NULL::numeric, currency, ids, %(now)s
        FROM {orders}
        WHERE status = %(delivered)s AND sales = 0 AND status_at < %(unpaid_before)s AND expected - returned > 0
    """,
    Discrepancy.Kind.UNDERPAID: """
        SELECT %(account)s, %(kind)s, day, ordered_at, id, external_id, expected, sold, expected - sold,
               NULL::numeric, currency, sale_ids, %(now)s
        FROM {orders}
        WHERE status = %(delivered)s AND sales > 0 AND expected - sold > %(tolerance)s
    """,
    Discrepancy.Kind.RETURN_UNRECORDED: """
        SELECT %(account)s, %(kind)s, day, ordered_at, id, external_id, 0, refunded, -refunded,
               NULL::numeric, currency, refund_ids, %(now)s
        FROM {orders}
        WHERE refunded < 0 AND returns = 0 AND status <> %(returned)s
    """,
    Discrepancy.Kind.UNEXPECTED_CHARGE: """
        SELECT %(account)s, %(kind)s, day, operation_at, NULL::bigint, '', 0, amount, -amount,
               NULL::numeric, currency, ARRAY[external_id]::varchar[], %(now)s
        FROM {loose}
        WHERE order_external_id = '' AND amount < 0 AND sale_amount = 0 AND NOT account_level
        UNION ALL
        SELECT %(account)s, %(kind)s, day, ordered_at, id, external_id, 0, paid, -paid,
               NULL::numeric, currency, ids, %(now)s
        FROM {orders}
        WHERE status = %(cancelled)s AND sales = 0 AND paid < -%(tolerance)s
    """,
    Discrepancy.Kind.UNKNOWN_ORDER: """
        SELECT %(account)s, %(kind)s, min(day), min(operation_at), NULL::bigint, order_external_id, 0, sum(amount),
               -sum(amount), NULL::numeric, currency,
               (array_agg(external_id ORDER BY operation_at, id))::varchar[], %(now)s
        FROM {loose}
        WHERE order_external_id <> ''
        GROUP BY order_external_id, currency
        HAVING sum(amount) <> 0 OR sum(sale_amount) <> 0
    """,
}

# The commission the tariff asks for each line (percent of the unit price clamped to [minimum, maximum],
# plus fixed, in kopecks half up per unit, × quantity), against what the sale was charged.
_COMMISSION = """
    SELECT %(account)s, %(kind)s, t.day, t.ordered_at, t.id, t.external_id, c.expected, t.sale_commission,
           c.expected - t.sale_commission, c.rate, t.currency, t.sale_ids, %(now)s
    FROM {orders} t
    JOIN LATERAL (
        SELECT -sum(round(greatest(least(x.unit * x.percent / 100, coalesce(x.maximum, 'Infinity')),
                                   coalesce(x.minimum, 0)) + x.fixed, 2) * x.quantity) AS expected,
               count(*) = count(x.percent) AS rated, max(x.percent) AS rate
        FROM (
            SELECT coalesce(l.seller_price, l.price) AS unit, l.quantity, rate.*
            FROM orders_orderline l
            LEFT JOIN catalog_listing li ON li.id = l.listing_id
            LEFT JOIN LATERAL (
                SELECT r.percent, r.fixed, r.minimum, r.maximum
                FROM pricing_feerate r
                WHERE r.account_id = %(account)s AND r.kind = 'commission'
                  AND (r.listing_id = l.listing_id OR (r.listing_id IS NULL AND r.category IN ('', li.category)))
                  AND r.scheme IN ('', lower(t.scheme), CASE WHEN t.scheme = 'DBS' THEN 'rfbs' ELSE '' END)
                  AND r.effective_from <= t.day
                  AND (r.price_from IS NULL OR coalesce(l.seller_price, l.price) >= r.price_from)
                  AND (r.price_to IS NULL OR coalesce(l.seller_price, l.price) < r.price_to)
                ORDER BY r.listing_id IS NULL, r.category = '', r.scheme = '', r.effective_from DESC
                LIMIT 1
            ) rate ON true
            WHERE l.order_id = t.id
        ) x
    ) c ON c.rated
    WHERE t.sales > 0 AND t.sale_commission < 0 AND c.expected - t.sale_commission > %(tolerance)s
"""

_FEE_COLUMNS = ", ".join(FEE_KINDS)
_FEE_TOTALS = ", ".join(f"sum({kind})" for kind in FEE_KINDS)
_DAILY = f"""
    INSERT INTO analytics_reconciliationdaily (account_id, day, currency, orders, predicted, accrued, paid,
                                               {_FEE_COLUMNS})
    SELECT %(account)s, day, currency, sum(orders), sum(predicted), sum(accrued), sum(paid), {_FEE_TOTALS}
    FROM (
        SELECT day, currency, (status = %(delivered)s)::int AS orders,
               CASE WHEN status = %(delivered)s THEN expected - returned ELSE 0 END AS predicted,
               accrued, paid, {_FEE_COLUMNS}
        FROM {{orders}}
        UNION ALL
        SELECT day, currency, 0, 0, sale_amount, amount, {_FEE_COLUMNS} FROM {{loose}}
    ) x
    GROUP BY day, currency
"""  # noqa: S608

_KIND_DAILY = """
    INSERT INTO analytics_discrepancydaily (account_id, day, kind, currency, count, amount)
    SELECT account_id, day, kind, currency, count(*), sum(difference)
    FROM analytics_discrepancy WHERE account_id = %(account)s AND day >= %(since)s
    GROUP BY account_id, day, kind, currency
"""


@dataclass
class RefreshResult:
    account_id: int
    since: date
    discrepancies: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.discrepancies.values())


def refresh_account(account_id: int, *, since: date | None = None, now: datetime | None = None) -> RefreshResult:
    """Recompute one account's discrepancies and daily figures from `since` (a Moscow day) on."""
    now = now or timezone.now()
    since = since or timezone.localtime(now).date() - timedelta(days=window_days())
    marketplace = MarketplaceAccount.objects.values_list("marketplace", flat=True).get(pk=account_id)
    params: dict[str, Any] = {
        "account": account_id, "since": since, "since_at": _midnight(since), "tz": settings.TIME_ZONE,
        "now": now, "unpaid_before": now - timedelta(days=payout_days(marketplace)), "tolerance": tolerance(),
        "delivered": OrderStatus.DELIVERED.value, "returned": OrderStatus.RETURNED.value,
        "cancelled": OrderStatus.CANCELLED.value,
        "cancellation": Return.Kind.CANCELLATION.value, "account_level": ACCOUNT_LEVEL_KINDS,
    }
    number = next(_numbers)
    orders, loose = f"_reconcile_orders_{number}", f"_reconcile_loose_{number}"
    result = RefreshResult(account_id, since)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_RECONCILIATION, account_id])
        # One pass over a few hundred thousand rows: hashed in memory, without parallel workers.
        cursor.execute("SELECT set_config('work_mem', '128MB', true), "
                       "set_config('max_parallel_workers_per_gather', '0', true)")
        for table in ("analytics_discrepancy", "analytics_reconciliationdaily", "analytics_discrepancydaily"):
            cursor.execute(f"DELETE FROM {table} WHERE account_id = %s AND day >= %s",  # noqa: S608
                           [account_id, since])
        cursor.execute(_ORDERS.format(table=orders), params)
        cursor.execute(_LOOSE.format(table=loose), params)
        cursor.execute(f"ANALYZE {orders}, {loose}")
        for kind, sql in _ORDER_KINDS.items():
            cursor.execute(_INSERT + sql.format(orders=orders, loose=loose), {**params, "kind": kind.value})
            result.discrepancies[kind.value] = cursor.rowcount
        cursor.execute("SELECT EXISTS (SELECT 1 FROM pricing_feerate WHERE account_id = %s AND kind = 'commission')",
                       [account_id])
        kind = Discrepancy.Kind.COMMISSION_HIGH
        result.discrepancies[kind.value] = 0
        if cursor.fetchone()[0]:
            cursor.execute(_INSERT + _COMMISSION.format(orders=orders), {**params, "kind": kind.value})
            result.discrepancies[kind.value] = cursor.rowcount
        cursor.execute(_DAILY.format(orders=orders, loose=loose), params)
        cursor.execute(_KIND_DAILY, params)
        cursor.execute(f"DROP TABLE {orders}, {loose}")
        # The refresh rewrites most of the rows: fresh statistics keep the list's filtered pages on their
        # indexes right away (a few hundred milliseconds; autovacuum would come later).
        cursor.execute("ANALYZE analytics_discrepancy, analytics_discrepancydaily, analytics_reconciliationdaily")
    return result


def _run(run: ReconciliationRun, now: datetime | None = None) -> ReconciliationRun:
    ReconciliationRun.objects.filter(pk=run.pk).update(status=ReconciliationRun.Status.RUNNING,
                                                       started_at=timezone.now())
    try:
        result = refresh_account(run.account_id, since=run.since, now=now)
    except Exception as exc:
        ReconciliationRun.objects.filter(pk=run.pk).update(
            status=ReconciliationRun.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now())
        raise
    ReconciliationRun.objects.filter(pk=run.pk).update(
        status=ReconciliationRun.Status.DONE, discrepancies=result.total, finished_at=timezone.now())
    run.refresh_from_db()
    return run


def run_queued(run_ids: list[int]) -> list[ReconciliationRun]:
    """Carry out the queued runs (the task behind a refresh someone asked for)."""
    runs = ReconciliationRun.objects.filter(pk__in=run_ids, status=ReconciliationRun.Status.QUEUED).order_by("pk")
    return [_run(run) for run in runs]


def refresh_due(now: datetime | None = None) -> list[ReconciliationRun]:
    """The beat's refresh: every account whose finance stream succeeded since its last reconciliation,
    or whose last reconciliation is older than STALE_AFTER (orders age into "no payout" every day)."""
    now = now or timezone.now()
    since = timezone.localtime(now).date() - timedelta(days=window_days())
    last_done = dict(ReconciliationRun.objects.filter(status=ReconciliationRun.Status.DONE)
                     .values("account_id").annotate(at=Max("started_at")).values_list("account_id", "at"))
    last_finance = dict(SyncRun.objects.filter(stream="finance", status=SyncRun.Status.SUCCEEDED)
                        .values("account_id").annotate(at=Max("finished_at")).values_list("account_id", "at"))
    runs = []
    for account_id in MarketplaceAccount.objects.order_by("pk").values_list("pk", flat=True):
        done = last_done.get(account_id)
        finance = last_finance.get(account_id)
        if done is None or done < now - STALE_AFTER or (finance is not None and finance > done):
            run = ReconciliationRun.objects.create(account_id=account_id, since=since)
            try:
                runs.append(_run(run, now))
            except DatabaseError:
                # Marked failed on its row (the page says so); the other accounts still get theirs.
                logger.exception("reconciliation of account %s failed", account_id)
    ReconciliationRun.objects.filter(created_at__lt=now - KEEP_RUNS).delete()
    return runs


def request_refresh(*, user: Any, account_ids: list[int] | None = None) -> list[ReconciliationRun]:
    """A refresh asked for from the page: queued runs (one per account), an audit row, and the task
    sent once they are committed."""
    since = timezone.localdate() - timedelta(days=window_days())
    accounts = MarketplaceAccount.objects.order_by("pk")
    if account_ids is not None:
        accounts = accounts.filter(pk__in=account_ids)
    with transaction.atomic():
        busy = set(ReconciliationRun.objects.filter(
            status__in=[ReconciliationRun.Status.QUEUED, ReconciliationRun.Status.RUNNING],
            created_at__gte=timezone.now() - timedelta(hours=1),
        ).values_list("account_id", flat=True))
        runs = [ReconciliationRun.objects.create(account_id=pk, since=since, requested_by=user)
                for pk in accounts.values_list("pk", flat=True) if pk not in busy]
        audit_record(action="reconciliation.refresh", actor=user,
                     details={"accounts": [run.account_id for run in runs], "since": since.isoformat()})
        ids = [run.pk for run in runs]
        if ids:
            transaction.on_commit(lambda: current_app.tasks[RUN_QUEUED_TASK].delay(ids))
    return runs


# ---------------------------------------------------------------------------------------------
# Selectors


def discrepancies() -> QuerySet[Discrepancy]:
    return Discrepancy.objects.select_related("account")


@dataclass
class Summary:
    """One marketplace's figures over the period (or the total of them)."""

    marketplace: str
    label: str = ""
    orders: int = 0
    predicted: Decimal = ZERO
    accrued: Decimal = ZERO
    paid: Decimal = ZERO
    fees: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(FEE_KINDS, ZERO))
    discrepancies: int = 0
    discrepancy_amount: Decimal = ZERO

    @property
    def fees_total(self) -> Decimal:
        """Charged by the marketplace, as a positive amount."""
        return -sum(self.fees.values(), ZERO)

    @property
    def difference(self) -> Decimal:
        """Accrued − predicted: what the reports accrued beyond (or short of) our orders' prices."""
        return self.accrued - self.predicted

    def add(self, other: Summary) -> None:
        for name in ("orders", "predicted", "accrued", "paid", "discrepancies", "discrepancy_amount"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for kind in FEE_KINDS:
            self.fees[kind] += other.fees[kind]


@dataclass
class KindTotal:
    kind: str
    label: str
    count: int = 0
    amount: Decimal = ZERO


@dataclass
class Reconciliation:
    period: Period
    marketplaces: list[Summary]
    total: Summary
    kinds: list[KindTotal]


_SUMMARY_SQL = f"""
    SELECT m.marketplace, 'r' AS part, sum(d.orders), sum(d.predicted), sum(d.accrued), sum(d.paid),
           {", ".join(f"sum(d.{kind})" for kind in FEE_KINDS)}, NULL AS kind
    FROM analytics_reconciliationdaily d JOIN integrations_marketplaceaccount m ON m.id = d.account_id
    WHERE d.account_id = ANY(%(accounts)s) AND d.day BETWEEN %(start)s AND %(end)s AND d.currency = %(currency)s
    GROUP BY m.marketplace
    UNION ALL
    SELECT m.marketplace, 'k', sum(k.count), coalesce(sum(k.amount) FILTER (WHERE k.currency = %(currency)s), 0),
           0, 0, {", ".join("0" for _ in FEE_KINDS)}, k.kind
    FROM analytics_discrepancydaily k JOIN integrations_marketplaceaccount m ON m.id = k.account_id
    WHERE k.account_id = ANY(%(accounts)s) AND k.day BETWEEN %(start)s AND %(end)s
    GROUP BY m.marketplace, k.kind
"""  # noqa: S608 - kinds are the model's constants


def reconciliation(period: Period, accounts: list[int], *, currency: str = RUB) -> Reconciliation:
    """The period's figures per marketplace and the discrepancies per kind: one statement over the
    daily tables. Money in `currency`; the discrepancies are counted in every currency (as the list has them)."""
    labels = dict(Marketplace.choices)
    by_marketplace: dict[str, Summary] = {}
    kinds = {kind.value: KindTotal(kind.value, str(kind.label)) for kind in Discrepancy.Kind}
    with connection.cursor() as cursor:
        cursor.execute(_SUMMARY_SQL, {"accounts": accounts, "start": period.start, "end": period.end,
                                      "currency": currency})
        for marketplace, part, count, first, accrued, paid, *rest in cursor.fetchall():
            *fees, kind = rest
            summary = by_marketplace.setdefault(marketplace, Summary(marketplace, str(labels.get(marketplace,
                                                                                                marketplace))))
            if part == "r":
                summary.orders += int(count)
                summary.predicted += Decimal(first)
                summary.accrued += Decimal(accrued)
                summary.paid += Decimal(paid)
                for name, amount in zip(FEE_KINDS, fees, strict=True):
                    summary.fees[name] += Decimal(amount)
            else:
                summary.discrepancies += int(count)
                summary.discrepancy_amount += Decimal(first)
                if kind in kinds:
                    kinds[kind].count += int(count)
                    kinds[kind].amount += Decimal(first)
    rows = sorted(by_marketplace.values(), key=lambda s: s.marketplace)
    total = Summary("", str(_("Total")))
    for row in rows:
        total.add(row)
    return Reconciliation(period, rows, total, list(kinds.values()))


@dataclass
class RefreshState:
    computed_at: datetime | None  # the oldest of the accounts' latest finished refreshes
    running: bool
    failed: bool


_STATE_SQL = """
    SELECT account_id, max(finished_at) FILTER (WHERE status = %(done)s),
           (array_agg(status ORDER BY created_at DESC, id DESC))[1]
    FROM analytics_reconciliationrun WHERE account_id = ANY(%(accounts)s)
    GROUP BY account_id
"""


def refresh_state(accounts: list[int]) -> RefreshState:
    """When the figures were computed (the oldest of the accounts' latest finished refreshes; None while
    an account has none), and whether a refresh is under way or failed: one query."""
    with connection.cursor() as cursor:
        cursor.execute(_STATE_SQL, {"accounts": accounts, "done": ReconciliationRun.Status.DONE.value})
        rows = cursor.fetchall()
    done = [finished for _account, finished, _status in rows if finished is not None]
    statuses = {status for _account, _finished, status in rows}
    busy = {ReconciliationRun.Status.QUEUED.value, ReconciliationRun.Status.RUNNING.value}
    return RefreshState(
        computed_at=min(done) if done and len(done) == len(set(accounts)) else None,
        running=bool(statuses & busy),
        failed=ReconciliationRun.Status.FAILED.value in statuses,
    )


# ---------------------------------------------------------------------------------------------
# The export: the list to take to the marketplace's support


def export_header() -> list[str]:
    return [str(label) for label in (
        _("Marketplace"), _("Account"), _("Order"), _("Date"), _("Discrepancy"), _("Expected"), _("Actual"),
        _("Difference"), _("Currency"), _("Tariff commission, %"), _("Marketplace operations"),
    )]


def export_rows(queryset: QuerySet[Discrepancy], sort: Sort, *, limit: int) -> Any:
    """The rows of the filtered list in the page's order (up to `limit`), streamed from the database."""
    labels = dict(Discrepancy.Kind.choices)
    marketplaces = dict(Marketplace.choices)
    rows = queryset.select_related(None).order_by(*sort.fields).values_list(
        "account__marketplace", "account__name", "order_external_id", "day", "kind", "expected", "actual",
        "difference", "currency", "rate", "operation_ids",
    )[:limit]
    for marketplace, account, order, day, kind, expected, actual, difference, currency, rate, ids in (
        rows.iterator(chunk_size=2000)
    ):
        yield [str(marketplaces.get(marketplace, marketplace)), account, order, day, str(labels.get(kind, kind)),
               expected, actual, difference, currency, rate.quantize(Decimal("0.01")) if rate is not None else None,
               list(ids)]
