"""Reads for the customer inbox page: a page of items with its links and counts, the open alerts,
the reply templates an item can use."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Count, QuerySet, Window
from django.utils.translation import gettext_lazy as _

from core.pagination import EXACT_COUNT_LIMIT, ApproximateCount, Sort, Sorts
from reviews.inbox import (
    NEWEST,
    PAGE_SIZE,
    QUESTION,
    UNANSWERED_FIRST,
    InboxFilters,
    InboxItem,
    count_items,
    inbox_page,
    resolve_search,
)
from reviews.models import Alert, ReplyTemplate, Review

# The inbox's orders (reviews.inbox.inbox_page), each served by the inbox indexes.
REVIEW_SORTS = Sorts(
    Review,
    [
        Sort(UNANSWERED_FIRST, _("Unanswered first"), ("is_answered", "-published_at", "-id")),
        Sort(NEWEST, _("Newest first"), ("-published_at", "-id")),
    ],
)
ALERTS_SHOWN = 5


@dataclass
class InboxCounts:
    reviews: ApproximateCount
    questions: ApproximateCount

    @property
    def total(self) -> ApproximateCount:
        value = self.reviews.value + self.questions.value
        capped = self.reviews.at_least or self.questions.at_least
        return ApproximateCount(value, exact=not capped, at_least=capped)


def inbox_counts(filters: InboxFilters, *, cap: int = EXACT_COUNT_LIMIT) -> InboxCounts:
    """How many reviews and questions match, each exact up to `cap`, in one query."""
    reviews, questions = count_items(filters, cap=cap)

    def count(value: int) -> ApproximateCount:
        return ApproximateCount(min(value, cap), exact=value <= cap, at_least=value > cap)

    return InboxCounts(count(reviews), count(questions))


@dataclass
class InboxListPage:
    """A page of the inbox in the shape of core.pagination.KeysetPage (templates/includes/pagination.html)."""

    rows: list[InboxItem]
    sort: Sort
    sorts: Sorts
    next_cursor: str
    previous_cursor: str
    counts: InboxCounts
    query: dict[str, str] = field(default_factory=dict)
    # When the search found more cards than the inbox reads, how many it read (the page asks to narrow it).
    search_limit: int = 0

    @property
    def has_next(self) -> bool:
        return bool(self.next_cursor)

    @property
    def has_previous(self) -> bool:
        return bool(self.previous_cursor)

    @property
    def count(self) -> ApproximateCount:
        return self.counts.total

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


def inbox_list_page(
    filters: InboxFilters, query: dict[str, str], *, sort_key: str = UNANSWERED_FIRST, limit: int = PAGE_SIZE
) -> InboxListPage:
    """The page the query string asks for (`after` / `before` cursors), with its counts."""
    sort = REVIEW_SORTS.pick(sort_key)
    filters, too_broad = resolve_search(filters)  # once, for the page and the counts
    page = inbox_page(filters, after=query.get("after", ""), before=query.get("before", ""), limit=limit,
                      sort=sort.key)
    kept = {k: v for k, v in query.items() if k not in ("after", "before") and v}
    if kept.get("sort") == REVIEW_SORTS.default.key:
        kept.pop("sort")
    return InboxListPage(page.items, sort, REVIEW_SORTS, page.next_cursor, page.previous_cursor,
                         inbox_counts(filters), kept,
                         search_limit=len(filters.listing_ids or ()) if too_broad else 0)


def one_item(key: str) -> InboxItem | None:
    """One item of the inbox by its key ("review:12"), as the list shows it."""
    items = inbox_page(InboxFilters(item=key), limit=1).items
    return items[0] if items else None


def items_by_key(keys: list[str]) -> dict[str, InboxItem]:
    """Several items by their keys, in one query."""
    if not keys:
        return {}
    page = inbox_page(InboxFilters(items=tuple(keys)), limit=len(keys))
    return {item.key: item for item in page.items}


def open_alerts(limit: int = ALERTS_SHOWN) -> list[Alert]:
    """The newest unresolved alerts, each with the number of all unresolved ones (`open_total`)."""
    return list(
        Alert.objects.filter(resolved_at__isnull=True)
        .select_related("review", "product", "listing__product")
        .annotate(open_total=Window(Count("id")))
        .order_by("-created_at", "-id")[:limit]
    )


def reply_templates() -> QuerySet[ReplyTemplate]:
    return ReplyTemplate.objects.order_by("name")


@dataclass(frozen=True)
class TemplateRow:
    template: ReplyTemplate
    uses: int  # answers written from it
    example: str  # its text for an example buyer and product
    unknown: list[str]  # {names} it uses that are not variables


def templates_with_usage() -> list[TemplateRow]:
    from reviews.services import render_example, unknown_variables

    rows = ReplyTemplate.objects.annotate(uses=Count("answer")).order_by("name")
    return [TemplateRow(t, t.uses, render_example(t), unknown_variables(t.text)) for t in rows]


def templates_for(item: InboxItem, templates: list[ReplyTemplate]) -> list[ReplyTemplate]:
    """The templates meant for this item: questions' for a question, else those whose rating range
    takes the review's rating."""
    if item.kind == QUESTION:
        return [t for t in templates if t.for_questions]
    rating = item.rating
    return [
        t for t in templates
        if not t.for_questions and (rating is None or (
            (t.min_rating is None or t.min_rating <= rating) and (t.max_rating is None or rating <= t.max_rating)
        ))
    ]
