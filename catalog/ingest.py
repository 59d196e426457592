"""Bulk ingest of pulled catalogue data: warehouses, listings (linked to master products), stocks.

Called by integrations.sync with one page of adapter DTOs at a time, inside the page's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from typing import Any

from django.db import connection

from core.bulk import Upsert, UpsertCounts, dedupe_last, upsert
from integrations.base import ListingDTO, StockDTO, WarehouseDTO

_WAREHOUSE = Upsert(
    table="catalog_warehouse",
    stage=[
        ("account_id", "bigint"),
        ("external_id", "text"),
        ("name", "text"),
        ("kind", "text"),
        ("is_active", "boolean"),
        ("raw_status", "text"),
    ],
    insert=["account_id", "external_id", "name", "kind", "is_active", "raw_status"],
    conflict=["account_id", "external_id"],
    compare=["name", "kind", "is_active", "raw_status"],
    on_insert=["created_at", "updated_at"],
    on_update=["updated_at"],
)


def ingest_warehouses(account_id: int, warehouses: Sequence[WarehouseDTO]) -> UpsertCounts:
    rows = dedupe_last(
        ((account_id, w.external_id, w.name[:300], w.kind, w.is_active, w.raw_status[:64]) for w in warehouses),
        key=lambda r: r[1],
    )
    counts, _ = upsert(_WAREHOUSE, rows)
    return counts


_LISTING_COLUMNS = [
    "account_id", "external_id", "offer_id", "marketplace_sku", "title", "description", "brand", "category",
    "category_id", "barcodes", "attributes", "images", "variants", "status", "marketplace_errors", "archived",
    "external_updated_at", "link_source",
]
_LISTING = Upsert(
    table="catalog_listing",
    stage=list(
        zip(
            _LISTING_COLUMNS,
            ["bigint", "text", "text", "text", "text", "text", "text", "text", "text", "varchar(64)[]", "jsonb",
             "jsonb", "jsonb", "text", "jsonb", "boolean", "timestamptz", "text"],
            strict=True,
        )
    ),
    insert=_LISTING_COLUMNS,
    conflict=["account_id", "external_id"],
    # link_source is only set on insert (not linked yet); linking below owns it afterwards.
    compare=_LISTING_COLUMNS[2:-1],
    on_insert=["created_at", "updated_at"],
    on_update=["updated_at"],
)


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _listing_row(account_id: int, item: ListingDTO) -> tuple[object, ...]:
    return (
        account_id, item.external_id, item.offer_id[:255], item.marketplace_sku[:100], item.title[:1000],
        item.description, item.brand[:200], item.category[:300], item.category_id[:100],
        [b[:64] for b in item.barcodes],
        _json(item.attributes), _json(item.images), _json(item.variants), item.status[:64], _json(item.errors),
        item.archived, item.updated_at, "",
    )


def ingest_listings(account_id: int, listings: Sequence[ListingDTO]) -> UpsertCounts:
    rows = dedupe_last((_listing_row(account_id, item) for item in listings), key=lambda r: r[1])
    counts, _ = upsert(_LISTING, rows)
    external_ids = [str(r[1]) for r in rows]
    link_listings_to_products(account_id, external_ids)
    with connection.cursor() as cursor:  # listed again: no longer missing (the partial index holds only those)
        cursor.execute(
            "UPDATE catalog_listing SET missing_since = NULL, updated_at = statement_timestamp() "
            "WHERE account_id = %s AND missing_since IS NOT NULL AND external_id = ANY(%s)",
            [account_id, external_ids],
        )
    return counts


def mark_missing_listings(account_id: int, seen: Collection[str]) -> int:
    """After a complete catalogue pass: flag the account's listings the pass did not list (the
    card was deleted on the marketplace), once; returns how many were newly flagged. A pass that
    listed nothing flags nothing: an empty catalogue is likelier a marketplace fault than the
    seller deleting every card."""
    if not seen:
        return 0
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE _seen_listing (external_id text) ON COMMIT DROP")
        with cursor.cursor.copy("COPY _seen_listing (external_id) FROM STDIN") as copy:
            for external_id in seen:
                copy.write_row((external_id,))
        cursor.execute("ANALYZE _seen_listing")  # a hash anti-join, not a nested loop over 100k ids
        cursor.execute(
            """
            UPDATE catalog_listing l SET missing_since = statement_timestamp(), updated_at = statement_timestamp()
            WHERE l.account_id = %s AND l.missing_since IS NULL
              AND NOT EXISTS (SELECT 1 FROM _seen_listing s WHERE s.external_id = l.external_id)
            """,
            [account_id],
        )
        flagged: int = cursor.rowcount
        cursor.execute("DROP TABLE _seen_listing")
    return flagged


_LINK_BY_ARTICLE = """
    UPDATE catalog_listing l SET product_id = p.id, link_source = 'article', updated_at = statement_timestamp()
    FROM catalog_product p
    WHERE l.account_id = %(account)s AND l.external_id = ANY(%(ids)s)
      AND l.link_source <> 'manual' AND p.article = l.offer_id
      AND (l.product_id IS DISTINCT FROM p.id OR l.link_source <> 'article')
