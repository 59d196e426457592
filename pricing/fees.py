"""The inputs of a card's unit economics: its cost, its fee rules and its legal entity's tax.

Fees come from the rates the marketplace's API stated (FeeRate, newest set in effect on the day,
the card's own before its category's before the account's) and, for a kind the API gives none of,
from the synced finance operations: the average charged per unit sold (per rouble of sales for the
commission and acquiring) over the recent past. Each such average is named in the result's notes;
a kind found nowhere is left out with a warning (pricing.economics), never counted as zero.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.models import FeeLine, FinanceOperation
from catalog.models import CostPriceHistory, Listing, Warehouse
from pricing.costs import cost_at
from pricing.economics import (
    DEFAULT_TAX_RATES,
    EXPECTED_FEES,
    ZERO,
    EconomicsInputs,
    FeeKind,
    FeeRule,
    NoPriceError,
    TaxRegime,
    TaxSettings,
    UnitEconomics,
    fee_kind_label,
    kopecks,
    solve_price,
    unit_economics,
)
from pricing.models import FeeRate, LegalEntity, Price

HUNDRED = Decimal(100)
FINANCE_WINDOW_DAYS = 90


def storage_days() -> Decimal:
    """How long a unit is assumed to lie on the marketplace's warehouse before it sells."""
    return Decimal(str(getattr(settings, "PRICING_STORAGE_DAYS", 30)))


def return_share() -> Decimal:
    """The share of units sold that come back, for a fee charged per returned unit."""
    return Decimal(str(getattr(settings, "PRICING_RETURN_SHARE_PERCENT", 5))) / HUNDRED


def tax_settings(account_id: int) -> TaxSettings | None:
    entity = LegalEntity.objects.filter(account_links__account_id=account_id).first()
    if entity is None:
        return None
    regime = TaxRegime(entity.tax_regime)
    rate = entity.tax_rate if entity.tax_rate is not None else DEFAULT_TAX_RATES[regime]
    return TaxSettings(regime, Decimal(rate), Decimal(entity.vat_rate), entity.cost_includes_vat)


def default_scheme(listing: Listing) -> str:
    """Where a card sells from: the marketplace's warehouse if it has stock there, else the seller's."""
    on_marketplace = listing.stock_levels.filter(warehouse__kind=Warehouse.Kind.MARKETPLACE, present__gt=0).exists()
    return "fbo" if on_marketplace else "fbs"


def _litres(listing: Listing) -> Decimal | None:
    product = listing.product
    if not product or not (product.length_mm and product.width_mm and product.height_mm):
        return None
    return Decimal(product.length_mm * product.width_mm * product.height_mm) / Decimal(1_000_000)


def _rates_in_effect(listing: Listing, scheme: str, on: date) -> dict[str, list[FeeRate]]:
    """Per fee kind, the set in effect: of the narrowest scope (the card, then its category, then the
    account; a scheme's own before "any scheme"), the set with the newest date on or before `on`."""
    rows = FeeRate.objects.filter(
        Q(listing=listing) | Q(listing__isnull=True, category__in=["", listing.category]),
        account_id=listing.account_id, effective_from__lte=on, scheme__in=["", scheme],
    )

    def rank(row: FeeRate) -> tuple[int, int, int]:
        scope = 0 if row.listing_id else 1 if row.category else 2
        return scope, 0 if row.scheme else 1, -row.effective_from.toordinal()

    chosen: dict[str, tuple[tuple[int, int, int], list[FeeRate]]] = {}
    for row in sorted(rows, key=rank):
        key = rank(row)
        if row.kind not in chosen:
            chosen[row.kind] = (key, [row])
        elif chosen[row.kind][0] == key:
            chosen[row.kind][1].append(row)
    return {kind: rates for kind, (_key, rates) in chosen.items()}


def _rule(rate: FeeRate, litres: Decimal | None, notes: list[str]) -> FeeRule:
    fixed = Decimal(rate.fixed)
    if rate.per_extra_litre:
        if litres is None:
            notes.append(_("%(fee)s depends on volume, but the product has no dimensions: one litre assumed.")
                         % {"fee": rate.name})
        else:
            fixed += Decimal(rate.per_extra_litre) * max(litres - 1, ZERO)
    name = rate.name
    if rate.per_day:
        fixed *= storage_days()
        name = _("%(fee)s × %(days)s days") % {"fee": rate.name, "days": storage_days().normalize()}
    if rate.kind == FeeKind.RETURNS:
        fixed *= return_share()
        name = _("%(fee)s × %(share)s%% returned") % {"fee": rate.name,
                                                       "share": (return_share() * HUNDRED).normalize()}
    return FeeRule(rate.kind, name, percent=Decimal(rate.percent), fixed=fixed, price_from=rate.price_from,
                   price_to=rate.price_to, minimum=rate.minimum, maximum=rate.maximum, source=rate.source)


