"""Bulk ingest of pulled prices, promotions and promotion offers (called inside the page's transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from core.bulk import Upsert, UpsertCounts, dedupe_last, upsert
from integrations.base import PriceDTO, PromotionDTO, PromotionOfferDTO

_PRICE = Upsert(
    table="pricing_price",
    stage=[
        ("listing_external_id", "text"), ("price", "numeric(14,2)"), ("old_price", "numeric(14,2)"),
        ("min_price", "numeric(14,2)"), ("discount_percent", "integer"), ("currency", "text"),
        ("external_updated_at", "timestamptz"),
    ],
    insert=["listing_id", "price", "old_price", "min_price", "discount_percent", "currency", "external_updated_at"],
    source="""
        SELECT l.id AS listing_id, s.price, s.old_price, s.min_price, s.discount_percent, s.currency,
               s.external_updated_at
        FROM {stage} s
        JOIN LATERAL (
            SELECT l.id FROM catalog_listing l
            WHERE l.account_id = %(account)s AND l.external_id = s.listing_external_id LIMIT 1
        ) l ON true
    """,
    conflict=["listing_id"],
    compare=["price", "old_price", "min_price", "discount_percent", "currency", "external_updated_at"],
    on_insert=["updated_at"],
    on_update=["updated_at"],
)


def ingest_prices(account_id: int, prices: Sequence[PriceDTO]) -> UpsertCounts:
    """Prices of listings not synced yet are skipped (counted) until the listings stream has run."""
    rows = dedupe_last(
        (
            (p.listing_external_id, p.price, p.old_price, p.min_price, p.discount_percent, p.currency, p.updated_at)
            for p in prices
        ),
        key=lambda r: r[0],
    )
    counts, _ = upsert(replace(_PRICE, params={"account": account_id}), rows)
    return counts


_PROMOTION = Upsert(
    table="pricing_promotion",
    stage=[
        ("account_id", "bigint"), ("external_id", "text"), ("title", "text"), ("kind", "text"),
        ("starts_at", "timestamptz"), ("ends_at", "timestamptz"), ("is_participating", "boolean"),
        ("description", "text"),
    ],
    insert=["account_id", "external_id", "title", "kind", "starts_at", "ends_at", "is_participating", "description"],
    conflict=["account_id", "external_id"],
    compare=["title", "kind", "starts_at", "ends_at", "is_participating", "description"],
    on_insert=["created_at", "updated_at"],
    on_update=["updated_at"],
)


def ingest_promotions(account_id: int, promotions: Sequence[PromotionDTO]) -> UpsertCounts:
    rows = dedupe_last(
        (
            (account_id, p.external_id, p.title[:500], p.kind[:64], p.starts_at, p.ends_at, p.is_participating,
             p.description)
            for p in promotions
        ),
        key=lambda r: r[1],
    )
    counts, _ = upsert(_PROMOTION, rows)
    return counts


_OFFER = Upsert(
    table="pricing_promotionoffer",
    stage=[
        ("offer_key", "text"), ("status", "text"), ("action_price", "numeric(14,2)"),
        ("max_action_price", "numeric(14,2)"), ("base_price", "numeric(14,2)"), ("currency", "text"),
    ],
    insert=["promotion_id", "offer_key", "listing_id", "status", "action_price", "max_action_price", "base_price",
            "currency"],
    # The offer key is the listing's external id as the marketplace names it in promotions; some
    # platforms use the seller article there, so fall back to offer_id.
    source="""
        SELECT p.id AS promotion_id, s.offer_key,
               coalesce(
                   (SELECT l.id FROM catalog_listing l
                    WHERE l.account_id = %(account)s AND l.external_id = s.offer_key LIMIT 1),
                   (SELECT l.id FROM catalog_listing l
                    WHERE l.account_id = %(account)s AND l.offer_id = s.offer_key ORDER BY l.id LIMIT 1)
               ) AS listing_id,
               s.status, s.action_price, s.max_action_price, s.base_price, s.currency
        FROM {stage} s
        JOIN pricing_promotion p ON p.account_id = %(account)s AND p.external_id = %(promotion)s
    """,
    conflict=["promotion_id", "offer_key"],
    compare=["listing_id", "status", "action_price", "max_action_price", "base_price", "currency"],
    on_insert=["updated_at"],
    on_update=["updated_at"],
)


def ingest_promotion_offers(
    account_id: int, promotion_external_id: str, offers: Sequence[PromotionOfferDTO]
) -> UpsertCounts:
    rows = dedupe_last(
        (
            (o.offer_key[:255], o.status, o.action_price, o.max_action_price, o.base_price, o.currency)
            for o in offers
        ),
        key=lambda r: r[0],
    )
    spec = replace(_OFFER, params={"account": account_id, "promotion": promotion_external_id})
    counts, _ = upsert(spec, rows)
    return counts