"""


def link_listings_to_products(account_id: int, external_ids: Sequence[str]) -> None:
    """Link by seller article, else by barcode; create a master Product when neither matches.

    A manual link always wins: rows with link_source='manual' are never touched. Each statement
    changes only rows whose link really changes, so a resync rewrites nothing, and the barcode
    lookup runs only for listings the article did not link (none, once the catalogue is synced).
    """
    if not external_ids:
        return
    params: dict[str, Any] = {"account": account_id, "ids": list(external_ids)}
    with connection.cursor() as cursor:
        cursor.execute(_LINK_BY_ARTICLE, params)
        cursor.execute(
            """
            SELECT l.id, l.offer_id, l.barcodes, l.product_id FROM catalog_listing l
            WHERE l.account_id = %(account)s AND l.external_id = ANY(%(ids)s)
              AND l.link_source IN ('', 'barcode')
            """,
            params,
        )
        unlinked = cursor.fetchall()
        if not unlinked:
            return
        # One lookup for the page: products sharing any barcode (the oldest product wins).
        codes = sorted({code for _, _, barcodes, _ in unlinked for code in barcodes})
        owner: dict[str, int] = {}
        if codes:
            cursor.execute(
                "SELECT id, barcodes FROM catalog_product WHERE barcodes && %s::varchar(64)[] ORDER BY id DESC",
                [codes],
            )
            for product_id, barcodes in cursor.fetchall():
                owner.update(dict.fromkeys(barcodes, product_id))
        by_barcode: list[tuple[int, int]] = []
        new_articles: list[str] = []
        for listing_id, offer_id, barcodes, current in unlinked:
            product_id = next((owner[c] for c in barcodes if c in owner), None)
            if product_id is not None:
                if product_id != current:
                    by_barcode.append((listing_id, product_id))
            elif offer_id:
                new_articles.append(offer_id)
        if by_barcode:
            cursor.execute(
                """
                UPDATE catalog_listing l SET product_id = m.product_id, link_source = 'barcode',
                                             updated_at = statement_timestamp()
                FROM unnest(%s::bigint[], %s::bigint[]) AS m(listing_id, product_id)
                WHERE l.id = m.listing_id
                """,
                [[a for a, _ in by_barcode], [b for _, b in by_barcode]],
            )
        if new_articles:
            # Master products from the listings nobody has yet; then link them by article.
            cursor.execute(
                """
                INSERT INTO catalog_product
                    (article, name, brand, description, barcodes, currency, images, created_at, updated_at)
                SELECT DISTINCT ON (l.offer_id) l.offer_id, left(l.title, 500), l.brand, l.description, l.barcodes,
                       'RUB', l.images, statement_timestamp(), statement_timestamp()
                FROM catalog_listing l
                WHERE l.account_id = %(account)s AND l.offer_id = ANY(%(articles)s)
                  AND l.external_id = ANY(%(ids)s)
                ORDER BY l.offer_id, l.id
                ON CONFLICT (article) DO NOTHING
                """,
                {**params, "articles": new_articles},
            )
            cursor.execute(_LINK_BY_ARTICLE, params)


def ensure_warehouses(account_id: int, warehouses: Iterable[tuple[str, str, str]]) -> None:
    """Create the (external id, name, kind) warehouses this account does not have yet.

    Stock reports and orders name warehouses the warehouses stream does not list (the
    marketplace's own, FBO) or has not read yet (streams run as independent tasks); creating them
    on first sight lets the rows link at once instead of on a later re-read. An existing warehouse
    is never renamed here, except one created under its bare id, which takes the first real name.
    Neither statement locks rows it does not change, so streams of one account never queue here.
    """
    rows = dedupe_last(
        ((external_id, (name or external_id)[:300], kind) for external_id, name, kind in warehouses if external_id),
        key=lambda r: r[0],
    )
    if not rows:
        return
    columns = [[r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO catalog_warehouse (account_id, external_id, name, kind, is_active, raw_status,
                                           created_at, updated_at)
            SELECT %s, x.external_id, x.name, x.kind, true, '', statement_timestamp(), statement_timestamp()
            FROM unnest(%s::text[], %s::text[], %s::text[]) AS x(external_id, name, kind)
            ON CONFLICT (account_id, external_id) DO NOTHING
            """,
            [account_id, *columns],
        )
        cursor.execute(
            """
            UPDATE catalog_warehouse w SET name = x.name, updated_at = statement_timestamp()
            FROM unnest(%s::text[], %s::text[]) AS x(external_id, name)
            WHERE w.account_id = %s AND w.external_id = x.external_id
              AND w.name = w.external_id AND x.name <> x.external_id
            """,
            [columns[0], columns[1], account_id],
        )


