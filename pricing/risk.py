"""Money at risk: one queue of cards losing money now, rebuilt in SQL (pricing.models.MoneyAtRisk).

Reasons, each a set-based INSERT … SELECT over the whole catalogue:
- below_floor: the price read from the marketplace is under the card's break-even floor (CardFloor);
- promo_below_floor: the card takes part in a running promotion at a price under its floor;
- not_applied: our newest price change was sent but the price read back still differs after
  PRICING_READBACK_GRACE_MINUTES, or the marketplace refused it;
- quarantine: Yandex Market holds the price in its price quarantine (listed through its API; the
  card is hidden until the price is confirmed or changed);
- changed_outside: the price read back differs from the last price we sent and saw confirmed, and
  was read after that confirmation: someone changed it in the marketplace's cabinet.

Floors are solved in Python (pricing.economics) and stored per card by refresh_floors, so that SQL
can compare every price with them. The overview reads money_at_risk_count().
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Listing
from core.audit import audit_record
from integrations import registry
from integrations.base import QuarantinedPriceDTO, WriteResult, WriteStatus
from integrations.models import MarketplaceAccount
from notifications import producers
from pricing.floors import inputs_for, solve
from pricing.models import CardFloor, MoneyAtRisk, Promotion, QuarantinedPrice
from pricing.services import PriceChangeError

logger = logging.getLogger(__name__)

FLOOR_BATCH = 500
SALES_DAYS = 30


def readback_grace() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "PRICING_READBACK_GRACE_MINUTES", 60)))


# ---------------------------------------------------------------------------------------------
# Floors


def refresh_floors(listing_ids: Iterable[int] | None = None, *, now: datetime | None = None) -> int:
    """Solve and store the break-even floor of the given cards (default: every card with a price or
    in a promotion), FLOOR_BATCH cards per round of queries. Returns the cards stored."""
    now = now or timezone.now()
    query = Listing.objects.select_related("product").order_by("pk")
    if listing_ids is None:
        ids = set(Listing.objects.filter(price__isnull=False).values_list("pk", flat=True))
        ids |= set(Listing.objects.filter(promotionoffer__isnull=False).values_list("pk", flat=True))
    else:
        ids = set(listing_ids)
    wanted = sorted(ids)
    stored = 0
    for start in range(0, len(wanted), FLOOR_BATCH):
        listings = list(query.filter(pk__in=wanted[start : start + FLOOR_BATCH]))
        rows = []
        for listing_id, (scheme, inputs) in inputs_for(listings).items():
            floor, problem = solve(inputs)
            rows.append(CardFloor(listing_id=listing_id, floor=floor, problem=problem[:300], scheme=scheme,
                                  computed_at=now))
        CardFloor.objects.bulk_create(rows, update_conflicts=True, unique_fields=["listing"],
                                      update_fields=["floor", "problem", "scheme", "computed_at"])
        stored += len(rows)
    return stored


# ---------------------------------------------------------------------------------------------
# The queue

_UNITS = """
    units AS (
        SELECT account_id, offer_id, SUM(units)::int AS units
        FROM analytics_salesdaily WHERE day > %(since)s GROUP BY account_id, offer_id
    )"""

_INSERT = """
    INSERT INTO pricing_moneyatrisk (listing_id, account_id, reason, price, expected, per_unit, units_30d,
                                     at_stake, currency, promotion_id, change_id, quarantine_id, detected_at)
    SELECT r.listing_id, l.account_id, %(reason)s, r.price, r.expected, r.per_unit, coalesce(u.units, 0),
           r.per_unit * greatest(coalesce(u.units, 0), 1), r.currency, r.promotion_id, r.change_id,
           r.quarantine_id, %(now)s
    FROM found r
    JOIN catalog_listing l ON l.id = r.listing_id
    LEFT JOIN units u ON u.account_id = l.account_id AND u.offer_id = l.offer_id
    WHERE r.per_unit > 0
