"""Bulk ingest of pulled orders (with lines and status history) and returns.

Statuses pass through orders.status: a stale record (older change time than stored, or a move the
machine forbids) leaves the stored order untouched; every accepted status change is recorded as
an OrderStatusChange with its source. Called inside the page's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from django.db import connection

from analytics import rollup
from catalog.ingest import ensure_warehouses
from core.bulk import Upsert, UpsertCounts, copy_insert, dedupe_last, upsert
from integrations.base import OpenOrderRef, OrderDTO, ReturnDTO
from orders import status as status_machine
from orders.models import Order, OrderStatusChange

_ORDER_STAGE = [
    ("external_id", "text"), ("order_number", "text"), ("scheme", "text"), ("status", "text"),
    ("raw_status", "text"), ("raw_substatus", "text"), ("ordered_at", "timestamptz"),
    ("status_changed_at", "timestamptz"), ("shipment_due_at", "timestamptz"), ("warehouse_external_id", "text"),
    ("buyer_city", "text"), ("tracking_number", "text"), ("total_amount", "numeric(14,2)"), ("currency", "text"),
    ("external_updated_at", "timestamptz"),
]
_ORDER_COMPARE = [
    "order_number", "scheme", "status", "raw_status", "raw_substatus", "ordered_at", "status_changed_at",
    "shipment_due_at", "warehouse_id", "buyer_city", "tracking_number", "total_amount", "currency",
    "external_updated_at",
]
_ORDER = Upsert(
    table="orders_order",
    stage=_ORDER_STAGE,
    insert=["account_id", "external_id", *_ORDER_COMPARE],
    source="""
        SELECT %(account)s::bigint AS account_id, s.external_id, s.order_number, s.scheme, s.status, s.raw_status,
               s.raw_substatus, s.ordered_at, s.status_changed_at, s.shipment_due_at, w.id AS warehouse_id,
               s.buyer_city, s.tracking_number, s.total_amount, s.currency, s.external_updated_at
        FROM {stage} s
        LEFT JOIN catalog_warehouse w ON w.account_id = %(account)s AND w.external_id = s.warehouse_external_id
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
    ],
    insert=["order_id", "line_key", "listing_id", "offer_id", "name", "quantity", "price", "currency", "commission"],
    source="""
        SELECT o.id AS order_id, s.line_key, lst.id AS listing_id, s.offer_id, s.name, s.quantity, s.price,
               s.currency, s.commission
        FROM {stage} s
        JOIN LATERAL (
            SELECT o.id FROM orders_order o
            WHERE o.account_id = %(account)s AND o.external_id = s.order_external_id LIMIT 1
        ) o ON true
        LEFT JOIN LATERAL (
            SELECT l.id FROM catalog_listing l
            WHERE l.account_id = %(account)s AND l.offer_id = s.offer_id ORDER BY l.id LIMIT 1
        ) lst ON true
    """,
    conflict=["order_id", "line_key"],
    compare=["listing_id", "offer_id", "name", "quantity", "price", "currency", "commission"],
)


@dataclass
class OrderIngestResult:
    orders: UpsertCounts
    lines: UpsertCounts
    status_changes: int
    stale: int


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
    changes: list[tuple[str, str, OrderDTO]] = []
    stale = 0
    for order in by_id.values():
        previous = stored.get(order.external_id)
        if previous is not None and _is_stale(previous, order):
            stale += 1
            continue
        accepted.append(order)
        new_status = _canonical(order.status)
        if previous is None or previous.status != new_status:
            changes.append((order.external_id, previous.status if previous else "", order))

    rows = [
        (
            o.external_id, o.order_number[:100], o.scheme, _canonical(o.status), o.raw_status[:64],
            o.raw_substatus[:64], o.ordered_at, o.status_changed_at, o.shipment_due_at, o.warehouse_external_id,
            o.buyer_city[:200], o.tracking_number[:100], o.total_amount, o.currency, o.updated_at,
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
    sales = rollup.orders_delta(account_id, [o.external_id for o in accepted])
    # A status change always changes the row, so the written rows carry every id needed here.
    order_counts, written = upsert(replace(_ORDER, params={"account": account_id}), rows, returning=["external_id"])
    order_counts.unchanged += stale
    order_ids = {ext: pk for pk, ext in written}
    _link_waiting_returns(account_id, order_ids)

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
             line.currency, line.commission)
            for o in accepted
            for line in o.lines
        ),
        key=lambda r: (r[0], r[1]),
    )
    line_counts, _ = upsert(replace(_LINE, params={"account": account_id}), line_rows)
    sales.apply(changed=bool(order_counts.written or line_counts.written))
    return OrderIngestResult(order_counts, line_counts, len(changes), stale)


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
            SELECT o.id FROM orders_order o
            WHERE o.account_id = %(account)s AND o.external_id = s.order_external_id LIMIT 1
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
