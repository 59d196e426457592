"""Cost price per product with history by effective date: reads, one change (form) and file import.

The cost at a date is the newest one effective on or before it. A file import is all or nothing:
every row is checked first and any error rejects the whole file, listing each row and column.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import CostPriceHistory, Product
from core.audit import audit_record
from core.files import find_column
from core.money import quantize

MAX_COST = Decimal("999999999999.99")
MAX_IMPORT_ROWS = 100_000

# Accepted header names (case-insensitive) for each column of an import file.
ARTICLE_HEADERS = {"article", "артикул", "offer_id", "sku"}
COST_HEADERS = {"cost", "cost_price", "себестоимость", "закупочная цена"}
DATE_HEADERS = {"date", "valid_from", "effective_from", "дата", "действует с"}


class CostError(ValueError):
    pass


def today() -> date:
    return timezone.localdate()


def cost_at(product_id: int, on: date | None = None) -> Decimal | None:
    row = (
        CostPriceHistory.objects.filter(product_id=product_id, valid_from__lte=on or today())
        .order_by("-valid_from")
        .values_list("cost_price", flat=True)
        .first()
    )
    return row


def costs_at(product_ids: Iterable[int], on: date | None = None) -> dict[int, Decimal]:
    """The cost effective on `on` for many products, in one query."""
    rows = (
        CostPriceHistory.objects.filter(product_id__in=list(product_ids), valid_from__lte=on or today())
        .order_by("product_id", "-valid_from")
        .distinct("product_id")
        .values_list("product_id", "cost_price")
    )
    return dict(rows)


def parse_cost(value: Any) -> Decimal:
    text = str(value if value is not None else "").strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    if not text:
        raise CostError(_("the cost is empty"))
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise CostError(_("%(value)s is not a number") % {"value": value}) from None
    if not amount.is_finite() or amount < 0:
        raise CostError(_("the cost cannot be negative"))
    if amount != quantize(amount):
        raise CostError(_("%(value)s has more than two decimal places") % {"value": value})
    if amount > MAX_COST:
        raise CostError(_("the cost is too large"))
    return quantize(amount)


def parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise CostError(_("%(value)s is not a date (YYYY-MM-DD or DD.MM.YYYY)") % {"value": value})


def _refresh_current(product_ids: Iterable[int]) -> None:
    """Keep Product.cost_price equal to the cost effective today (what list screens show)."""
    ids = list(product_ids)
    current = costs_at(ids)
    for product in Product.objects.filter(pk__in=ids).only("pk", "cost_price"):
        value = current.get(product.pk)
        if product.cost_price != value:
            Product.objects.filter(pk=product.pk).update(cost_price=value, updated_at=timezone.now())


def _store(product_id: int, cost: Decimal, valid_from: date, source: str) -> CostPriceHistory:
    row, _created = CostPriceHistory.objects.update_or_create(
        product_id=product_id, valid_from=valid_from, defaults={"cost_price": cost, "source": source}
    )
    return row


@transaction.atomic
def set_cost(product: Product, cost: Any, valid_from: date | None = None, *, actor: Any = None,
             source: str = "form") -> CostPriceHistory:
    """Set a product's cost from a date on (today by default); the same date again replaces it."""
    amount = parse_cost(cost)
    when = valid_from or today()
    old = cost_at(product.pk, when)
    row = _store(product.pk, amount, when, source)
    _refresh_current([product.pk])
    audit_record(action="cost_price.set", actor=actor, obj=product,
                 details={"valid_from": when.isoformat(), "old": str(old) if old is not None else None,
                          "new": str(amount), "source": source})
    return row


# ---------------------------------------------------------------------------------------------
# Import


@dataclass(frozen=True)
class ImportProblem:
    row: int  # 1-based row of the file (the header is row 1)
    column: str
    message: str

    def __str__(self) -> str:
        return _("row %(row)s, %(column)s: %(message)s") % {"row": self.row, "column": self.column,
                                                            "message": self.message}


