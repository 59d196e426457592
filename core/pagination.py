"""The list-page pattern: keyset pages on an indexed sort, and counts that never scan a big table.

A list view (catalog/views.py is the model) filters, then pages:

    LISTING_SORTS = Sorts(Listing, [Sort("article", _("Seller article"), ("offer_id", "id")), ...])

    filterset = ListingFilter(request.GET, queryset=listing_list())    # one django-filter FilterSet per list
    page = keyset_page(request, filterset.qs, LISTING_SORTS)           # ?sort=…&after=… / ?before=…
    render(..., {"page": page, "rows": page.rows})                     # templates/includes/pagination.html

* ``Sort`` names one order of the rows. Its fields are NOT NULL columns of the listed table (no joins:
  a sort that mixes two tables has to join and sort the whole table before it can take 50 rows) ending
  with the primary key as the tie-breaker, and each one has a matching index, so that a page is a range
  scan of that index: ``(offer_id, id) > (%s, %s) ORDER BY offer_id, id LIMIT 51``.
* ``keyset_page`` reads the ``after`` / ``before`` cursor (the sort values of the last / first row seen)
  instead of a page number: no OFFSET, so page 10 000 costs what page 1 costs. It takes the page's ids
  from the listed table alone (one row more than it shows, to know whether there is a next page), then
  the rows of those ids with their select_related joins.
* ``approximate_count`` says how many rows match: exact up to ``EXACT_COUNT_LIMIT`` (a capped count),
  above that the planner's estimate (EXPLAIN, "about …") or "more than …": an exact count of a million
  rows costs seconds.

``EstimatedCountPaginator`` applies the same counting to the Django admin's OFFSET paginator (core.admin).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.paginator import Paginator
from django.db.models import BooleanField, Expression, F, Model, Q, QuerySet, Value
from django.db.models import Field as ModelField
from django.http import HttpRequest
from django.utils.functional import Promise

PAGE_SIZE = 50
# Up to this many matching rows the count is exact (a capped COUNT over an index); above it, estimated.
EXACT_COUNT_LIMIT = 10_000


@dataclass(frozen=True)
class Sort:
    """One offered order of a list: ``key`` in the URL, ``label`` on the page, ``fields`` as in order_by."""

    key: str
    label: str | Promise
    fields: tuple[str, ...]

    def columns(self) -> list[tuple[str, bool]]:
        """(field name, descending) pairs."""
        return [(name.removeprefix("-"), name.startswith("-")) for name in self.fields]

    def check(self, model: type[Model]) -> None:
        names = [name for name, _ in self.columns()]
        if names[-1] not in ("id", "pk"):
            raise ValueError(f"sort {self.key!r}: the last field must be the primary key (the tie-breaker)")
        for name in names:
            try:
                model_field = model._meta.get_field(name)
            except FieldDoesNotExist as error:  # "account__name" and the like: columns of this table only
                raise ValueError(f"sort {self.key!r}: {name!r} is not a column of {model.__name__}") from error
            if model_field.null or not model_field.concrete:
                raise ValueError(f"sort {self.key!r}: {name!r} must be a NOT NULL column")


class Sorts:
    """The sorts a list offers; the first is the default. Unknown keys fall back to the default."""

    def __init__(self, model: type[Model], sorts: Iterable[Sort]) -> None:
        self.model = model
        self.options = list(sorts)
        for sort in self.options:
            sort.check(model)
        self.default = self.options[0]

    def pick(self, key: str | None) -> Sort:
        return next((sort for sort in self.options if sort.key == key), self.default)


class RowCompare(Expression):
    """``(a, b, c) > (%s, %s, %s)``: a row comparison, which PostgreSQL answers with one index range."""

    output_field = BooleanField()

    def __init__(self, lhs: Sequence[Any], op: str, rhs: Sequence[Any]) -> None:
        super().__init__()
        if op not in ("<", ">") or len(lhs) != len(rhs):
            raise ValueError(op)
        self.lhs, self.op, self.rhs = list(lhs), op, list(rhs)

    def get_source_expressions(self) -> list[Any]:
        return [*self.lhs, *self.rhs]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        size = len(self.lhs)
        self.lhs, self.rhs = list(exprs[:size]), list(exprs[size:])

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        sql: list[list[str]] = [[], []]
        params: list[Any] = []
        for side, exprs in enumerate((self.lhs, self.rhs)):
            for expr in exprs:
                part, part_params = compiler.compile(expr)
                sql[side].append(part)
                params.extend(part_params)
        return f"({', '.join(sql[0])}) {self.op} ({', '.join(sql[1])})", tuple(params)


def _encode(values: list[str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, ensure_ascii=False).encode()).decode().rstrip("=")


def _decode(token: str, fields: list[ModelField[Any, Any]]) -> list[Any] | None:
    """The cursor's values as Python values of the sort's fields; None for a malformed or foreign cursor."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not isinstance(raw, list) or len(raw) != len(fields) or not all(isinstance(v, str) for v in raw):
            return None
        return [model_field.to_python(value) for model_field, value in zip(fields, raw, strict=True)]
    except (ValueError, ValidationError, binascii.Error, UnicodeDecodeError):
        return None


