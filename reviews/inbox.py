"""The customer inbox: reviews and questions of every account in one list, unanswered first, then
newest, read a page at a time by keyset (a cursor, never an OFFSET).

One query per page. Each table contributes at most two branches, one per answered state still to
read (unanswered, then answered), each ordered and limited to a page by an index that serves the
filter (see the inbox indexes on Review and Question), so the union never reads more than a few
pages of rows, however many reviews there are. The product's name and photo and the state of the
newest answer written here come in the same query.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import F, Func, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models import fields as model_fields
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, JSONObject, NullIf

from catalog.filters import listing_search_ids
from catalog.models import Listing, Product
from core.filters import SUBSTRING_MIN_LENGTH
from core.models import Marketplace
from integrations.models import OutboxChange
from reviews.flags import flag_reasons
from reviews.models import Answer, Question, Review

REVIEW = "review"
QUESTION = "question"
KINDS = (REVIEW, QUESTION)
# At one instant, reviews come before questions: the kind is part of the order (and the cursor).
_KIND_RANK = {REVIEW: 1, QUESTION: 0}
PAGE_SIZE = 50
# A product search reads at most this many cards; a broader one asks the manager to narrow it.
SEARCH_CARDS_LIMIT = 10_000
# The two orders offered: unanswered first, then newest (the manager's day); or newest, answered or not.
UNANSWERED_FIRST = "unanswered"
NEWEST = "newest"


# An item's answer, as the page tells it: on its way to the marketplace; delivered (the marketplace
# accepted it, not yet read back); published (the marketplace shows the item answered); refused.
SENDING, SENT, PUBLISHED, REJECTED, FAILED = "sending", "sent", "published", "rejected", "failed"
ANSWER_STATES = (SENDING, SENT, PUBLISHED, REJECTED, FAILED)
IN_FLIGHT_STATES = (SENDING, SENT)  # the page asks again until these settle
_STATE_OF_STATUS: dict[str, str] = {
    OutboxChange.Status.PENDING: SENDING,
    OutboxChange.Status.SENDING: SENDING,
    OutboxChange.Status.SENT: SENT,
    OutboxChange.Status.APPLIED: SENT,  # delivered; "published" once the sync reads it back
    OutboxChange.Status.REJECTED: REJECTED,
    OutboxChange.Status.FAILED: FAILED,
}


@dataclass(frozen=True)
class InboxFilters:
    marketplace: str = ""
    account_id: int | None = None
    kind: str = ""  # REVIEW, QUESTION or "" for both
    rating: int | None = None  # reviews only
    answered: bool | None = None
    product_id: int | None = None
    flagged: bool = False  # reviews with a suspicious-review flag only
    listing_id: int | None = None  # the feedback on one card (its page links here)
    search: str = ""  # a product search: article, marketplace id, barcode, name or title
    # The cards that search found, read once per request (resolve_search) and used by every branch
    # of the page and of the counts; None until read.
    listing_ids: tuple[int, ...] | None = None
    item: str = ""  # one item by its key, "review:12" (an alert links to it)
    items: tuple[str, ...] = ()  # several items by their keys (a bulk answer's results)


@dataclass(frozen=True)
class InboxItem:
    kind: str
    id: int
    account_id: int
    account_name: str
    marketplace: str
    listing_id: int | None
    product_id: int | None
    product_name: str
    photo: str
    rating: int | None
    text: str
    pros: str
    cons: str
    author: str
    published_at: datetime
    is_answered: bool
    answer_text: str  # as the marketplace shows it (read back by the sync)
    answer_status: str  # the outbox status of the newest answer written here, "" if none
    answer_error: str  # the marketplace's message when that answer was rejected or failed
    sent_text: str = ""  # the text of that answer
    answer_confirmed: bool = False  # that answer was read back from the marketplace
    flags: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The item's id in a selection (the bulk answer form): "review:12", "question:7"."""
        return f"{self.kind}:{self.id}"

    @property
    def pk(self) -> int:
        return self.id

    @property
    def marketplace_label(self) -> str:
        return str(Marketplace(self.marketplace).label) if self.marketplace in Marketplace.values else self.marketplace

    @property
    def flag_reasons(self) -> list[str]:
        return flag_reasons(self.flags)

    @property
    def answer_state(self) -> str:
        """Where the answer stands, for the page: one of ANSWER_STATES, "" when there is none."""
        if self.is_answered:
            return PUBLISHED
        return _STATE_OF_STATUS.get(self.answer_status, "")