"""

# The newest price change per card (what we last asked the marketplace for).
_LAST_PUSH = """
    last_push AS (
        SELECT DISTINCT ON (listing_id) id, listing_id, status, sent_at, confirmed_at,
               (payload->>'price')::numeric AS pushed
        FROM integrations_outboxchange
        WHERE kind = 'price' AND listing_id IS NOT NULL AND status <> 'superseded'
        ORDER BY listing_id, id DESC
    )"""

REASON_QUERIES: dict[str, str] = {
    MoneyAtRisk.Reason.BELOW_FLOOR: """
        found AS (
            SELECT p.listing_id, p.price, f.floor AS expected, f.floor - p.price AS per_unit, p.currency,
                   NULL::bigint AS promotion_id, NULL::bigint AS change_id, NULL::bigint AS quarantine_id
            FROM pricing_price p JOIN pricing_cardfloor f ON f.listing_id = p.listing_id
            WHERE f.floor IS NOT NULL AND p.price < f.floor
        )""",
    MoneyAtRisk.Reason.PROMO_BELOW_FLOOR: """
        found AS (
            SELECT o.listing_id, o.action_price AS price, f.floor AS expected, f.floor - o.action_price AS per_unit,
                   o.currency, o.promotion_id, NULL::bigint AS change_id, NULL::bigint AS quarantine_id
            FROM pricing_promotionoffer o
            JOIN pricing_promotion pr ON pr.id = o.promotion_id
            JOIN pricing_cardfloor f ON f.listing_id = o.listing_id
            WHERE o.status = 'participating' AND o.action_price IS NOT NULL AND f.floor IS NOT NULL
              AND o.action_price < f.floor AND (pr.ends_at IS NULL OR pr.ends_at > %(now)s)
        )""",
    MoneyAtRisk.Reason.NOT_APPLIED: _LAST_PUSH + """,
        found AS (
            SELECT p.listing_id, p.price, lp.pushed AS expected, abs(lp.pushed - p.price) AS per_unit, p.currency,
                   NULL::bigint AS promotion_id, lp.id AS change_id, NULL::bigint AS quarantine_id
            FROM last_push lp JOIN pricing_price p ON p.listing_id = lp.listing_id
            WHERE lp.confirmed_at IS NULL AND p.price <> lp.pushed
              AND (lp.status IN ('rejected', 'failed')
                   OR (lp.status IN ('sent', 'applied') AND lp.sent_at < %(stale)s))
              AND NOT EXISTS (SELECT 1 FROM pricing_quarantinedprice q WHERE q.listing_id = lp.listing_id)
        )""",  # noqa: S608 (constant text; values are bound)
    MoneyAtRisk.Reason.QUARANTINE: """
        found AS (
            SELECT q.listing_id, coalesce(q.last_valid_price, p.price, q.price) AS price, q.price AS expected,
                   q.price AS per_unit, q.currency,
                   NULL::bigint AS promotion_id, NULL::bigint AS change_id, q.id AS quarantine_id
            FROM pricing_quarantinedprice q LEFT JOIN pricing_price p ON p.listing_id = q.listing_id
            WHERE q.listing_id IS NOT NULL
        )""",
    MoneyAtRisk.Reason.CHANGED_OUTSIDE: _LAST_PUSH + """,
        found AS (
            SELECT p.listing_id, p.price, lp.pushed AS expected, abs(lp.pushed - p.price) AS per_unit, p.currency,
                   NULL::bigint AS promotion_id, lp.id AS change_id, NULL::bigint AS quarantine_id
            FROM last_push lp JOIN pricing_price p ON p.listing_id = lp.listing_id
            WHERE lp.confirmed_at IS NOT NULL AND p.price <> lp.pushed AND p.updated_at > lp.confirmed_at
        )""",  # noqa: S608 (constant text; values are bound)
}


def refresh_money_at_risk(*, now: datetime | None = None, notify: bool = True) -> dict[str, int]:
    """Rebuild the queue in one transaction (readers see the old queue until it commits)."""
    now = now or timezone.now()
    params = {"now": now, "stale": now - readback_grace(), "since": timezone.localdate() - timedelta(days=SALES_DAYS)}
    counts: dict[str, int] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM pricing_moneyatrisk")
        for reason, found in REASON_QUERIES.items():
            sql = f"WITH {_UNITS}, {found.strip()} {_INSERT}"
            cursor.execute(sql, {**params, "reason": str(reason)})
            counts[str(reason)] = cursor.rowcount
        if notify:
            alert_promotions_below_floor()
    return counts


def alert_promotions_below_floor() -> int:
    """One alert per promotion with joined cards selling below their floor (deduplicated by subject)."""
    rows = (
        MoneyAtRisk.objects.filter(reason=MoneyAtRisk.Reason.PROMO_BELOW_FLOOR)
        .values("promotion_id").annotate(cards=Count("id"), stake=Sum("at_stake"))
    )
    promotions = Promotion.objects.in_bulk([row["promotion_id"] for row in rows])
    for row in rows:
        producers.promotion_below_floor(promotions[row["promotion_id"]], row["cards"], row["stake"])
    return len(rows)


def money_at_risk_count() -> int:
    """Cards losing money now (rows of the queue), for the overview's tile."""
    return MoneyAtRisk.objects.count()