def _column(model: type[Model], name: str) -> ModelField[Any, Any]:
    model_field = model._meta.get_field(name)
    assert isinstance(model_field, ModelField), name  # Sort.check allows only concrete columns
    return model_field


def after_condition(sort: Sort, model: type[Model], values: list[Any], *, backwards: bool = False) -> Q:
    """Rows strictly after ``values`` in ``sort`` (before them when ``backwards``).

    Columns that share a direction form one row comparison; a sort that mixes directions
    (``is_answered, -published_at, -id``) becomes "first group greater, or equal and the rest after",
    bounded by its leading column so the index scan starts at the cursor's group.
    """
    groups: list[tuple[bool, list[tuple[str, Any]]]] = []
    for (name, descending), value in zip(sort.columns(), values, strict=True):
        if groups and groups[-1][0] == descending:
            groups[-1][1].append((name, value))
        else:
            groups.append((descending, [(name, value)]))

    def compare(descending: bool, pairs: list[tuple[str, Any]]) -> Q:
        op = ">" if descending == backwards else "<"
        lhs = [F(name) for name, _ in pairs]
        rhs = [Value(value, output_field=_column(model, name)) for name, value in pairs]
        return Q(RowCompare(lhs, op, rhs))

    condition = Q()
    equal_so_far = Q()
    for descending, pairs in groups:
        condition |= equal_so_far & compare(descending, pairs)
        equal_so_far &= Q(**dict(pairs))
    if len(groups) > 1:
        (name, value), descending = groups[0][1][0], groups[0][0]
        lookup = "gte" if descending == backwards else "lte"
        condition &= Q(**{f"{name}__{lookup}": value})
    return condition


@dataclass
class KeysetPage:
    """One page of a list: its rows and the cursors of the pages around it."""

    rows: list[Any]
    sort: Sort
    sorts: Sorts
    has_next: bool
    has_previous: bool
    next_cursor: str = ""
    previous_cursor: str = ""
    queryset: QuerySet[Any] | None = field(default=None, repr=False)
    query: dict[str, str] = field(default_factory=dict)

    @cached_property
    def count(self) -> ApproximateCount:
        assert self.queryset is not None
        return approximate_count(self.queryset)

    def _link(self, **extra: str) -> str:
        return "?" + urlencode({**self.query, **extra})

    @property
    def next_url(self) -> str:
        return self._link(after=self.next_cursor) if self.has_next else ""

    @property
    def previous_url(self) -> str:
        return self._link(before=self.previous_cursor) if self.has_previous else ""

    @property
    def first_url(self) -> str:
        return self._link()


def _flip(name: str) -> str:
    return name.removeprefix("-") if name.startswith("-") else f"-{name}"