# Finance fee kinds -> our fee kinds; a percentage of sales for these, roubles per unit for the rest.
_FINANCE_KINDS: dict[str, str] = {
    FeeLine.Kind.COMMISSION: FeeKind.COMMISSION,
    FeeLine.Kind.ACQUIRING: FeeKind.ACQUIRING,
    FeeLine.Kind.LOGISTICS: FeeKind.LOGISTICS,
    FeeLine.Kind.STORAGE: FeeKind.STORAGE,
}
_PERCENT_KINDS = {FeeKind.COMMISSION, FeeKind.ACQUIRING}


def finance_averages(listing: Listing, on: date, kinds: set[FeeKind]) -> tuple[list[FeeRule], list[str]]:
    """Average fees per unit sold over the operations of the last FINANCE_WINDOW_DAYS up to `on`."""
    since = on - timedelta(days=FINANCE_WINDOW_DAYS)
    sales = FinanceOperation.objects.filter(
        account_id=listing.account_id, offer_id=listing.offer_id, quantity__gt=0, sale_amount__gt=0,
        operation_at__date__gt=since, operation_at__date__lte=on,
    )
    totals = sales.aggregate(units=Sum("quantity"), revenue=Sum("sale_amount"))
    units, revenue = totals["units"] or 0, totals["revenue"] or ZERO
    if not units:
        return [], []
    charged: dict[str, Decimal] = defaultdict(Decimal)
    lines = FeeLine.objects.filter(operation__in=sales).values("kind").annotate(total=Sum("amount"))
    for row in lines:
        kind = _FINANCE_KINDS.get(row["kind"])
        if kind in kinds:
            charged[kind] += -Decimal(row["total"])  # charges are negative in the reports
    rules, notes = [], []
    for kind, total in sorted(charged.items()):
        if total <= 0:
            continue
        name = _("%(fee)s, average of %(units)s units sold") % {"fee": fee_kind_label(kind), "units": units}
        if kind in _PERCENT_KINDS:
            rules.append(FeeRule(kind, name, percent=(total / revenue * HUNDRED).quantize(Decimal("0.0001")),
                                 source="finance"))
        else:
            rules.append(FeeRule(kind, name, fixed=kopecks(total / units), source="finance"))
        notes.append(_("The %(fee)s is averaged from finance reports, not a rate from the marketplace.")
                     % {"fee": fee_kind_label(kind)})
    return rules, notes


def economics_inputs(listing: Listing, *, scheme: str | None = None, on: date | None = None) -> EconomicsInputs:
    on = on or timezone.localdate()
    scheme = scheme or default_scheme(listing)
    notes: list[str] = []
    litres = _litres(listing)
    rules = [_rule(rate, litres, notes) for rates in _rates_in_effect(listing, scheme, on).values() for rate in rates]
    missing: set[FeeKind] = {kind for kind in EXPECTED_FEES if kind not in {rule.kind for rule in rules}}
    if missing:
        averaged, average_notes = finance_averages(listing, on, missing)
        rules += averaged
        notes += average_notes
    cost = cost_at(listing.product_id, on) if listing.product_id else None
    undated = listing.product_id and not CostPriceHistory.objects.filter(product_id=listing.product_id).exists()
    if cost is None and undated:
        # A cost set before costs had dates (Product.cost_price alone) applies to every date.
        cost = listing.product.cost_price if listing.product else None
    return EconomicsInputs(cost, rules, tax_settings(listing.account_id), notes)


@dataclass
class CardEconomics:
    listing: Listing
    scheme: str
    result: UnitEconomics | None  # None when the card has no price to compute at
    floor: Decimal | None
    floor_problem: str = ""


def card_economics(listing: Listing, *, price: Decimal | None = None, scheme: str | None = None,
                   on: date | None = None) -> CardEconomics:
    """Unit economics of a card at `price` (its current price by default) and its break-even floor."""
    scheme = scheme or default_scheme(listing)
    inputs = economics_inputs(listing, scheme=scheme, on=on)
    if price is None:
        current = Price.objects.filter(listing=listing).values_list("price", flat=True).first()
        price = Decimal(current) if current is not None else None
    result = unit_economics(price, inputs) if price is not None else None
    floor, problem = None, ""
    try:
        floor = solve_price(inputs)
    except NoPriceError as exc:
        problem = str(exc)
    return CardEconomics(listing, scheme, result, floor, problem)