@dataclass(frozen=True)
class InboxPage:
    items: list[InboxItem]
    next_cursor: str  # "" on the last page
    previous_cursor: str = ""  # "" on the first page


@dataclass(frozen=True)
class _Cursor:
    answered: bool
    published_at: datetime
    rank: int
    id: int

    def encode(self) -> str:
        return f"{int(self.answered)}~{self.published_at.isoformat()}~{self.rank}~{self.id}"

    @classmethod
    def decode(cls, value: str) -> _Cursor | None:
        """A cursor from the query string; anything malformed starts from the top."""
        try:
            answered, published, rank, pk = value.split("~")
            published_at = datetime.fromisoformat(published)
            if answered not in ("0", "1") or rank not in ("0", "1") or published_at.tzinfo is None:
                return None
            return cls(answered == "1", published_at, int(rank), int(pk))
        except ValueError:
            return None


def _columns(kind: str) -> dict[str, Any]:
    """The same aliased columns, in the same order, from both tables (a union needs that)."""
    is_review = kind == REVIEW
    answer_of = Answer.objects.filter(**{kind: OuterRef("pk")}).order_by("-id")
    text_field = model_fields.TextField()
    nothing = Value("", output_field=text_field)
    return {
        "i_rank": Value(_KIND_RANK[kind], output_field=model_fields.IntegerField()),
        "i_id": F("id"),
        "i_account": F("account_id"),
        "i_account_name": F("account__name"),
        "i_marketplace": F("account__marketplace"),
        "i_listing": F("listing_id"),
        "i_product": F("listing__product_id"),
        "i_product_name": Coalesce(
            NullIf(F("listing__product__name"), nothing, output_field=text_field),
            NullIf(F("listing__title"), nothing, output_field=text_field), F("offer_id"),
            output_field=model_fields.TextField(),
        ),
        "i_photo": Coalesce(
            KeyTextTransform("0", "listing__product__images"), KeyTextTransform("0", "listing__images"), nothing,
            output_field=model_fields.TextField(),
        ),
        "i_rating": F("rating") if is_review else Value(None, output_field=model_fields.IntegerField()),
        "i_text": F("text"),
        "i_pros": F("pros") if is_review else nothing,
        "i_cons": F("cons") if is_review else nothing,
        "i_author": F("author"),
        "i_published": F("published_at"),
        "i_answered": F("is_answered"),
        "i_answer_text": F("answer_text"),
        # The newest answer written here, one subquery for all its fields.
        "i_answer": Subquery(
            answer_of.values(j=JSONObject(
                text="text", status="outbox__status", error="outbox__error_message",
                confirmed="outbox__confirmed_at", created="created_at",
            ))[:1],
            output_field=model_fields.json.JSONField(),
        ),
        "i_flags": F("flags") if is_review else Value({}, output_field=model_fields.json.JSONField()),
    }


def _branch_base(kind: str, filters: InboxFilters) -> QuerySet[Any] | None:
    model = Review if kind == REVIEW else Question
    rows: QuerySet[Any] = model.objects.all()
    if kind == QUESTION and (filters.rating is not None or filters.flagged):
        return None  # questions have neither a rating nor flags
    if filters.kind and filters.kind != kind:
        return None
    keys = (filters.item, *filters.items) if filters.item else filters.items
    if keys:
        ids = [int(pk) for item_kind, _sep, pk in (key.partition(":") for key in keys)
               if item_kind == kind and pk.isdigit()]
        if not ids:
            return None
        rows = rows.filter(pk__in=ids)
    if filters.marketplace:
        rows = rows.filter(account__marketplace=filters.marketplace)
    if filters.account_id is not None:
        rows = rows.filter(account_id=filters.account_id)
    if filters.product_id is not None:
        rows = rows.filter(listing_id__in=Listing.objects.filter(product_id=filters.product_id).values("id"))
    if filters.listing_id is not None:
        rows = rows.filter(listing_id=filters.listing_id)
    if filters.search:
        if filters.listing_ids is None:
            raise ValueError("resolve_search() first: the card search runs once per request")
        if not filters.listing_ids:
            return None
        rows = rows.filter(_AnyOf("listing_id", filters.listing_ids))
    if filters.rating is not None:
        rows = rows.filter(rating=filters.rating)
    if filters.flagged:
        rows = rows.exclude(flags={})
    return rows