def keyset_page(
    request: HttpRequest, queryset: QuerySet[Any], sorts: Sorts, *, per_page: int = PAGE_SIZE
) -> KeysetPage:
    """The page of ``queryset`` that the request's ``sort`` and ``after`` / ``before`` cursor ask for."""
    sort = sorts.pick(request.GET.get("sort"))
    model = queryset.model
    fields = [_column(model, name) for name, _ in sort.columns()]
    query = {k: str(v) for k, v in request.GET.items() if k not in ("after", "before") and v}
    if query.get("sort") == sorts.default.key:
        query.pop("sort")

    backwards = False
    values = None
    if token := request.GET.get("after"):
        values = _decode(token, fields)
    elif token := request.GET.get("before"):
        values = _decode(token, fields)
        backwards = values is not None

    order = [_flip(name) for name in sort.fields] if backwards else list(sort.fields)
    matching = queryset
    if values is not None:
        matching = matching.filter(after_condition(sort, model, values, backwards=backwards))
    # The page's ids first, from the listed table alone, then the joined rows of those ids only:
    # PostgreSQL joins before it limits, so a search matching 20 000 rows would otherwise join
    # (account, product, price…) all of them to keep 51. The queryset's select_related carries over;
    # per-row aggregates do not belong in a list's queryset anyway (see orders.selectors.with_line_totals).
    page_ids = matching.select_related(None).order_by(*order).values("pk")[: per_page + 1]
    fetch = model._default_manager.filter(pk__in=page_ids).order_by(*order)
    fetch.query.select_related = queryset.query.select_related
    rows = list(fetch)
    more = len(rows) > per_page
    rows = rows[:per_page]
    if backwards:
        rows.reverse()
        has_previous, has_next = more, True
    else:
        has_previous, has_next = values is not None, more

    def cursor(row: Any) -> str:
        return _encode([model_field.value_to_string(row) for model_field in fields])

    return KeysetPage(
        rows=rows,
        sort=sort,
        sorts=sorts,
        has_next=has_next and bool(rows),
        has_previous=has_previous and bool(rows),
        next_cursor=cursor(rows[-1]) if rows else "",
        previous_cursor=cursor(rows[0]) if rows else "",
        queryset=queryset,
        query=query,
    )


@dataclass(frozen=True)
class ApproximateCount:
    """How many rows match: exactly ``value``; or about ``value`` (the planner's estimate); or, when even
    the estimate is below what the capped count saw (estimates of searches can be far off), more than it."""

    value: int
    exact: bool
    at_least: bool = False

    def __int__(self) -> int:
        return self.value


def planner_estimate(queryset: QuerySet[Any]) -> int:
    """Rows the planner expects ``queryset`` to return (EXPLAIN, no execution): statistics, not a scan.
    Unfiltered, that is the table's pg_class.reltuples."""
    plan = json.loads(queryset.order_by().explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])


def approximate_count(queryset: QuerySet[Any], *, exact_limit: int = EXACT_COUNT_LIMIT) -> ApproximateCount:
    """Exact when at most ``exact_limit`` rows match (a capped count), else the planner's estimate."""
    capped = queryset.order_by().values("pk")[: exact_limit + 1].count()
    if capped <= exact_limit:
        return ApproximateCount(capped, exact=True)
    estimate = planner_estimate(queryset)
    if estimate <= exact_limit:
        return ApproximateCount(exact_limit, exact=False, at_least=True)
    return ApproximateCount(estimate, exact=False)


class EstimatedCountPaginator(Paginator):  # type: ignore[type-arg]
    """The admin's paginator without COUNT(*) over a big table: exact up to EXACT_COUNT_LIMIT, then estimated.

    Use it with ``show_full_result_count = False`` (which drops the admin's second, unfiltered count).
    """

    @cached_property
    def count(self) -> int:
        object_list = self.object_list
        if isinstance(object_list, QuerySet):
            return approximate_count(object_list).value
        return len(object_list)
