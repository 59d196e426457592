"""Bulk ingest of pulled orders (with lines and status history) and returns.

Statuses pass through orders.status: a stale record (older change time than stored, or a move the
machine forbids) leaves the stored order untouched; every accepted status change is recorded as
an OrderStatusChange with its source. Called inside the page's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from django.db import connection

from analytics import rollup
from catalog.ingest import ensure_warehouses
from core.bulk import Upsert, UpsertCounts, copy_insert, dedupe_last, upsert
from integrations.base import OpenOrderRef, OrderDTO, ReturnDTO, SaleDTO
from orders import status as status_machine
from orders.models import Order, OrderStatusChange

_ORDER_STAGE = [
    ("external_id", "text"), ("order_number", "text"), ("scheme", "text"), ("status", "text"),
    ("raw_status", "text"), ("raw_substatus", "text"), ("ordered_at", "timestamptz"),
    ("status_changed_at", "timestamptz"), ("shipment_due_at", "timestamptz"), ("warehouse_external_id", "text"),
    ("buyer_city", "text"), ("tracking_number", "text"), ("total_amount", "numeric(14,2)"), ("currency", "text"),
    ("external_updated_at", "timestamptz"), ("srid", "text"), ("buyer_total", "numeric(14,2)"),
    ("seller_total", "numeric(14,2)"),
]
_ORDER_COMPARE = [
    "order_number", "scheme", "status", "raw_status", "raw_substatus", "ordered_at", "status_changed_at",
    "shipment_due_at", "warehouse_id", "buyer_city", "tracking_number", "total_amount", "currency",
    "external_updated_at", "srid", "buyer_total", "seller_total",
]
# srid and the two totals are not in every read of an order (WB's salePrice only while a task is
# new), so a read without them keeps the stored values.
_ORDER = Upsert(
    table="orders_order",
    stage=_ORDER_STAGE,
    insert=["account_id", "external_id", *_ORDER_COMPARE],
    source="""
        SELECT %(account)s::bigint AS account_id, s.external_id, s.order_number, s.scheme, s.status, s.raw_status,
               s.raw_substatus, s.ordered_at, s.status_changed_at, s.shipment_due_at, w.id AS warehouse_id,
               s.buyer_city, s.tracking_number, s.total_amount, s.currency, s.external_updated_at,
               coalesce(nullif(s.srid, ''), cur.srid, '') AS srid,
               coalesce(s.buyer_total, cur.buyer_total) AS buyer_total,
               coalesce(s.seller_total, cur.seller_total) AS seller_total
        FROM {stage} s
        LEFT JOIN catalog_warehouse w ON w.account_id = %(account)s AND w.external_id = s.warehouse_external_id
        LEFT JOIN LATERAL (
            SELECT o.srid, o.buyer_total, o.seller_total FROM orders_order o
            WHERE o.account_id = %(account)s AND o.external_id = s.external_id
        ) cur ON true
    """,
    conflict=["account_id", "external_id"],
    compare=_ORDER_COMPARE,
    on_insert=["created_at", "updated_at"],
    on_update=["updated_at"],
)

_LINE = Upsert(
    table="orders_orderline",
    stage=[
        ("order_external_id", "text"), ("line_key", "text"), ("offer_id", "text"), ("name", "text"),
        ("quantity", "integer"), ("price", "numeric(14,2)"), ("currency", "text"), ("commission", "numeric(14,2)"),
        ("buyer_price", "numeric(14,2)"), ("seller_price", "numeric(14,2)"),
    ],
    insert=[
        "order_id", "line_key", "listing_id", "offer_id", "name", "quantity", "price", "currency", "commission",
        "buyer_price", "seller_price",
    ],
    source="""
        SELECT o.id AS order_id, s.line_key, lst.id AS listing_id, s.offer_id, s.name, s.quantity, s.price,
               s.currency, s.commission,
               coalesce(s.buyer_price, cur.buyer_price) AS buyer_price,
               coalesce(s.seller_price, cur.seller_price) AS seller_price
        FROM {stage} s
        JOIN LATERAL (
            SELECT o.id FROM orders_order o
            WHERE o.account_id = %(account)s AND o.external_id = s.order_external_id LIMIT 1
        ) o ON true
        LEFT JOIN LATERAL (
            SELECT l.id FROM catalog_listing l
            WHERE l.account_id = %(account)s AND l.offer_id = s.offer_id ORDER BY l.id LIMIT 1
        ) lst ON true
        LEFT JOIN LATERAL (
            SELECT ol.buyer_price, ol.seller_price FROM orders_orderline ol
            WHERE ol.order_id = o.id AND ol.line_key = s.line_key
        ) cur ON true
    """,
    conflict=["order_id", "line_key"],
    compare=["listing_id", "offer_id", "name", "quantity", "price", "currency", "commission", "buyer_price",
             "seller_price"],
)


@dataclass
class OrderIngestResult:
    orders: UpsertCounts
    lines: UpsertCounts
    status_changes: int
    stale: int
    # Keys other rows name a written order by (external id, and srid where it has one) -> order id.
    written: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Stored:
    status: str
    external_updated_at: datetime | None


def _stored_orders(account_id: int, external_ids: list[str]) -> dict[str, _Stored]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT external_id, status, external_updated_at FROM orders_order "
            "WHERE account_id = %s AND external_id = ANY(%s)",
            [account_id, external_ids],
        )
        return {ext: _Stored(status, updated) for ext, status, updated in cursor.fetchall()}


def _is_stale(stored: _Stored, order: OrderDTO) -> bool:
    if stored.external_updated_at and order.updated_at and order.updated_at < stored.external_updated_at:
        return True
    return status_machine.resolve(stored.status, order.status) != _canonical(order.status)


def _canonical(status: str) -> str:
    return status if status in status_machine.ALLOWED else status_machine.S.UNKNOWN


def ingest_orders(
    account_id: int, orders: Sequence[OrderDTO], *, source: str = OrderStatusChange.Source.SYNC
) -> OrderIngestResult:
    by_id = {o.external_id: o for o in orders}  # the last copy of an order in a page wins
    stored = _stored_orders(account_id, list(by_id))
    accepted: list[OrderDTO] = []
    status_only: list[OrderDTO] = []
    changes: list[tuple[str, str, OrderDTO]] = []
    stale = 0
    for order in by_id.values():
        previous = stored.get(order.external_id)
        if order.status_only and previous is None:
            stale += 1  # a status lookup cannot create an order: its details come with the next full read
            continue
        if previous is not None and _is_stale(previous, order):
            stale += 1
            continue
        (status_only if order.status_only else accepted).append(order)
        new_status = _canonical(order.status)
        if previous is None or previous.status != new_status:
            changes.append((order.external_id, previous.status if previous else "", order))

    rows = [
        (
            o.external_id, o.order_number[:100], o.scheme, _canonical(o.status), o.raw_status[:64],
            o.raw_substatus[:64], o.ordered_at, o.status_changed_at, o.shipment_due_at, o.warehouse_external_id,
            o.buyer_city[:200], o.tracking_number[:100], o.total_amount, o.currency, o.updated_at, o.srid[:100],
            o.buyer_total, o.seller_total,
        )
        for o in accepted
    ]
    # Streams run as independent tasks: an order may name a warehouse before the warehouses or
    # stocks stream has stored it (Ozon's FBO pseudo-warehouse comes from stock reports).
    ensure_warehouses(
        account_id,
        ((o.warehouse_external_id, o.warehouse_name, "marketplace" if o.scheme == "FBO" else "seller")
         for o in accepted),
    )
    # The daily sales roll-up moves by what these orders add after the upserts minus before.
    sales = rollup.orders_delta(account_id, [o.external_id for o in (*accepted, *status_only)])
    # A status change always changes the row, so the written rows carry every id needed here.
    order_counts, written = upsert(
        replace(_ORDER, params={"account": account_id}), rows, returning=["external_id", "srid"]
    )
    order_counts.unchanged += stale
    order_ids = {ext: pk for pk, ext, _ in written}
    status_counts, status_written = _update_statuses(account_id, status_only)
    order_counts.updated += status_counts.updated
    order_counts.unchanged += status_counts.unchanged
    order_ids.update(status_written)
    # Returns and finance rows name WB orders by srid, whatever the scheme's own key.
    link_keys = {**order_ids, **{srid: pk for pk, _, srid in written if srid}}
    _link_waiting_returns(account_id, link_keys)

    now = datetime.now(UTC)
    copy_insert(
        "orders_orderstatuschange",
        ["order_id", "from_status", "to_status", "raw_status", "changed_at", "source", "recorded_at"],
        (
            (
                order_ids[ext], from_status, _canonical(o.status), o.raw_status[:64],
                o.status_changed_at or o.updated_at or (o.ordered_at if not from_status else now), source, now,
            )
            for ext, from_status, o in changes
            if ext in order_ids
        ),
    )

    line_rows = dedupe_last(
        (
            (o.external_id, line.line_key[:100], line.offer_id[:255], line.name[:1000], line.quantity, line.price,
             line.currency, line.commission, line.buyer_price, line.seller_price)
            for o in accepted
            for line in o.lines
        ),
        key=lambda r: (r[0], r[1]),
    )
    line_counts, _ = upsert(replace(_LINE, params={"account": account_id}), line_rows)
    sales.apply(changed=bool(order_counts.written or line_counts.written))
    return OrderIngestResult(order_counts, line_counts, len(changes), stale, link_keys)


def _update_statuses(account_id: int, orders: Sequence[OrderDTO]) -> tuple[UpsertCounts, dict[str, int]]:
    """Status lookups (OrderDTO.status_only) of stored orders: only the status fields change."""
    if not orders:
        return UpsertCounts(), {}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE orders_order o
            SET status = u.status, raw_status = u.raw_status, raw_substatus = u.raw_substatus,
                status_changed_at = coalesce(u.status_changed_at, o.status_changed_at),
                external_updated_at = coalesce(u.external_updated_at, o.external_updated_at),
                updated_at = statement_timestamp()
            FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::timestamptz[], %s::timestamptz[])
                 AS u(external_id, status, raw_status, raw_substatus, status_changed_at, external_updated_at)
            WHERE o.account_id = %s AND o.external_id = u.external_id
              AND (o.status, o.raw_status, o.raw_substatus) IS DISTINCT FROM (u.status, u.raw_status, u.raw_substatus)
            RETURNING o.id, o.external_id
            """,
            [
                [o.external_id for o in orders], [_canonical(o.status) for o in orders],
                [o.raw_status[:64] for o in orders], [o.raw_substatus[:64] for o in orders],
                [o.status_changed_at for o in orders], [o.updated_at for o in orders], account_id,
            ],
        )
        written = {ext: pk for pk, ext in cursor.fetchall()}
    return UpsertCounts(updated=len(written), unchanged=len(orders) - len(written)), written