class _AnyOf(Func):
    """`column = ANY(%s)`: the ids as one array parameter, however many (IN would make one per id)."""

    output_field = model_fields.BooleanField()

    def __init__(self, column: str, ids: tuple[int, ...]) -> None:
        super().__init__(F(column))
        # One text literal, joined once: an ArrayField value would prepare each of a broad search's
        # ~12k ids in Python, for every branch of the page and of its counts.
        self.array_literal = "{" + ",".join(map(str, ids)) + "}"

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, tuple[Any, ...]]:
        column, column_params = compiler.compile(self.get_source_expressions()[0])
        return f"{column} = ANY(%s::bigint[])", (*column_params, self.array_literal)


SEARCH_CACHE_SECONDS = 60


def resolve_search(filters: InboxFilters, *, limit: int | None = None) -> tuple[InboxFilters, bool]:
    """The filters with the search's cards read, in one query, and whether the search found more
    than `limit` cards (then only the first `limit` are kept and the page asks to narrow it).

    Without this each branch of the page and of the counts (reviews and questions, answered or not)
    would run the card search again as its own subquery: four to six times per request."""
    if not filters.search or filters.listing_ids is not None:
        return filters, False
    limit = SEARCH_CARDS_LIMIT if limit is None else limit
    # Kept a minute: the next page, the counts after an answer, the same search by a colleague read the
    # cards found instead of searching the catalogue again (a card added meanwhile shows a minute later).
    key = "inbox:search:" + hashlib.blake2b(f"{filters.search}\0{limit}".encode(), digest_size=16).hexdigest()
    ids = cache.get(key)
    if ids is None:
        found = (Listing.objects.filter(pk__in=searched_listing_ids(filters.search))
                 .order_by().values_list("pk", flat=True)[: limit + 1])
        ids = tuple(found)
        cache.set(key, ids, SEARCH_CACHE_SECONDS)
    return replace(filters, listing_ids=ids[:limit]), len(ids) > limit


def searched_listing_ids(term: str) -> QuerySet[Any]:
    """The cards a product search finds: the catalogue's card search (article, marketplace ids,
    barcodes, title) and the cards of the products whose name has the term; each on its index."""
    branches: list[QuerySet[Any]] = [listing_search_ids(term)]
    if len(term) >= SUBSTRING_MIN_LENGTH:
        named = Product.objects.filter(name__icontains=term).order_by().values("pk")
        branches.append(Listing.objects.filter(product_id__in=named).order_by().values("pk"))
    first, *rest = branches
    return first.union(*rest, all=True) if rest else first


def _after(cursor: _Cursor, rank: int) -> Q:
    """Rows of this branch that come after the cursor within the cursor's answered group."""
    if rank == cursor.rank:
        # The redundant bound is the index's range start; the OR only sorts out the instant's ties.
        return Q(published_at__lte=cursor.published_at) & (
            Q(published_at__lt=cursor.published_at) | Q(published_at=cursor.published_at, id__lt=cursor.id)
        )
    if rank < cursor.rank:  # this kind comes after the cursor's kind at the same instant
        return Q(published_at__lte=cursor.published_at)
    return Q(published_at__lt=cursor.published_at)


def _before(cursor: _Cursor, rank: int) -> Q:
    """Rows of this branch that come before the cursor within the cursor's answered group."""
    if rank == cursor.rank:
        return Q(published_at__gte=cursor.published_at) & (
            Q(published_at__gt=cursor.published_at) | Q(published_at=cursor.published_at, id__gt=cursor.id)
        )
    if rank > cursor.rank:  # this kind comes before the cursor's kind at the same instant
        return Q(published_at__gte=cursor.published_at)
    return Q(published_at__gt=cursor.published_at)


