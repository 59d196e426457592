"""Unit economics of one card at one price: price → every fee → tax → profit and margin.

Pure arithmetic on Decimal, no database: the selectors (pricing.fees) gather the inputs. Fees are
rules that may depend on the price (a commission by price segment, logistics by price bracket, a
percentage with a minimum and a maximum), so profit is a piecewise-linear function of the price,
rounded to kopecks per fee line as the marketplaces round. The break-even floor and the
target-margin price are solved over those pieces, then checked kopeck by kopeck where rounding
makes the answer uncertain, so the solved price never gives a loss (or a margin under the target)
and a kopeck less would.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Protocol

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

ZERO = Decimal(0)
KOPECK = Decimal("0.01")
HUNDRED = Decimal(100)
# A price the solver never goes beyond: no retail card costs a hundred million roubles.
PRICE_CEILING = Decimal("100000000.00")
# Kopecks checked one by one at most inside one price segment (a guard, never reached with sane fees).
MAX_SCAN = 200_000


def kopecks(amount: Decimal) -> Decimal:
    """Round to kopecks, half up: how Ozon, WB and YM round a fee line."""
    return amount.quantize(KOPECK, rounding=ROUND_HALF_UP)


class FeeKind(StrEnum):
    COMMISSION = "commission"
    LOGISTICS = "logistics"
    ACQUIRING = "acquiring"
    STORAGE = "storage"
    RETURNS = "returns"
    OTHER = "other"


# Every card pays these; a card with no known rate of one of them gets a warning, never a zero.
EXPECTED_FEES: tuple[FeeKind, ...] = (
    FeeKind.COMMISSION, FeeKind.LOGISTICS, FeeKind.ACQUIRING, FeeKind.STORAGE, FeeKind.RETURNS,
)


# Translated when asked for, one label at a time (a page of cards asks for hundreds).
_FEE_KIND_LABELS: dict[str, str] = {
    FeeKind.COMMISSION: gettext_noop("commission"),
    FeeKind.LOGISTICS: gettext_noop("logistics"),
    FeeKind.ACQUIRING: gettext_noop("acquiring"),
    FeeKind.STORAGE: gettext_noop("storage"),
    FeeKind.RETURNS: gettext_noop("returns"),
}


def fee_kind_label(kind: str) -> str:
    return _(_FEE_KIND_LABELS.get(kind, gettext_noop("other fees")))


@dataclass(frozen=True)
class FeeRule:
    """One fee of one kind per unit sold: `percent` of the price plus `fixed`, optionally clamped to
    [minimum, maximum], and applying only to prices in [price_from, price_to) when those are set."""

    kind: str
    name: str
    percent: Decimal = ZERO
    fixed: Decimal = ZERO
    price_from: Decimal | None = None
    price_to: Decimal | None = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    source: str = ""  # where the rate came from: "api", "finance" (averaged), "manual"

    def applies(self, price: Decimal) -> bool:
        return (self.price_from is None or price >= self.price_from) and (
            self.price_to is None or price < self.price_to
        )

    def amount(self, price: Decimal, *, rounded: bool = True) -> Decimal:
        value = price * self.percent / HUNDRED
        if self.minimum is not None:
            value = max(value, self.minimum)
        if self.maximum is not None:
            value = min(value, self.maximum)
        value += self.fixed
        return kopecks(value) if rounded else value

    def breakpoints(self) -> list[Decimal]:
        """Prices where this rule's formula changes: its bracket edges and where a clamp starts."""
        points = [p for p in (self.price_from, self.price_to) if p is not None]
        if self.percent > 0:
            points += [bound * HUNDRED / self.percent for bound in (self.minimum, self.maximum) if bound is not None]
        return points


class TaxRegime(StrEnum):
    USN_INCOME = "usn_income"  # УСН «доходы»: a rate (6 %) of revenue
    USN_INCOME_EXPENSE = "usn_income_expense"  # УСН «доходы минус расходы»: a rate (15 %) of profit
    OSNO = "osno"  # ОСНО: VAT on the added value plus profit tax


DEFAULT_TAX_RATES = {
    TaxRegime.USN_INCOME: Decimal(6),
    TaxRegime.USN_INCOME_EXPENSE: Decimal(15),
    TaxRegime.OSNO: Decimal(25),
}


@dataclass(frozen=True)
class TaxSettings:
    """The legal entity's tax: `rate` is the УСН rate or, on ОСНО, the profit tax rate; `vat_rate` is
    the VAT included in the price (20 on ОСНО; 0, 5 or 7 on УСН); on ОСНО the VAT included in the
    marketplace's fees (and in the cost when the supplier pays VAT) is deducted."""

    regime: str
    rate: Decimal
    vat_rate: Decimal = ZERO
    cost_includes_vat: bool = False


@dataclass(frozen=True)
class Line:
    kind: str
    name: str
    amount: Decimal
    source: str = ""


