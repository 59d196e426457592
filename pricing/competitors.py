"""Competitor prices entered by hand or imported from a file (no scraping): each is one observation of a
competitor's price of a card at a moment; the repricing rules follow the newest ones (pricing.repricing).

A file (.xlsx or .csv) has a column naming the card ("Article", or "Card" / "Marketplace id"), optionally
"Marketplace", then "Competitor", "Price" and optionally "URL" and "Date". It is taken whole or not at all:
a file with one bad row writes nothing, and every error names its row and column."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Listing
from core.audit import audit_record, diff
from core.files import DATE_FORMAT, DATETIME_FORMAT, Table, column_letter, find_column
from pricing.editor import (
    ARTICLE_HEADERS,
    CARD_HEADERS,
    MARKETPLACE_HEADERS,
    FileErrors,
    marketplace_in_row,
    parse_price,
)
from pricing.models import CompetitorPrice

COMPETITOR_HEADERS = {"competitor", "конкурент", "продавец", "seller"}
PRICE_HEADERS = {"price", "цена", "competitor price", "цена конкурента"}
URL_HEADERS = {"url", "link", "ссылка"}
DATE_HEADERS = {"date", "observed at", "дата", "когда"}
CARD_KEY_HEADERS = CARD_HEADERS | {"marketplace id", "sku"}


class CompetitorPriceError(ValueError):
    """A competitor price the service refuses; `field` names the field at fault."""

    def __init__(self, message: str, field: str = "non_field_errors") -> None:
        super().__init__(message)
        self.field = field


def find_cards(keys: Iterable[str], marketplace: str = "") -> dict[str, list[Listing]]:
    """Cards by seller article, marketplace id or marketplace SKU: {key: [cards]}, two indexed lookups."""
    wanted = {k.strip() for k in keys if k and k.strip()}
    if not wanted:
        return {}
    query = Listing.objects.filter(Q(offer_id__in=wanted) | Q(external_id__in=wanted) | Q(marketplace_sku__in=wanted))
    if marketplace:
        query = query.filter(account__marketplace=marketplace)
    found: dict[str, list[Listing]] = defaultdict(list)
    for listing in query.select_related("account").order_by("pk"):
        for key in {listing.offer_id, listing.external_id, listing.marketplace_sku} & wanted:
            found[key].append(listing)
    return dict(found)


def _url_ok(url: str) -> bool:
    if not url:
        return True
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        return False
    return len(url) <= 200


def _check(competitor: str, price: Any, url: str, observed_at: datetime | None) -> tuple[str, Decimal, str]:
    competitor = (competitor or "").strip()
    if not competitor:
        raise CompetitorPriceError(_("Name the competitor."), "competitor")
    if len(competitor) > 200:
        raise CompetitorPriceError(_("At most 200 characters."), "competitor")
    amount = parse_price(price)
    if amount is None:
        raise CompetitorPriceError(_("A price greater than zero, in roubles and kopecks."), "price")
    url = (url or "").strip()
    if not _url_ok(url):
        raise CompetitorPriceError(_("Not a web address (http:// or https://)."), "url")
    if observed_at is not None and observed_at > timezone.now() + timedelta(minutes=5):
        raise CompetitorPriceError(_("The moment is in the future."), "observed_at")
    return competitor, amount, url


def _state(row: CompetitorPrice) -> dict[str, Any]:
    return {"listing": row.listing_id, "competitor": row.competitor, "price": row.price, "url": row.url,
            "observed_at": row.observed_at}


def add_competitor_price(*, listing: Listing, competitor: str, price: Any, user: Any, url: str = "",
                         observed_at: datetime | None = None, source: str = "manual") -> CompetitorPrice:
    competitor, amount, url = _check(competitor, price, url, observed_at)
    with transaction.atomic():
        row = CompetitorPrice.objects.create(listing=listing, competitor=competitor, price=amount, url=url,
                                             observed_at=observed_at or timezone.now(), source=source)
        audit_record(action="pricing.competitor_price_add", actor=user, obj=row, new=_state(row))
    return row


def update_competitor_price(row: CompetitorPrice, *, user: Any, **values: Any) -> CompetitorPrice:
    """Change the competitor, price, URL or moment of an observation."""
    allowed = {"competitor", "price", "url", "observed_at"}
    if set(values) - allowed:
        raise CompetitorPriceError(_("Unknown field."), sorted(set(values) - allowed)[0])
    before = _state(row)
    competitor, amount, url = _check(values.get("competitor", row.competitor), values.get("price", row.price),
                                     values.get("url", row.url), values.get("observed_at"))
    with transaction.atomic():
        row.competitor, row.price, row.url = competitor, amount, url
        if values.get("observed_at") is not None:
            row.observed_at = values["observed_at"]
        row.save()
        old, new = diff(before, _state(row))
        audit_record(action="pricing.competitor_price_update", actor=user, obj=row, old=old, new=new)
    return row


def delete_competitor_price(row: CompetitorPrice, *, user: Any) -> None:
    with transaction.atomic():
        audit_record(action="pricing.competitor_price_delete", actor=user, obj=row, old=_state(row))
        row.delete()


def _moment(text: str) -> datetime | None:
    for fmt in (DATETIME_FORMAT, DATE_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y-%m-%dT%H:%M"):
        try:
            return timezone.make_aware(datetime.strptime(text, fmt))
        except ValueError:
            continue
    return None


def rows_from_file(table: Table) -> list[CompetitorPrice]:
    """The file's observations (not saved), or FileErrors naming the row and column of every problem."""
    header = table.header
    article, card = find_column(header, ARTICLE_HEADERS), find_column(header, CARD_KEY_HEADERS)
    market = find_column(header, MARKETPLACE_HEADERS)
    who, price_col = find_column(header, COMPETITOR_HEADERS), find_column(header, PRICE_HEADERS)
    url_col, date_col = find_column(header, URL_HEADERS), find_column(header, DATE_HEADERS)
    errors = []
    if article is None and card is None:
        errors.append(_("No “Article” or “Card” column in the first row."))
    if who is None:
        errors.append(_("No “Competitor” column in the first row."))
    if price_col is None:
        errors.append(_("No “Price” column in the first row."))
    if errors:
        raise FileErrors(errors)
    assert who is not None and price_col is not None
    now = timezone.now()
    parsed: list[tuple[int, str, int, str, str, Decimal, str, datetime]] = []
    for number, cells in table.data():
        def cell(index: int | None, cells: list[str] = cells) -> str:
            return cells[index].strip() if index is not None and index < len(cells) else ""

        key, key_col = (cell(card), card) if cell(card) else (cell(article), article)
        assert key_col is not None
        marketplace, error = marketplace_in_row(number, market, cell(market))
        if error:
            errors.append(error)
            continue
        if not key:
            errors.append(_("Row %(row)s, column %(col)s: the card is missing.")
                          % {"row": number, "col": column_letter(key_col)})
            continue
        moment = now
        if date_col is not None and cell(date_col):
            found = _moment(cell(date_col))
            if found is None or found > now:
                errors.append(_("Row %(row)s, column %(col)s: “%(value)s” is not a past date (dd.mm.yyyy hh:mm).")
                              % {"row": number, "col": column_letter(date_col), "value": cell(date_col)})
                continue
            moment = found
        try:
            competitor, amount, url = _check(cell(who), cell(price_col), cell(url_col), None)
        except CompetitorPriceError as error:
            col = {"competitor": who, "price": price_col, "url": url_col}.get(error.field, price_col)
            errors.append(_("Row %(row)s, column %(col)s: %(error)s")
                          % {"row": number, "col": column_letter(col or 0), "error": error})
            continue
        parsed.append((number, key, key_col, marketplace, competitor, amount, url, moment))
    cards = find_cards({p[1] for p in parsed})
    rows: list[CompetitorPrice] = []
    for number, key, key_col, marketplace, competitor, amount, url, moment in parsed:
        matches = [x for x in cards.get(key, []) if not marketplace or x.account.marketplace == marketplace]
        if not matches:
            errors.append(_("Row %(row)s, column %(col)s: no card “%(value)s”.")
                          % {"row": number, "col": column_letter(key_col), "value": key})
        elif len(matches) > 1:
            errors.append(_("Row %(row)s, column %(col)s: several cards are “%(value)s”; add a “Marketplace” "
                            "column.") % {"row": number, "col": column_letter(key_col), "value": key})
        else:
            rows.append(CompetitorPrice(listing=matches[0], competitor=competitor, price=amount, url=url,
                                        observed_at=moment, source="import"))
    if errors:
        raise FileErrors(errors)
    if not rows:
        raise FileErrors([_("The file has no rows with prices.")])
    return rows


def import_competitor_prices(table: Table, *, user: Any) -> list[CompetitorPrice]:
    """Every row of the file, or none (FileErrors)."""
    rows = rows_from_file(table)
    with transaction.atomic():
        created = CompetitorPrice.objects.bulk_create(rows)
        audit_record(action="pricing.competitor_price_import", actor=user, obj=None, details={
            "file": table.filename, "rows": len(created), "cards": len({r.listing_id for r in created}),
        })
    return created