def _link_waiting_returns(account_id: int, order_ids: dict[str, int]) -> None:
    """Returns stored before their order (the returns stream ran first, or the order is older than
    the orders window) get the order now: a return is re-read only within its stream's overlap."""
    if not order_ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE orders_return r SET order_id = o.id, updated_at = statement_timestamp()
            FROM unnest(%s::text[], %s::bigint[]) AS o(external_id, id)
            WHERE r.account_id = %s AND r.order_id IS NULL AND r.order_external_id = o.external_id
            """,
            [list(order_ids), list(order_ids.values()), account_id],
        )


# The listing an order line or return links to: the account's first with that seller article, as
# the ingest's LATERAL lookups choose it.
_LISTINGS_BY_OFFER = """
    SELECT DISTINCT ON (offer_id) offer_id, id FROM catalog_listing
    WHERE account_id = %(account)s AND offer_id = ANY(%(offers)s) ORDER BY offer_id, id
"""


def link_waiting_to_listings(account_id: int, offer_ids: Sequence[str]) -> None:
    """Order lines and returns stored before their listing (the orders stream ran first) get it
    when the listings stream stores it: they are re-read only when the order or return changes.
    Partial indexes hold only the rows still waiting, so a resync costs a few index probes."""
    if not offer_ids:
        return
    params: dict[str, Any] = {"account": account_id, "offers": sorted(set(offer_ids))}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE orders_orderline ol SET listing_id = l.id
            FROM ({_LISTINGS_BY_OFFER}) l, orders_order o
            WHERE ol.listing_id IS NULL AND ol.offer_id = l.offer_id
              AND o.id = ol.order_id AND o.account_id = %(account)s
            """,  # noqa: S608 - a constant subquery; values are parameters
            params,
        )
        cursor.execute(
            f"""
            UPDATE orders_return r SET listing_id = l.id, updated_at = statement_timestamp()
            FROM ({_LISTINGS_BY_OFFER}) l
            WHERE r.account_id = %(account)s AND r.listing_id IS NULL AND r.offer_id = l.offer_id
            """,  # noqa: S608
            params,
        )
    rollup.link_listings(account_id, params["offers"])


