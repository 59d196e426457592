"""The price editor's arithmetic: new prices from a formula or a file, before pricing.batches plans
and checks them. Money is Decimal throughout; every result is a whole number of kopecks."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from django.utils.translation import gettext as _

from catalog.models import Listing
from core.files import Table, column_letter, find_column
from core.money import CENT
from pricing.models import Price

HUNDRED = Decimal(100)


class Operation(StrEnum):
    INCREASE = "increase"  # + N %
    DECREASE = "decrease"  # − N %
    SET = "set"  # to X
    MATCH = "match"  # another marketplace's price of the same product ± N %


class Rounding(StrEnum):
    NONE = ""
    NINE = "9"  # whole roubles ending in 9: 1 239
    NINETY = "90"  # ending in 90: 1 290
    NINETY_NINE = "99"  # ending in 99: 1 299


@dataclass(frozen=True)
class Formula:
    operation: Operation
    value: Decimal = Decimal(0)  # the percent, or the price for SET
    rounding: Rounding = Rounding.NONE
    marketplace: str = ""  # MATCH: whose price
    sign: int = 1  # MATCH: + or − value %

    def describe(self) -> str:
        rounding = _(", rounded up to …%(end)s") % {"end": self.rounding.value} if self.rounding else ""
        if self.operation == Operation.INCREASE:
            text = f"+{self.value} %"
        elif self.operation == Operation.DECREASE:
            text = f"−{self.value} %"
        elif self.operation == Operation.SET:
            text = _("set to %(price)s") % {"price": self.value}
        else:
            text = _("match %(marketplace)s %(sign)s%(value)s %%") % {
                "marketplace": self.marketplace, "sign": "+" if self.sign > 0 else "−", "value": self.value,
            }
        return text + rounding


def round_to_ending(price: Decimal, rounding: Rounding) -> Decimal:
    """The smallest price ≥ `price` whose roubles end in the digits (…9, …90, …99), kopecks zero."""
    if rounding == Rounding.NONE:
        return price.quantize(CENT, rounding=ROUND_HALF_UP)
    ending = int(rounding.value)
    modulus = 10 ** len(rounding.value)
    roubles = int(price.to_integral_value(rounding=ROUND_CEILING))
    result = roubles - roubles % modulus + ending
    if result < roubles:
        result += modulus
    return Decimal(result).quantize(CENT)


def apply(formula: Formula, current: Decimal, reference: Decimal | None = None) -> Decimal | None:
    """The new price from the current one (or, for MATCH, the other marketplace's price); None when
    MATCH has no reference or the result is not a positive price."""
    if formula.operation == Operation.INCREASE:
        raw = current * (HUNDRED + formula.value) / HUNDRED
    elif formula.operation == Operation.DECREASE:
        raw = current * (HUNDRED - formula.value) / HUNDRED
    elif formula.operation == Operation.SET:
        raw = formula.value
    else:
        if reference is None:
            return None
        raw = reference * (HUNDRED + formula.sign * formula.value) / HUNDRED
    price = round_to_ending(raw, formula.rounding)
    return price if price > 0 else None


def apply_to(formula: Formula, listing_ids: Iterable[int]) -> tuple[dict[int, Decimal], list[str]]:
    """New prices of the listings ({listing id: price}) and why some got none. Two queries."""
    listings = list(
        Listing.objects.filter(pk__in=list(listing_ids)).select_related("price", "account").order_by("pk")
    )
    references: dict[int, Decimal] = {}
    if formula.operation == Operation.MATCH:
        products = {x.product_id for x in listings if x.product_id}
        for product_id, price in Price.objects.filter(
            listing__product_id__in=products, listing__account__marketplace=formula.marketplace
        ).order_by("listing_id").values_list("listing__product_id", "price"):
            references.setdefault(product_id, price)
    prices, skipped = {}, []
    for listing in listings:
        current = getattr(listing, "price", None)
        if current is None:
            skipped.append(_("%(article)s: no current price.") % {"article": listing.offer_id})
            continue
        new = apply(formula, current.price, references.get(listing.product_id) if listing.product_id else None)
        if new is None:
            skipped.append(_("%(article)s: no price of this product on the chosen marketplace.")
                           % {"article": listing.offer_id})
            continue
        prices[listing.pk] = new
    return prices, skipped


# ---------------------------------------------------------------------------------------------
# File import: article (or card id), optional marketplace, new price


ARTICLE_HEADERS = {"article", "артикул", "артикул продавца", "offer_id", "seller article"}
CARD_HEADERS = {"card", "карточка", "id карточки", "external_id", "marketplace id", "id на маркетплейсе"}
MARKETPLACE_HEADERS = {"marketplace", "маркетплейс"}
PRICE_HEADERS = {"new price", "новая цена", "price", "цена"}
MARKETPLACE_NAMES = {
    "ozon": "ozon", "озон": "ozon", "wildberries": "wildberries", "wb": "wildberries", "вайлдберриз": "wildberries",
    "yandex_market": "yandex_market", "яндекс маркет": "yandex_market", "яндекс.маркет": "yandex_market",
    "ym": "yandex_market", "yandex market": "yandex_market",
}


class FileErrors(ValueError):
    """The file is refused whole; `errors` names the row and column of each problem."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


def parse_price(value: Any) -> Decimal | None:
    """A price as a file or form gives it ("1 299,50 ₽", 1299.5, Decimal): positive, whole kopecks, below
    a trillion; None for anything else (the caller names the row)."""
    if isinstance(value, Decimal):
        amount = value
    else:
        text = str(value or "").replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace("₽", "")
        try:
            amount = Decimal(text.replace(",", "."))
        except InvalidOperation:
            return None
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(CENT) or amount >= Decimal("1e12"):
        return None
    return amount.quantize(CENT)


def marketplace_in_row(number: int, column: int | None, value: str) -> tuple[str, str]:
    """(the marketplace a file's “Marketplace” cell names, or "" when the file has none; an error naming the
    row and column when the cell names none we know, else "")."""
    if column is None or not value:
        return "", ""
    marketplace = MARKETPLACE_NAMES.get(value.lower(), "")
    if marketplace:
        return marketplace, ""
    return "", _("Row %(row)s, column %(col)s: unknown marketplace “%(value)s”.") % {
        "row": number, "col": column_letter(column), "value": value}


def prices_from_file(table: Table) -> dict[int, Decimal]:
    """{listing id: new price} from a sheet with an article or card column and a new price column;
    FileErrors listing every bad row (nothing is taken from a file with one)."""
    header = table.header
    article, card = find_column(header, ARTICLE_HEADERS), find_column(header, CARD_HEADERS)
    market, price_col = find_column(header, MARKETPLACE_HEADERS), find_column(header, PRICE_HEADERS)
    errors = []
    if article is None and card is None:
        errors.append(_("No “Article” or “Card” column in the first row."))
    if price_col is None:
        errors.append(_("No “New price” column in the first row."))
    if errors:
        raise FileErrors(errors)
    assert price_col is not None
    rows: list[tuple[int, str, str, str, Decimal]] = []
    for number, cells in table.data():
        def cell(index: int | None, cells: list[str] = cells) -> str:
            return cells[index].strip() if index is not None and index < len(cells) else ""

        price = parse_price(cell(price_col))
        if price is None:
            errors.append(_("Row %(row)s, column %(col)s: “%(value)s” is not a price.")
                          % {"row": number, "col": column_letter(price_col), "value": cell(price_col)})
            continue
        marketplace, error = marketplace_in_row(number, market, cell(market))
        if error:
            errors.append(error)
            continue
        rows.append((number, cell(article), cell(card), marketplace, price))
    keys = {r[1] for r in rows if r[1]} | {r[2] for r in rows if r[2]}
    found: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for pk, offer_id, external_id, marketplace in Listing.objects.filter(
        offer_id__in=keys
    ).values_list("pk", "offer_id", "external_id", "account__marketplace").union(
        Listing.objects.filter(external_id__in=keys).values_list("pk", "offer_id", "external_id",
                                                                 "account__marketplace")
    ):
        found[f"a:{offer_id}"].append((pk, marketplace))
        found[f"c:{external_id}"].append((pk, marketplace))
    prices: dict[int, Decimal] = {}
    for number, offer_id, external_id, marketplace, price in rows:
        key, col = (f"c:{external_id}", card) if external_id else (f"a:{offer_id}", article)
        matches = [pk for pk, mp in found.get(key, []) if not marketplace or mp == marketplace]
        if not matches:
            errors.append(_("Row %(row)s, column %(col)s: no card “%(value)s”.")
                          % {"row": number, "col": column_letter(col or 0), "value": external_id or offer_id})
            continue
        for pk in matches:
            prices[pk] = price
    if errors:
        raise FileErrors(errors)
    if not prices:
        raise FileErrors([_("The file has no rows with prices.")])
    return prices
