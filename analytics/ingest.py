"""Bulk ingest of pulled finance operations and their fee lines (called inside the page's transaction)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from django.db import connection

from analytics.finance_rollup import finance_delta
from core.bulk import Upsert, UpsertCounts, upsert
from integrations.base import FinanceOperationDTO

_OPERATION_FIELDS = [
    "operation_type", "operation_at", "order_external_id", "offer_id", "quantity", "sale_amount", "amount", "currency",
]
_OPERATION = Upsert(
    table="analytics_financeoperation",
    stage=list(
        zip(
            ["account_id", "external_id", *_OPERATION_FIELDS],
            ["bigint", "text", "text", "timestamptz", "text", "text", "integer", "numeric(14,2)", "numeric(14,2)",
             "text"],
            strict=True,
        )
    ),
    insert=["account_id", "external_id", *_OPERATION_FIELDS, "order_id"],
    # The order by its external id, or (WB, every scheme) by the srid the report names it by.
    source="""
        SELECT s.*, o.id AS order_id
        FROM {stage} s
        LEFT JOIN LATERAL (
            (SELECT o.id FROM orders_order o
             WHERE o.account_id = s.account_id AND o.external_id = s.order_external_id AND s.order_external_id <> '')
            UNION ALL
            (SELECT o.id FROM orders_order o
             WHERE o.account_id = s.account_id AND o.srid = s.order_external_id AND o.srid <> '')
            LIMIT 1
        ) o ON true
    """,
    conflict=["account_id", "external_id"],
    compare=[*_OPERATION_FIELDS, "order_id"],
    on_insert=["created_at", "updated_at"],
    on_update=["updated_at"],
)

_FEE = Upsert(
    table="analytics_feeline",
    stage=[("operation_external_id", "text"), ("kind", "text"), ("name", "text"), ("amount", "numeric(14,2)")],
    insert=["operation_id", "kind", "name", "amount"],
    source="""
        SELECT o.id AS operation_id, s.kind, s.name, s.amount
        FROM {stage} s
        JOIN LATERAL (
            SELECT o.id FROM analytics_financeoperation o
            WHERE o.account_id = %(account)s AND o.external_id = s.operation_external_id LIMIT 1
        ) o ON true
    """,
    conflict=["operation_id", "kind", "name"],
    compare=["amount"],
)


@dataclass
class FinanceIngestResult:
    operations: UpsertCounts
    fees: UpsertCounts


def ingest_finance(account_id: int, operations: Sequence[FinanceOperationDTO]) -> FinanceIngestResult:
    by_id = {op.external_id: op for op in operations}
    rows = [
        (account_id, op.external_id, op.operation_type[:200], op.operation_at, op.order_external_id[:100],
         op.offer_id[:255], op.quantity, op.sale_amount, op.amount, op.currency)
        for op in by_id.values()
    ]
    # The daily finance roll-up moves with the rows, in this transaction (analytics.finance_rollup).
    rollup = finance_delta(account_id, list(by_id))
    op_counts, _ = upsert(_OPERATION, rows)
    # Several fees of one kind and name in one operation are one line: their sum.
    fee_sums: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for op in by_id.values():
        for fee in op.fees:
            fee_sums[(op.external_id, fee.kind, fee.name[:200])] += fee.amount
    fee_rows = [(*key, amount) for key, amount in fee_sums.items()]
    fee_counts, _ = upsert(replace(_FEE, params={"account": account_id}), fee_rows)
    rollup.apply()
    return FinanceIngestResult(op_counts, fee_counts)


def link_waiting_finance(account_id: int, order_ids: dict[str, int]) -> int:
    """Finance operations stored before their order (the finance stream ran first) get it when the
    order is stored: `order_ids` maps each key a report may name the order by (external id, WB
    srid) to its id. Returns how many were linked."""
    if not order_ids:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE analytics_financeoperation f SET order_id = o.id, updated_at = statement_timestamp()
            FROM unnest(%s::text[], %s::bigint[]) AS o(order_key, id)
            WHERE f.account_id = %s AND f.order_id IS NULL AND f.order_external_id = o.order_key
            """,
            [list(order_ids), list(order_ids.values()), account_id],
        )
        return int(cursor.rowcount)