_RETURN = Upsert(
    table="orders_return",
    stage=[
        ("external_id", "text"), ("kind", "text"), ("returned_at", "timestamptz"), ("order_external_id", "text"),
        ("offer_id", "text"), ("quantity", "integer"), ("reason", "text"), ("raw_status", "text"),
        ("amount", "numeric(14,2)"), ("currency", "text"), ("external_updated_at", "timestamptz"),
    ],
    insert=[
        "account_id", "external_id", "order_id", "order_external_id", "listing_id", "offer_id", "kind", "quantity",
        "reason", "raw_status", "amount", "currency", "returned_at", "external_updated_at",
    ],
    source="""
        SELECT %(account)s::bigint AS account_id, s.external_id, o.id AS order_id, s.order_external_id,
               lst.id AS listing_id, s.offer_id, s.kind, s.quantity, s.reason, s.raw_status, s.amount, s.currency,
               s.returned_at, s.external_updated_at
        FROM {stage} s
        LEFT JOIN LATERAL (
            (SELECT o.id FROM orders_order o
             WHERE o.account_id = %(account)s AND o.external_id = s.order_external_id)
            UNION ALL
            (SELECT o.id FROM orders_order o  -- WB: returns name the srid, FBS/DBS orders their task id
             WHERE o.account_id = %(account)s AND o.srid = s.order_external_id AND o.srid <> '')
            LIMIT 1
        ) o ON true
        LEFT JOIN LATERAL (
            SELECT l.id FROM catalog_listing l
            WHERE l.account_id = %(account)s AND l.offer_id = s.offer_id ORDER BY l.id LIMIT 1
        ) lst ON true
    """,
    conflict=["account_id", "external_id"],
    compare=[
        "order_id", "order_external_id", "listing_id", "offer_id", "kind", "quantity", "reason", "raw_status",
        "amount", "currency", "returned_at", "external_updated_at",
    ],
    on_insert=["created_at", "updated_at"],
    on_update=["updated_at"],
)