@dataclass(frozen=True)
class EconomicsInputs:
    cost: Decimal | None
    fees: Sequence[FeeRule]
    tax: TaxSettings | None
    # Warnings found while gathering the inputs (e.g. a rate averaged from few operations).
    notes: Sequence[str] = ()


@dataclass
class UnitEconomics:
    price: Decimal
    cost: Decimal | None
    fees: list[Line]
    taxes: list[Line]
    profit: Decimal | None  # None when the cost is unknown: never a profit that assumes a free product
    margin_percent: Decimal | None
    warnings: list[str] = field(default_factory=list)

    @property
    def fees_total(self) -> Decimal:
        return sum((line.amount for line in self.fees), ZERO)

    @property
    def taxes_total(self) -> Decimal:
        return sum((line.amount for line in self.taxes), ZERO)

    @property
    def complete(self) -> bool:
        return not self.warnings


def _vat_part(gross: Decimal, vat_rate: Decimal) -> Decimal:
    return gross * vat_rate / (HUNDRED + vat_rate)


def tax_amounts(price: Decimal, cost: Decimal, fees_total: Decimal, tax: TaxSettings, *, rounded: bool
                 ) -> tuple[Decimal, Decimal]:
    """(VAT, income or profit tax) per unit. With `rounded=False` the result is the exact linear
    function of the price the solver needs (no rounding, no clamping at zero: below zero profit is a
    loss either way)."""
    r = kopecks if rounded else (lambda x: x)
    vat = ZERO
    if tax.vat_rate:
        vat = _vat_part(price, tax.vat_rate)
        if tax.regime == TaxRegime.OSNO:
            vat -= _vat_part(fees_total, tax.vat_rate)
            if tax.cost_includes_vat:
                vat -= _vat_part(cost, tax.vat_rate)
        vat = r(vat)
    rate = tax.rate / HUNDRED
    if tax.regime == TaxRegime.USN_INCOME:
        return vat, r((price - vat) * rate)
    if tax.regime == TaxRegime.OSNO:
        net_cost = cost - _vat_part(cost, tax.vat_rate) if tax.cost_includes_vat else cost
        base = price - _vat_part(price, tax.vat_rate) - net_cost - (fees_total - _vat_part(fees_total, tax.vat_rate))
    else:
        base = price - vat - cost - fees_total
    return vat, (r(max(base * rate, ZERO)) if rounded else base * rate)


def _taxes(price: Decimal, cost: Decimal, fees_total: Decimal, tax: TaxSettings) -> list[Line]:
    vat, income_tax = tax_amounts(price, cost, fees_total, tax, rounded=True)
    rate = tax.rate.normalize()
    lines = [Line("vat", _("VAT %(rate)s%%") % {"rate": tax.vat_rate.normalize()}, vat)] if tax.vat_rate else []
    name = _({
        TaxRegime.USN_INCOME: gettext_noop("USN %(rate)s%% of revenue"),
        TaxRegime.USN_INCOME_EXPENSE: gettext_noop("USN %(rate)s%% of profit"),
    }.get(TaxRegime(tax.regime), gettext_noop("profit tax %(rate)s%%")))
    return [*lines, Line("tax", name % {"rate": rate}, income_tax)]


def _fee_lines(price: Decimal, rules: Sequence[FeeRule], *, rounded: bool) -> list[Line]:
    return [
        Line(rule.kind, rule.name, rule.amount(price, rounded=rounded), rule.source)
        for rule in rules
        if rule.applies(price)
    ]


def profit_at(price: Decimal, inputs: EconomicsInputs, *, rounded: bool = True) -> Decimal:
    cost = inputs.cost if inputs.cost is not None else ZERO
    fees = sum((line.amount for line in _fee_lines(price, inputs.fees, rounded=rounded)), ZERO)
    taxes = sum(tax_amounts(price, cost, fees, inputs.tax, rounded=rounded), ZERO) if inputs.tax else ZERO
    return price - cost - fees - taxes


def missing_fee_warnings(rules: Sequence[FeeRule], price: Decimal) -> list[str]:
    known = {rule.kind for rule in rules if rule.applies(price)}
    return [
        _("No %(fee)s rate is known for this card: the result leaves it out.") % {"fee": fee_kind_label(kind)}
        for kind in EXPECTED_FEES
        if kind not in known
    ]


def unit_economics(price: Decimal, inputs: EconomicsInputs) -> UnitEconomics:
    warnings = list(inputs.notes)
    if inputs.cost is None:
        warnings.append(_("No cost price is set for this product: profit and margin are unknown."))
    warnings += missing_fee_warnings(inputs.fees, price)
    if inputs.tax is None:
        warnings.append(_("No tax regime is set for this account's legal entity: profit is before tax."))
    fees = _fee_lines(price, inputs.fees, rounded=True)
    fees_total = sum((line.amount for line in fees), ZERO)
    cost = inputs.cost if inputs.cost is not None else ZERO
    taxes = _taxes(price, cost, fees_total, inputs.tax) if inputs.tax else []
    profit: Decimal | None = None
    margin: Decimal | None = None
    if inputs.cost is not None:
        profit = price - inputs.cost - fees_total - sum((line.amount for line in taxes), ZERO)
        margin = kopecks(profit / price * HUNDRED) if price > 0 else None
    return UnitEconomics(price, inputs.cost, fees, taxes, profit, margin, warnings)


