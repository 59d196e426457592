"""Bulk ingest of pulled prices, promotions and promotion offers (called inside the page's transaction)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from catalog.models import Listing
from core.bulk import Upsert, UpsertCounts, dedupe_last, upsert
from integrations.base import FeeRateDTO, PriceDTO, PromotionDTO, PromotionOfferDTO
from pricing.models import FeeRate

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


# ---------------------------------------------------------------------------------------------
# Fee rates: kept with effective dates, a new set only when the marketplace's rates changed

_RATE_FIELDS = ("name", "percent", "fixed", "per_extra_litre", "price_from", "price_to", "minimum", "maximum",
                "per_day", "currency")


def _rate_values(obj: object) -> tuple[object, ...]:
    values = []
    for name in _RATE_FIELDS:
        value = getattr(obj, name)
        values.append(value.normalize() if isinstance(value, Decimal) else value)
    return tuple(values)


def ingest_fee_rates(account_id: int, rates: Sequence[FeeRateDTO], today: date | None = None) -> UpsertCounts:
    """Store each scope's (card / category / account × scheme × kind) set of rates from `today` on
    when it differs from the set in effect; a second read the same day replaces that day's set.
    Rates of cards not synced yet are skipped (counted)."""
    today = today or timezone.localdate()
    external_ids = {r.listing_external_id for r in rates if r.listing_external_id}
    listing_ids = dict(
        Listing.objects.filter(account_id=account_id, external_id__in=external_ids).values_list("external_id", "pk")
    )
    scopes: dict[tuple[int | None, str, str, str], list[FeeRateDTO]] = defaultdict(list)
    skipped = 0
    for rate in rates:
        listing_id = listing_ids.get(rate.listing_external_id) if rate.listing_external_id else None
        if rate.listing_external_id and listing_id is None:
            skipped += 1
            continue
        scopes[(listing_id, "" if listing_id else rate.category[:300], rate.scheme[:16], rate.kind[:16])].append(rate)
    if not scopes:
        return UpsertCounts(skipped=skipped)
    existing = FeeRate.objects.filter(account_id=account_id, effective_from__lte=today).filter(
        Q(listing_id__in=[k[0] for k in scopes if k[0]]) | Q(listing__isnull=True, category__in={k[1] for k in scopes})
    )
    current: dict[tuple[int | None, str, str, str], tuple[date, list[FeeRate]]] = {}
    for row in existing.order_by("effective_from"):
        key = (row.listing_id, row.category, row.scheme, row.kind)
        if key in scopes:
            if key not in current or current[key][0] < row.effective_from:
                current[key] = (row.effective_from, [])
            current[key][1].append(row)
    created = updated = unchanged = 0
    new_rows: list[FeeRate] = []
    replace_today: list[tuple[int | None, str, str, str]] = []
    for key, items in scopes.items():
        wanted = sorted(_rate_values(r) for r in items)
        in_effect = current.get(key)
        if in_effect and sorted(_rate_values(r) for r in in_effect[1]) == wanted:
            unchanged += len(items)
            continue
        if in_effect and in_effect[0] == today:
            replace_today.append(key)
            updated += len(items)
        else:
            created += len(items)
        listing_id, category, scheme, kind = key
        seen: set[tuple[str, object]] = set()
        for r in items:
            if (r.name, r.price_from) in seen:  # one row per name and bracket (the unique key)
                continue
            seen.add((r.name, r.price_from))
            new_rows.append(FeeRate(
                account_id=account_id, listing_id=listing_id, category=category, scheme=scheme, kind=kind,
                name=r.name[:200], percent=r.percent, fixed=r.fixed, per_extra_litre=r.per_extra_litre,
                price_from=r.price_from, price_to=r.price_to, minimum=r.minimum, maximum=r.maximum,
                per_day=r.per_day, currency=r.currency, effective_from=today, source="api",
            ))
    for listing_id, category, scheme, kind in replace_today:
        scope = Q(listing_id=listing_id) if listing_id else Q(listing__isnull=True)
        FeeRate.objects.filter(scope, account_id=account_id, category=category, scheme=scheme, kind=kind,
                               effective_from=today).delete()
    FeeRate.objects.bulk_create(new_rows)
    return UpsertCounts(created=created, updated=updated, unchanged=unchanged, skipped=skipped)