def ingest_returns(account_id: int, returns: Sequence[ReturnDTO]) -> UpsertCounts:
    rows = dedupe_last(
        (
            (r.external_id, r.kind, r.returned_at, r.order_external_id[:100], r.offer_id[:255], r.quantity, r.reason,
             r.raw_status[:64], r.amount, r.currency, r.updated_at)
            for r in returns
        ),
        key=lambda r: r[0],
    )
    sales = rollup.returns_delta(account_id, [row[0] for row in rows])
    counts, _ = upsert(replace(_RETURN, params={"account": account_id}), rows)
    sales.apply(changed=bool(counts.written))
    return counts


# Statuses after which a marketplace no longer changes an order (a delivered order's return arrives
# through the returns stream).
FINAL_STATUSES = (*status_machine.TERMINAL, status_machine.S.DELIVERED)


def open_orders(account_id: int) -> list[OpenOrderRef]:
    """The account's orders not in a final status, oldest first, for the adapter to follow to the end."""
    rows = (
        Order.objects.filter(account_id=account_id)
        .exclude(status__in=FINAL_STATUSES)
        .order_by("ordered_at", "external_id")
        .values_list("external_id", "scheme", "ordered_at", "raw_status")
    )
    return [OpenOrderRef(*row) for row in rows.iterator(chunk_size=5000)]


