"""Unit economics and break-even floors of many cards at once: the inputs of pricing.fees gathered
in a fixed number of queries whatever the number of cards (a price editor preview, a page of a
promotion, a batch of the money-at-risk refresh), then solved in Python card by card
(pricing.economics).

The choices are pricing.fees's: the narrowest scope's newest rate set per fee kind, finance
averages for a kind no rate covers, the cost in effect on the day, the legal entity's tax. The
figures are pricing.fees.card_economics's to the kopeck (pricing/tests/test_bulk_economics.py
compares the two); `card_economics_bulk` is the entry point for any screen or job that shows or
checks more than one card.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import OuterRef, Q, Subquery, Sum, prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.models import FeeLine, FinanceOperation
from catalog.models import CostPriceHistory, Listing, StockLevel, Warehouse
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
from pricing.fees import _FINANCE_KINDS, _PERCENT_KINDS, FINANCE_WINDOW_DAYS, CardEconomics, _litres, _rule
from pricing.models import FeeRate, LegalEntity, LegalEntityAccount, Price

HUNDRED = Decimal(100)


# What card_economics_bulk loads with cards given by id: everything their economics reads.
LISTING_RELATIONS = ("product", "price", "account__legal_entity_link__legal_entity")


def _schemes(listings: Sequence[Listing], scheme: str | None = None) -> dict[int, str]:
    """pricing.fees.default_scheme for many: fbo where the marketplace's warehouse holds stock."""
    if scheme:
        return {item.pk: scheme for item in listings}
    on_marketplace = set(
        StockLevel.objects.filter(
            listing_id__in=[item.pk for item in listings], warehouse__kind=Warehouse.Kind.MARKETPLACE, present__gt=0
        ).values_list("listing_id", flat=True).distinct()
    )
    return {item.pk: "fbo" if item.pk in on_marketplace else "fbs" for item in listings}


def _tax(entity: LegalEntity) -> TaxSettings:
    regime = TaxRegime(entity.tax_regime)
    rate = entity.tax_rate if entity.tax_rate is not None else DEFAULT_TAX_RATES[regime]
    return TaxSettings(regime, Decimal(rate), Decimal(entity.vat_rate), entity.cost_includes_vat)


def _taxes(listings: Sequence[Listing]) -> dict[int, TaxSettings]:
    """Each account's tax; read from the listings when they were loaded with
    select_related("account__legal_entity_link__legal_entity"), else in one query."""
    out: dict[int, TaxSettings] = {}
    unknown: set[int] = set()
    for item in listings:
        account = item._state.fields_cache.get("account")
        if account is not None and "legal_entity_link" in account._state.fields_cache:
            link = account._state.fields_cache["legal_entity_link"]
            if link is not None:
                out[item.account_id] = _tax(link.legal_entity)
        else:
            unknown.add(item.account_id)
    if unknown:
        for link in LegalEntityAccount.objects.filter(account_id__in=unknown).select_related("legal_entity"):
            out[link.account_id] = _tax(link.legal_entity)
    return out


def _rates(listings: Sequence[Listing], schemes: dict[int, str], on: date) -> dict[int, dict[str, list[FeeRate]]]:
    """Per card and fee kind, the set pricing.fees._rates_in_effect would choose."""
    accounts = {item.account_id for item in listings}
    categories = {item.category for item in listings} | {""}
    rows = list(FeeRate.objects.filter(
        Q(listing_id__in=[item.pk for item in listings]) | Q(listing__isnull=True, category__in=categories),
        account_id__in=accounts, effective_from__lte=on,
    ))
    by_listing: dict[int, list[FeeRate]] = defaultdict(list)
    shared: dict[tuple[int, str], list[FeeRate]] = defaultdict(list)
    for row in rows:
        if row.listing_id:
            by_listing[row.listing_id].append(row)
        else:
            shared[(row.account_id, row.category)].append(row)

    def rank(row: FeeRate) -> tuple[int, int, int]:
        scope = 0 if row.listing_id else 1 if row.category else 2
        return scope, 0 if row.scheme else 1, -row.effective_from.toordinal()

    out: dict[int, dict[str, list[FeeRate]]] = {}
    for item in listings:
        scheme = schemes[item.pk]
        candidates = [r for r in (*by_listing[item.pk], *shared[(item.account_id, item.category)],
                                  *(shared[(item.account_id, "")] if item.category else ()))
                      if r.scheme in ("", scheme)]
        chosen: dict[str, tuple[tuple[int, int, int], list[FeeRate]]] = {}
        for row in sorted(candidates, key=rank):
            key = rank(row)
            if row.kind not in chosen:
                chosen[row.kind] = (key, [row])
            elif chosen[row.kind][0] == key:
                chosen[row.kind][1].append(row)
        out[item.pk] = {kind: rates for kind, (_key, rates) in chosen.items()}
    return out


