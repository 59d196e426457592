"""The customer inbox: reviews and questions of every account in one list, unanswered first, then
newest, read a page at a time by keyset (a cursor, never an OFFSET).

One query per page. Each table contributes at most two branches, one per answered state still to
read (unanswered, then answered), each ordered and limited to a page by an index that serves the
filter (see the inbox indexes on Review and Question), so the union never reads more than a few
pages of rows, however many reviews there are. The product's name and photo and the state of the
newest answer written here come in the same query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models import fields as model_fields
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, NullIf

from catalog.models import Listing
from reviews.flags import flag_reasons
from reviews.models import Answer, Question, Review

REVIEW = "review"
QUESTION = "question"
KINDS = (REVIEW, QUESTION)
# At one instant, reviews come before questions: the kind is part of the order (and the cursor).
_KIND_RANK = {REVIEW: 1, QUESTION: 0}
PAGE_SIZE = 50


@dataclass(frozen=True)
class InboxFilters:
    marketplace: str = ""
    account_id: int | None = None
    kind: str = ""  # REVIEW, QUESTION or "" for both
    rating: int | None = None  # reviews only
    answered: bool | None = None
    product_id: int | None = None
    flagged: bool = False  # reviews with a suspicious-review flag only


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
    flags: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The item's id in a selection (the bulk answer form): "review:12", "question:7"."""
        return f"{self.kind}:{self.id}"

    @property
    def flag_reasons(self) -> list[str]:
        return flag_reasons(self.flags)


@dataclass(frozen=True)
class InboxPage:
    items: list[InboxItem]
    next_cursor: str  # "" on the last page


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
        "i_answer_status": Coalesce(
            Subquery(answer_of.values("outbox__status")[:1]), nothing, output_field=text_field
        ),
        "i_answer_error": Coalesce(
            Subquery(answer_of.values("outbox__error_message")[:1]), nothing, output_field=text_field
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
    if filters.marketplace:
        rows = rows.filter(account__marketplace=filters.marketplace)
    if filters.account_id is not None:
        rows = rows.filter(account_id=filters.account_id)
    if filters.product_id is not None:
        rows = rows.filter(listing_id__in=Listing.objects.filter(product_id=filters.product_id).values("id"))
    if filters.rating is not None:
        rows = rows.filter(rating=filters.rating)
    if filters.flagged:
        rows = rows.exclude(flags={})
    return rows


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


def inbox_page(filters: InboxFilters, *, after: str = "", limit: int = PAGE_SIZE) -> InboxPage:
    cursor = _Cursor.decode(after) if after else None
    groups = [False, True] if filters.answered is None else [filters.answered]
    if cursor is not None:
        groups = [g for g in groups if g >= cursor.answered]
    branches = []
    for kind in KINDS:
        base = _branch_base(kind, filters)
        if base is None:
            continue
        for answered in groups:
            rows = base.filter(is_answered=answered)
            if cursor is not None and answered == cursor.answered:
                rows = rows.filter(_after(cursor, _KIND_RANK[kind]))
            branches.append(rows.order_by("-published_at", "-id").values(**_columns(kind))[: limit + 1])
    if not branches:
        return InboxPage([], "")
    if len(branches) == 1:
        rows = list(branches[0])  # already in the inbox's order
    else:
        union = branches[0].union(*branches[1:], all=True)
        rows = list(union.order_by("i_answered", "-i_published", "-i_rank", "-i_id")[: limit + 1])
    items = [_item(row) for row in rows[:limit]]
    next_cursor = ""
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = _Cursor(last["i_answered"], last["i_published"], last["i_rank"], last["i_id"]).encode()
    return InboxPage(items, next_cursor)


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
        answer_status=row["i_answer_status"],
        answer_error=row["i_answer_error"],
        flags=row["i_flags"] or {},
    )