# ---------------------------------------------------------------------------------------------
# Solving for a price


class NoPriceError(ValueError):
    """No price reaches the target: the fees and taxes take all of any higher price."""


def _ceil_kopeck(value: Decimal) -> Decimal:
    return value.quantize(KOPECK, rounding=ROUND_CEILING)


def _floor_kopeck(value: Decimal) -> Decimal:
    return value.quantize(KOPECK, rounding=ROUND_FLOOR)


def _segments(rules: Sequence[FeeRule]) -> list[tuple[Decimal, Decimal]]:
    """[low, high] kopeck ranges inside which every fee is one linear formula, highest first."""
    edges = {KOPECK}
    for rule in rules:
        for point in rule.breakpoints():
            if KOPECK < point < PRICE_CEILING:
                # A clamp point need not be a whole kopeck: both neighbours start a segment.
                edges.add(_ceil_kopeck(point))
    starts = sorted(edges)
    ends = [start - KOPECK for start in starts[1:]] + [PRICE_CEILING]
    return list(reversed(list(zip(starts, ends, strict=True))))


def solve_price(inputs: EconomicsInputs, target_margin_percent: Decimal = ZERO) -> Decimal:
    """The lowest price from which on every price (to kopecks) keeps profit ≥ target margin × price.

    With a zero target this is the break-even floor. Raises NoPriceError when no price does (also
    when the cost is unknown: a floor from a missing cost would be a guess)."""
    if inputs.cost is None:
        raise NoPriceError(_("No cost price is set for this product."))
    m = target_margin_percent / HUNDRED
    if m >= 1:
        raise NoPriceError(_("A margin of 100% or more cannot be reached."))

    def surplus(price: Decimal, *, rounded: bool = True) -> Decimal:
        return profit_at(price, inputs, rounded=rounded) - m * price

    # Rounding moves each fee line and tax line by at most half a kopeck (a tax computed from
    # rounded fees by a little more): outside ±eps of the exact line, the rounded sign is certain.
    eps = KOPECK * (len(inputs.fees) + 4)
    for low, high in _segments(inputs.fees):
        last_bad = _last_shortfall(surplus, low, high, eps)
        if last_bad is not None:
            if last_bad >= PRICE_CEILING:
                raise NoPriceError(_("Fees and taxes take all of any higher price: no price covers the cost."))
            return last_bad + KOPECK
    return KOPECK


class _Surplus(Protocol):
    def __call__(self, price: Decimal, *, rounded: bool = True) -> Decimal: ...


def _last_shortfall(surplus: _Surplus, low: Decimal, high: Decimal, eps: Decimal) -> Decimal | None:
    """The highest kopeck in [low, high] where the rounded surplus is negative, or None."""
    # The exact surplus is linear in the segment: s(p) = s(low) + slope × (p - low).
    step = max(min(high - low, Decimal(1000)), KOPECK)
    s_low = surplus(low, rounded=False)
    slope = (surplus(low + step, rounded=False) - s_low) / step if high > low else ZERO

    def exact_at(target: Decimal) -> Decimal:  # the price where the exact surplus equals `target`
        return low + (target - s_low) / slope

    if slope > 0:
        # Surely fine from where the exact surplus passes +eps; surely short below -eps.
        top = min(high, _floor_kopeck(exact_at(eps)) + KOPECK)
        if top < low:
            return None
        # Clamped to the segment: past its top, the whole segment is surely short.
        bottom = min(top, max(low, _floor_kopeck(exact_at(-eps)) - KOPECK))
    elif slope < 0:
        # Falling with the price: the top of the segment is where a shortfall shows first.
        if surplus(high, rounded=False) < -eps:
            return high
        top, bottom = high, min(high, max(low, _floor_kopeck(exact_at(eps)) - KOPECK))
    else:
        if s_low >= eps:
            return None
        if s_low < -eps:
            return high
        top, bottom = high, low
    if (top - bottom) / KOPECK > MAX_SCAN:
        raise NoPriceError(_("The fees make the price too uncertain to solve."))
    price = top
    while price >= bottom:
        if surplus(price) < 0:
            return price
        price -= KOPECK
    # Every kopeck scanned is fine. Rising surplus: below `bottom` it is surely short; falling
    # surplus: below `bottom` it is surely fine.
    return bottom - KOPECK if slope > 0 and bottom > low else None


def break_even_price(inputs: EconomicsInputs) -> Decimal:
    return solve_price(inputs, ZERO)