def _finance(listings: Sequence[Listing], on: date) -> dict[tuple[int, str], tuple[int, Decimal, dict[str, Decimal]]]:
    """(account, article) -> (units, revenue, {fee kind: charged}) over the finance window, in one query:
    each sale operation's fee lines summed per kind by a subquery on the fee lines' (operation, kind)
    index, then every figure summed per article (pricing.fees.finance_averages's sums, grouped)."""
    since = on - timedelta(days=FINANCE_WINDOW_DAYS)
    articles = {item.offer_id for item in listings}
    sales = FinanceOperation.objects.filter(
        account_id__in={item.account_id for item in listings}, offer_id__in=articles, quantity__gt=0,
        sale_amount__gt=0, operation_at__date__gt=since, operation_at__date__lte=on,
    )
    kinds = [str(kind) for kind in _FINANCE_KINDS]  # the fee lines' kinds that have a fee kind
    lines = FeeLine.objects.filter(operation_id=OuterRef("pk")).order_by().values("operation_id")
    per_operation = {
        f"line_{kind}": Subquery(lines.filter(kind=kind).annotate(total=Sum("amount")).values("total"))
        for kind in kinds
    }
    per_article = {f"fee_{kind}": Sum(f"line_{kind}") for kind in kinds}
    rows = (sales.annotate(**per_operation).values("account_id", "offer_id").order_by()
            .annotate(units=Sum("quantity"), revenue=Sum("sale_amount"), **per_article))
    totals: dict[tuple[int, str], tuple[int, Decimal, dict[str, Decimal]]] = {}
    for row in rows:
        figures: dict[str, Any] = dict(row)
        if not figures["units"]:
            continue
        # Charges are negative in the reports; a kind without any line is left out, as no line is.
        charged = {_FINANCE_KINDS[kind]: ZERO - Decimal(figures[f"fee_{kind}"])
                   for kind in kinds if figures[f"fee_{kind}"] is not None}
        totals[(figures["account_id"], figures["offer_id"])] = (figures["units"], figures["revenue"], charged)
    return totals


def _averages(missing: set[FeeKind], found: tuple[int, Decimal, dict[str, Decimal]] | None
              ) -> tuple[list[FeeRule], list[str]]:
    if not found:
        return [], []
    units, revenue, charged = found
    rules, notes = [], []
    for kind, total in sorted(charged.items()):
        if kind not in missing or total <= 0:
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


def _with_products(listings: Sequence[Listing]) -> None:
    """Every card's product in its cache: one query for those not loaded with select_related("product")."""
    missing = [item for item in listings if item.product_id and not Listing.product.is_cached(item)]
    if missing:
        prefetch_related_objects(missing, "product")


def inputs_for(listings: Sequence[Listing], *, on: date | None = None, scheme: str | None = None
               ) -> dict[int, tuple[str, EconomicsInputs]]:
    """{listing id: (scheme, inputs)}: at most five queries whatever the number of cards (four when their
    accounts' legal entities came with them, one more when their products did not). `scheme` forces
    one scheme on every card; by default each card's is pricing.fees.default_scheme's."""
    if not listings:
        return {}
    on = on or timezone.localdate()
    _with_products(listings)
    schemes = _schemes(listings, scheme)
    rates = _rates(listings, schemes, on)
    finance = _finance(listings, on)
    taxes = _taxes(listings)
    product_ids = {item.product_id for item in listings if item.product_id}
    # Every dated cost of these products in one query: the one in effect on the day, and which
    # products have dated costs at all (pricing.costs.cost_at and the fallback of pricing.fees).
    costs: dict[int, Decimal] = {}
    dated: set[int] = set()
    history = (CostPriceHistory.objects.filter(product_id__in=product_ids).order_by("product_id", "-valid_from")
               .values_list("product_id", "valid_from", "cost_price"))
    for product_id, valid_from, cost_price in history:
        dated.add(product_id)
        if valid_from <= on and product_id not in costs:
            costs[product_id] = cost_price
    out = {}
    for item in listings:
        notes: list[str] = []
        litres = _litres(item)
        rules = [_rule(rate, litres, notes) for kind_rates in rates[item.pk].values() for rate in kind_rates]
        missing = {kind for kind in EXPECTED_FEES if kind not in {rule.kind for rule in rules}}
        if missing:
            averaged, average_notes = _averages(missing, finance.get((item.account_id, item.offer_id)))
            rules += averaged
            notes += average_notes
        cost = costs.get(item.product_id) if item.product_id else None
        if cost is None and item.product_id and item.product_id not in dated and item.product:
            cost = item.product.cost_price  # a cost set before costs had dates applies to every date
        out[item.pk] = (schemes[item.pk], EconomicsInputs(cost, rules, taxes.get(item.account_id), notes))
    return out