def inbox_page(
    filters: InboxFilters, *, after: str = "", before: str = "", limit: int = PAGE_SIZE, sort: str = UNANSWERED_FIRST
) -> InboxPage:
    """One page after the `after` cursor (or before the `before` one, for the "previous" link).
    `sort`: UNANSWERED_FIRST (then newest) or NEWEST (answered or not)."""
    filters, _too_broad = resolve_search(filters)
    backwards = not after and bool(before)
    cursor = _Cursor.decode(after or before) if (after or before) else None
    backwards = backwards and cursor is not None
    grouped = sort != NEWEST
    groups: list[bool | None] = [False, True] if filters.answered is None else [filters.answered]
    if not grouped:
        groups = [filters.answered]
    elif cursor is not None:
        after_cursor = cursor  # groups are bools here (grouped, so never None)
        groups = [g for g in groups if g is not None and (
            g <= after_cursor.answered if backwards else g >= after_cursor.answered)]
    order = ("published_at", "id") if backwards else ("-published_at", "-id")
    branches = []
    for kind in KINDS:
        base = _branch_base(kind, filters)
        if base is None:
            continue
        for answered in groups:
            branch = base if answered is None else base.filter(is_answered=answered)
            if cursor is not None and (not grouped or answered == cursor.answered):
                bound = _before if backwards else _after
                branch = branch.filter(bound(cursor, _KIND_RANK[kind]))
            branches.append(branch.order_by(*order).values(**_columns(kind))[: limit + 1])
    if not branches:
        return InboxPage([], "")
    rows: list[dict[str, Any]]
    if len(branches) == 1:
        rows = list(branches[0])  # already in the inbox's order
    else:
        union_order = ["-i_published", "-i_rank", "-i_id"]
        if grouped:
            union_order.insert(0, "i_answered")
        if backwards:
            union_order = [name[1:] if name.startswith("-") else f"-{name}" for name in union_order]
        union = branches[0].union(*branches[1:], all=True)
        rows = list(union.order_by(*union_order)[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
        has_next, has_previous = True, more
    else:
        has_next, has_previous = more, cursor is not None
    items = [_item(row) for row in rows]
    return InboxPage(
        items,
        next_cursor=_cursor_of(rows[-1]) if has_next and rows else "",
        previous_cursor=_cursor_of(rows[0]) if has_previous and rows else "",
    )


def count_items(filters: InboxFilters, *, cap: int) -> tuple[int, int]:
    """(reviews, questions) matching the filters, each counted up to cap + 1 (a capped count on the
    inbox indexes: an exact count of a large seller's reviews costs seconds), in one query."""
    filters, _too_broad = resolve_search(filters)
    parts: list[str] = []
    params: list[Any] = []
    for kind in KINDS:
        base = _branch_base(kind, filters)
        if base is None:
            parts.append("0")
            continue
        if filters.answered is not None:
            base = base.filter(is_answered=filters.answered)
        sql, sql_params = base.order_by().values("pk")[: cap + 1].query.sql_with_params()
        parts.append(f"(SELECT count(*) FROM ({sql}) capped)")  # noqa: S608 - Django's compiled SQL, values as params
        params.extend(sql_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        reviews, questions = cursor.fetchone()
    return reviews, questions


def _cursor_of(row: dict[str, Any]) -> str:
    return _Cursor(row["i_answered"], row["i_published"], row["i_rank"], row["i_id"]).encode()


def _item(row: dict[str, Any]) -> InboxItem:
    return InboxItem(
        kind=REVIEW if row["i_rank"] == _KIND_RANK[REVIEW] else QUESTION,
        id=row["i_id"],
        account_id=row["i_account"],
        account_name=row["i_account_name"],
        marketplace=row["i_marketplace"],
        listing_id=row["i_listing"],
        product_id=row["i_product"],
        product_name=row["i_product_name"],
        photo=row["i_photo"],
        rating=row["i_rating"],
        text=row["i_text"],
        pros=row["i_pros"],
        cons=row["i_cons"],
        author=row["i_author"],
        published_at=row["i_published"],
        is_answered=row["i_answered"],
        answer_text=row["i_answer_text"],
        answer_status=(row["i_answer"] or {}).get("status") or "",
        answer_error=(row["i_answer"] or {}).get("error") or "",
        sent_text=(row["i_answer"] or {}).get("text") or "",
        answer_confirmed=bool((row["i_answer"] or {}).get("confirmed")),
        flags=row["i_flags"] or {},
    )