_STOCK = Upsert(
    table="catalog_stocklevel",
    stage=[("listing_external_id", "text"), ("warehouse_external_id", "text"), ("variant_id", "text"),
           ("present", "integer"), ("reserved", "integer")],
    insert=["listing_id", "warehouse_id", "variant_id", "present", "reserved"],
    source="""
        SELECT l.id AS listing_id, w.id AS warehouse_id, s.variant_id, s.present, s.reserved
        FROM {stage} s
        JOIN LATERAL (
            SELECT l.id FROM catalog_listing l
            WHERE l.account_id = %(account)s AND l.external_id = s.listing_external_id LIMIT 1
        ) l ON true
        JOIN catalog_warehouse w ON w.account_id = %(account)s AND w.external_id = s.warehouse_external_id
    """,
    conflict=["listing_id", "warehouse_id", "variant_id"],
    compare=["present", "reserved"],
    on_insert=["updated_at"],
    on_update=["updated_at"],
)


def ingest_stocks(account_id: int, stocks: Sequence[StockDTO]) -> UpsertCounts:
    """Stock rows of listings not synced yet are skipped (counted), and picked up by the next run.
    A row is per listing, warehouse and size ("" where the marketplace has no sizes)."""
    # FBO warehouses appear first in stock reports.
    ensure_warehouses(account_id, ((s.warehouse_external_id, s.warehouse_name, "marketplace") for s in stocks))
    rows = dedupe_last(
        ((s.listing_external_id, s.warehouse_external_id, s.variant_id[:100], s.present, s.reserved) for s in stocks),
        key=lambda r: (r[0], r[1], r[2]),
    )
    counts, _ = upsert(replace(_STOCK, params={"account": account_id}), rows)
    return counts