@dataclass
class CardMoney:
    """One card at one price: its economics there (None without a price) and its floor."""

    result: UnitEconomics | None
    floor: Decimal | None
    floor_problem: str = ""

    @property
    def below_floor(self) -> bool:
        return self.result is not None and self.floor is not None and self.result.price < self.floor


def solve(inputs: EconomicsInputs) -> tuple[Decimal | None, str]:
    try:
        return solve_price(inputs), ""
    except NoPriceError as exc:
        return None, str(exc)


def _listings(listings: Iterable[int] | Iterable[Listing]) -> list[Listing]:
    """The cards as given (Listing objects), or loaded by id with LISTING_RELATIONS (one query)."""
    given: list[int | Listing] = list(listings)
    objects = [item for item in given if isinstance(item, Listing)]
    if len(objects) == len(given):
        return list({item.pk: item for item in objects}.values())
    ids = list(dict.fromkeys(item.pk if isinstance(item, Listing) else int(item) for item in given))
    loaded = Listing.objects.select_related(*LISTING_RELATIONS).in_bulk(ids)
    return [loaded[pk] for pk in ids if pk in loaded]


def _current_prices(listings: Sequence[Listing]) -> dict[int, Decimal]:
    """Each card's current price (Price): from the cards loaded with select_related("price"), else in one query."""
    out: dict[int, Decimal] = {}
    unknown = []
    for item in listings:
        if "price" in item._state.fields_cache:
            row = item._state.fields_cache["price"]
            if row is not None:
                out[item.pk] = Decimal(row.price)
        else:
            unknown.append(item.pk)
    if unknown:
        rows = Price.objects.filter(listing_id__in=unknown).values_list("listing_id", "price")
        out.update((listing_id, Decimal(price)) for listing_id, price in rows)
    return out


def card_economics_bulk(
    listings: Iterable[int] | Iterable[Listing],
    *,
    prices: Mapping[int, Decimal | None] | None = None,
    scheme: str | None = None,
    on: date | None = None,
) -> dict[int, CardEconomics]:
    """pricing.fees.card_economics of many cards in a fixed number of queries whatever their number (five
    at most given ids): {listing id: CardEconomics} with each card's fees, tax, profit and margin at a price
    (`result`) and its solved break-even floor (`floor`, or `floor_problem` saying why there is none),
    the same figures to the kopeck as card by card.

    `listings`: ids (loaded here with LISTING_RELATIONS; unknown ids are left out) or Listing objects
    (their products, current prices and legal entities are read in one more query each where they
    were not loaded with them).
    `prices`: {listing id: price} to compute at; a card not in it is computed at its current price,
    and a card mapped to None (or without a price) gets its floor only (`result` None). `scheme`
    forces one scheme (fbo, fbs, …) on every card, as card_economics's; `on` is the day whose costs
    and rates apply (today)."""
    cards = _listings(listings)
    if not cards:
        return {}
    current = _current_prices(cards) if prices is None or any(c.pk not in prices for c in cards) else {}
    out: dict[int, CardEconomics] = {}
    by_id = {card.pk: card for card in cards}
    for listing_id, (card_scheme, inputs) in inputs_for(cards, on=on, scheme=scheme).items():
        price = prices[listing_id] if prices is not None and listing_id in prices else current.get(listing_id)
        floor, problem = solve(inputs)
        result = unit_economics(price, inputs) if price is not None else None
        out[listing_id] = CardEconomics(by_id[listing_id], card_scheme, result, floor, problem)
    return out


def card_money(listings: Sequence[Listing], prices: Mapping[int, Decimal | None], *, on: date | None = None
               ) -> dict[int, CardMoney]:
    """Economics of each card at the price given for it (none without one), and its floor."""
    cards = card_economics_bulk(listings, prices={item.pk: prices.get(item.pk) or None for item in listings}, on=on)
    return {pk: CardMoney(card.result, card.floor, card.floor_problem) for pk, card in cards.items()}