@dataclass
class ImportResult:
    imported: int
    problems: list[ImportProblem]

    @property
    def ok(self) -> bool:
        return not self.problems


def _rows_from_file(content: bytes, filename: str) -> list[list[Any]]:
    if filename.lower().endswith(".xlsx"):
        from openpyxl import load_workbook  # only imports pay for it

        try:
            sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
        except Exception as exc:  # openpyxl raises many kinds on a broken file
            raise CostError(_("the file is not a readable XLSX workbook")) from exc
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("cp1251")
    dialect = csv.Sniffer().sniff(text[:2048], delimiters=",;\t") if text.strip() else csv.excel
    return [row for row in csv.reader(io.StringIO(text), dialect)]


def import_costs(content: bytes, filename: str, *, actor: Any = None) -> ImportResult:
    """Import costs from CSV or XLSX with columns article, cost and (optional) date.

    Rejected whole, with every problem listed, when any row is wrong; otherwise every row is stored."""
    try:
        rows = _rows_from_file(content, filename)
    except (CostError, csv.Error) as exc:
        return ImportResult(0, [ImportProblem(1, _("file"), str(exc))])
    rows = [row for row in rows if any(str(cell or "").strip() for cell in row)]
    if not rows:
        return ImportResult(0, [ImportProblem(1, _("file"), _("the file is empty"))])
    header, body = rows[0], rows[1:]
    article_col, cost_col, date_col = (find_column(header, names) for names in (ARTICLE_HEADERS, COST_HEADERS,
                                                                            DATE_HEADERS))
    problems: list[ImportProblem] = []
    if article_col is None:
        problems.append(ImportProblem(1, "article", _("no article column (article or артикул)")))
    if cost_col is None:
        problems.append(ImportProblem(1, "cost", _("no cost column (cost or себестоимость)")))
    if len(body) > MAX_IMPORT_ROWS:
        problems.append(ImportProblem(1, _("file"), _("more than %(n)s rows") % {"n": MAX_IMPORT_ROWS}))
    if problems:
        return ImportResult(0, problems)
    assert article_col is not None and cost_col is not None

    def cell(row: list[Any], col: int | None) -> Any:
        return row[col] if col is not None and col < len(row) else None

    articles = {str(cell(row, article_col) or "").strip() for row in body}
    products = dict(Product.objects.filter(article__in=articles).values_list("article", "pk"))
    parsed: list[tuple[int, Decimal, date]] = []
    seen: dict[tuple[str, date], int] = {}
    for number, row in enumerate(body, start=2):
        article = str(cell(row, article_col) or "").strip()
        if not article:
            problems.append(ImportProblem(number, "article", _("the article is empty")))
        elif article not in products:
            problems.append(ImportProblem(number, "article", _("no product with article %(a)s") % {"a": article}))
        try:
            cost = parse_cost(cell(row, cost_col))
        except CostError as exc:
            problems.append(ImportProblem(number, "cost", str(exc)))
            cost = None
        raw_date = cell(row, date_col)
        try:
            when = parse_date(raw_date) if raw_date not in (None, "") else today()
        except CostError as exc:
            problems.append(ImportProblem(number, "date", str(exc)))
            when = None
        if article and when is not None:
            if (article, when) in seen:
                problems.append(ImportProblem(number, "article", _("repeats row %(row)s for the same date")
                                              % {"row": seen[(article, when)]}))
            seen[(article, when)] = number
        if article in products and cost is not None and when is not None:
            parsed.append((products[article], cost, when))
    if problems:
        return ImportResult(0, problems)
    with transaction.atomic():
        for product_id, cost, when in parsed:
            _store(product_id, cost, when, "import")
        _refresh_current({product_id for product_id, _c, _w in parsed})
        audit_record(action="cost_price.import", actor=actor, details={"file": filename[:200], "rows": len(parsed)})
    return ImportResult(len(parsed), [])
