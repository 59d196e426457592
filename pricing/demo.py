"""Demo data for the first start: a cost price for every product and a legal entity with its tax,
so the sandbox cards show margins right away. Idempotent: what a user has set is never touched."""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Min

from catalog.models import CostPriceHistory, Product
from integrations.models import MarketplaceAccount
from pricing.costs import _refresh_current, today
from pricing.models import LegalEntity, LegalEntityAccount

DEMO_ENTITY = "ООО «Прилавок» (демо)"
# The demo's cost as a share of the lowest price a product sells at: margins differ per product
# (38–56 %), and a few are close to their floor.
_SHARES = [Decimal(s) for s in ("0.38", "0.42", "0.46", "0.50", "0.53", "0.56")]


@transaction.atomic
def seed_demo_economics(accounts: list[MarketplaceAccount]) -> int:
    """Costs for products that have none (from half a year ago), and the demo legal entity on УСН 6 %
    for accounts without one. Returns the number of costs set."""
    entity, _ = LegalEntity.objects.get_or_create(
        name=DEMO_ENTITY, defaults={"tax_regime": LegalEntity.TaxRegime.USN_INCOME, "inn": "7700000000"}
    )
    for account in accounts:
        LegalEntityAccount.objects.get_or_create(account=account, defaults={"legal_entity": entity})
    lowest = (
        Product.objects.filter(cost_history__isnull=True, listings__price__isnull=False)
        .annotate(lowest=Min("listings__price__price"))
        .values_list("pk", "lowest")
    )
    since = today() - timedelta(days=180)
    rows = [
        CostPriceHistory(
            product_id=pk, valid_from=since, source="demo",
            cost_price=(price * _SHARES[pk % len(_SHARES)]).quantize(Decimal("1"), rounding=ROUND_HALF_UP),
        )
        for pk, price in lowest
        if price
    ]
    CostPriceHistory.objects.bulk_create(rows, ignore_conflicts=True)
    _refresh_current([row.product_id for row in rows])
    return len(rows)