def risk_summary() -> list[dict[str, Any]]:
    """Per reason: cards and money at stake (one grouped query over the queue)."""
    rows: dict[str, dict[str, Any]] = {
        row["reason"]: dict(row)
        for row in MoneyAtRisk.objects.values("reason").annotate(cards=Count("id"), stake=Sum("at_stake")).order_by()
    }
    return [{"reason": value, "label": label, "cards": rows.get(value, {}).get("cards", 0),
             "stake": rows.get(value, {}).get("stake") or Decimal(0)}
            for value, label in MoneyAtRisk.Reason.choices]


# ---------------------------------------------------------------------------------------------
# Price quarantine: Yandex Market lists and confirms through its API; Wildberries lists (release
# only in its cabinet); Ozon has none (a refused price comes back as a rejected change).

ClientFor = Callable[[MarketplaceAccount], Any]


def supports_quarantine(account: MarketplaceAccount) -> bool:
    return hasattr(registry.client_class(account.marketplace), "iter_price_quarantine")


def quarantine_confirmable(marketplace: str) -> bool:
    return hasattr(registry.client_class(marketplace), "confirm_quarantined_prices")


def sync_price_quarantine(account: MarketplaceAccount, *, client_for: ClientFor = registry.get_client,
                          now: datetime | None = None) -> int | None:
    """Store the account's prices in quarantine as the marketplace lists them now; None when the
    marketplace has no such list."""
    if not supports_quarantine(account):
        return None
    now = now or timezone.now()
    client = client_for(account)
    held: list[QuarantinedPriceDTO] = [q for page in client.iter_price_quarantine() for q in page.items]
    listings = dict(Listing.objects.filter(account=account, external_id__in=[q.offer_id for q in held])
                    .values_list("external_id", "pk"))
    with transaction.atomic():
        QuarantinedPrice.objects.filter(account=account).exclude(offer_id__in=[q.offer_id for q in held]).delete()
        QuarantinedPrice.objects.bulk_create(
            [QuarantinedPrice(account=account, offer_id=q.offer_id[:255], listing_id=listings.get(q.offer_id),
                              price=q.price, last_valid_price=q.last_valid_price, min_price=q.min_price,
                              verdict=q.verdict[:32], currency=q.currency, seen_at=now) for q in held],
            update_conflicts=True, unique_fields=["account", "offer_id"],
            update_fields=["listing", "price", "last_valid_price", "min_price", "verdict", "currency", "seen_at"],
        )
    return len(held)


def confirm_quarantined_prices(
    account: MarketplaceAccount, offer_ids: Iterable[str], user: Any, *, client_for: ClientFor = registry.get_client,
) -> list[WriteResult]:
    """Confirm held prices on the marketplace (the seller checked them): the cards sell at them from
    now on. A synchronous acknowledgement, not a value to converge on, so it is sent at once rather
    than through the outbox; each confirmation is in the audit trail."""
    if not quarantine_confirmable(account.marketplace):
        marketplace = account.get_marketplace_display()
        raise PriceChangeError(_("%(marketplace)s has no API method to confirm a price in quarantine: release it "
                                 "in the marketplace's seller cabinet.") % {"marketplace": marketplace})
    rows = {q.offer_id: q for q in QuarantinedPrice.objects.filter(account=account, offer_id__in=list(offer_ids))}
    if not rows:
        return []
    results: list[WriteResult] = client_for(account).confirm_quarantined_prices({offer: offer for offer in rows})
    applied = [r.key for r in results if r.status == WriteStatus.APPLIED]
    with transaction.atomic():
        for result in results:
            row = rows[result.key]
            audit_record(action="pricing.quarantine_confirm", actor=user, obj=row,
                         details={"offer_id": row.offer_id, "price": row.price, "verdict": row.verdict,
                                  "result": str(result.status), "message": result.message})
        MoneyAtRisk.objects.filter(quarantine__in=[rows[o] for o in applied]).delete()
        QuarantinedPrice.objects.filter(account=account, offer_id__in=applied).delete()
    return results


def refresh_all(*, client_for: ClientFor = registry.get_client) -> dict[str, int]:
    """The scheduled job: quarantine lists, floors, then the queue."""
    for account in MarketplaceAccount.objects.filter(enabled=True):
        if supports_quarantine(account):
            try:
                sync_price_quarantine(account, client_for=client_for)
            except Exception:  # one account's trouble must not stop the queue of the others
                logger.exception("price quarantine of account %s", account.pk)
    refresh_floors()
    return refresh_money_at_risk()