@dataclass
class SalesIngestResult:
    orders: UpsertCounts  # orders moved to delivered / returned (updated) or already there (unchanged)
    returns: UpsertCounts
    status_changes: int
    unmatched: int  # rows whose order is not stored (yet): their return is kept and links on its arrival


def ingest_sales(account_id: int, sales: Sequence[SaleDTO]) -> SalesIngestResult:
    """Sales-report rows: a sale moves its order (found by srid, whatever its scheme) to delivered,
    a return to returned and is stored as a Return. Status moves pass the status machine, so a late
    sale row never undoes a return; the order's own change time is left to its order reads."""
    rows = sorted(sales, key=lambda r: (r.updated_at or r.sold_at, r.is_return))
    rollup.lock_orders(account_id)  # before the row locks below, in the order ingest_orders takes them
    with connection.cursor() as cursor:
        cursor.execute(
            # Locked, so an order read here is not moved by another page's transaction meanwhile.
            "SELECT srid, id, status, external_id FROM orders_order "
            "WHERE account_id = %s AND srid <> '' AND srid = ANY(%s) ORDER BY id FOR UPDATE",
            [account_id, sorted({r.order_srid for r in rows if r.order_srid})],
        )
        fetched = cursor.fetchall()
    found = {srid: [pk, current] for srid, pk, current, _ in fetched}
    external_id_of = {pk: ext for _, pk, _, ext in fetched}
    moves: dict[int, tuple[str, SaleDTO]] = {}  # order id -> (its new status, the row that moved it there)
    changes: list[tuple[int, str, str, SaleDTO]] = []  # every move, in order: (order id, from, to, row)
    unmatched = unchanged = 0
    for sale in rows:
        order = found.get(sale.order_srid)
        if order is None:
            unmatched += 1
            continue
        pk, current = order
        target = status_machine.S.RETURNED if sale.is_return else status_machine.S.DELIVERED
        if status_machine.resolve(current, target) != target or current == target:
            unchanged += 1
            continue
        moves[pk] = (target, sale)
        changes.append((pk, current, target, sale))
        order[1] = target
    now = datetime.now(UTC)
    if moves:
        # The daily sales roll-up follows the status moves, as it follows the order reads'.
        rolled = rollup.orders_delta(account_id, [external_id_of[pk] for pk in moves])
        with connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE orders_order o SET status = u.status, status_changed_at = u.changed_at,
                       updated_at = statement_timestamp()
                FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[]) AS u(id, status, changed_at)
                WHERE o.id = u.id
                """,
                [list(moves), [to for to, _ in moves.values()], [s.sold_at for _, s in moves.values()]],
            )
        copy_insert(
            "orders_orderstatuschange",
            ["order_id", "from_status", "to_status", "raw_status", "changed_at", "source", "recorded_at"],
            (
                (pk, from_status, to, sale.external_id[:64], sale.sold_at, OrderStatusChange.Source.SYNC, now)
                for pk, from_status, to, sale in changes
            ),
        )
        rolled.apply()
    returns = [
        ReturnDTO(
            external_id=sale.external_id,
            kind="return",
            returned_at=sale.sold_at,
            order_external_id=sale.order_srid,
            offer_id=sale.offer_id,
            quantity=sale.quantity,
            raw_status="returned",
            amount=sale.buyer_price,
            currency=sale.currency,
            updated_at=sale.updated_at,
        )
        for sale in rows
        if sale.is_return
    ]
    return SalesIngestResult(
        UpsertCounts(updated=len(moves), unchanged=unchanged, skipped=unmatched),
        ingest_returns(account_id, returns),
        len(changes),
        unmatched,
    )
