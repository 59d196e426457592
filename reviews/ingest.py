"""Bulk ingest of pulled reviews and questions (called inside the page's transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from django.db import connection

from core.bulk import Upsert, UpsertCounts, dedupe_last, upsert
from integrations.base import ListingDTO, QuestionDTO, ReviewDTO
from reviews.checks import after_reviews_page, after_reviews_stored

# A review names its item by seller article and/or the marketplace's item id (sku / nmID): the
# article's listing, else the oldest listing whose marketplace sku or external id is that sku.
# The sku side is one hash join over the account's listings per batch, not a scan per row (no
# index serves `marketplace_sku = x OR external_id = x`).
_LISTING_OF_ITEM = "coalesce(by_offer.id, by_sku.id) AS listing_id"
_LISTING_JOINS = """
    LEFT JOIN LATERAL (
        SELECT l.id FROM catalog_listing l
        WHERE l.account_id = %(account)s AND s.offer_id <> '' AND l.offer_id = s.offer_id ORDER BY l.id LIMIT 1
    ) by_offer ON true
    LEFT JOIN (
        SELECT k.sku, min(k.id) AS id FROM (
            SELECT l.marketplace_sku AS sku, l.id FROM catalog_listing l WHERE l.account_id = %(account)s
            UNION ALL
            SELECT l.external_id, l.id FROM catalog_listing l WHERE l.account_id = %(account)s
        ) k GROUP BY k.sku
    ) by_sku ON s.sku <> '' AND by_sku.sku = s.sku
"""

_REVIEW_FIELDS = [
    "offer_id", "sku", "rating", "text", "pros", "cons", "author", "photos_count", "published_at", "raw_status",
    "is_answered", "answer_text",
]
_REVIEW = Upsert(
    table="reviews_review",
    stage=list(
        zip(
            ["external_id", *_REVIEW_FIELDS],
            ["text", "text", "text", "integer", "text", "text", "text", "text", "integer", "timestamptz", "text",
             "boolean", "text"],
            strict=True,
        )
    ),
    insert=["account_id", "external_id", "listing_id", *_REVIEW_FIELDS],
    source=f"""
        SELECT %(account)s::bigint AS account_id, s.external_id, {_LISTING_OF_ITEM},
               {", ".join("s." + f for f in _REVIEW_FIELDS)}
        FROM {{stage}} s {_LISTING_JOINS}
    """,  # noqa: S608 - constant identifiers; values are parameters
    conflict=["account_id", "external_id"],
    compare=["listing_id", *_REVIEW_FIELDS],
    on_insert=["created_at", "updated_at"],
    on_update=["updated_at"],
)


def ingest_reviews(account_id: int, reviews: Sequence[ReviewDTO]) -> UpsertCounts:
    rows = dedupe_last(
        (
            (r.external_id, r.offer_id[:255], r.sku[:100], r.rating, r.text, r.pros, r.cons, r.author[:200],
             r.photos_count, r.published_at, r.raw_status[:64], r.is_answered, r.answer_text)
            for r in reviews
        ),
        key=lambda r: r[0],
    )
    counts, written = upsert(replace(_REVIEW, params={"account": account_id}), rows, returning=["external_id"])
    # Flags run once after the stream's run (streams._flag_reviews), on what it changed.
    after_reviews_page([review_id for review_id, _ in written])
    return counts


_QUESTION_FIELDS = ["offer_id", "sku", "text", "author", "published_at", "raw_status", "is_answered", "answer_text"]
_QUESTION = Upsert(
    table="reviews_question",
    stage=list(
        zip(
            ["external_id", *_QUESTION_FIELDS],
            ["text", "text", "text", "text", "text", "timestamptz", "text", "boolean", "text"],
            strict=True,
        )
    ),
    insert=["account_id", "external_id", "listing_id", *_QUESTION_FIELDS],
    source=f"""
        SELECT %(account)s::bigint AS account_id, s.external_id, {_LISTING_OF_ITEM},
               {", ".join("s." + f for f in _QUESTION_FIELDS)}
        FROM {{stage}} s {_LISTING_JOINS}
    """,  # noqa: S608 - constant identifiers; values are parameters
    conflict=["account_id", "external_id"],
    compare=["listing_id", *_QUESTION_FIELDS],
    on_insert=["created_at", "updated_at"],
    on_update=["updated_at"],
)


def ingest_questions(account_id: int, questions: Sequence[QuestionDTO]) -> UpsertCounts:
    rows = dedupe_last(
        (
            (q.external_id, q.offer_id[:255], q.sku[:100], q.text, q.author[:200], q.published_at,
             q.raw_status[:64], q.is_answered, q.answer_text)
            for q in questions
        ),
        key=lambda r: r[0],
    )
    counts, _ = upsert(replace(_QUESTION, params={"account": account_id}), rows)
    return counts


# The listing ingest would give a row now (the rule above, row by row through indexes).
_LISTING_OF_WAITING = """
    coalesce(
        (SELECT l.id FROM catalog_listing l
         WHERE l.account_id = %(account)s AND w.offer_id <> '' AND l.offer_id = w.offer_id ORDER BY l.id LIMIT 1),
        least(
            (SELECT min(l.id) FROM catalog_listing l
             WHERE l.account_id = %(account)s AND w.sku <> '' AND l.marketplace_sku = w.sku),
            (SELECT min(l.id) FROM catalog_listing l
             WHERE l.account_id = %(account)s AND w.sku <> '' AND l.external_id = w.sku)
        )
    )
"""


def link_waiting_feedback_to_listings(account_id: int, listings: Sequence[ListingDTO]) -> None:
    """Reviews and questions stored before their listing (the streams run as independent tasks)
    get it when the listings stream stores it, as their ingest would have linked them: they are
    re-read only when they change. Partial indexes hold only the rows still waiting, so a page
    whose listings nobody waits for costs a few index probes."""
    offers = sorted({item.offer_id for item in listings if item.offer_id})
    skus = sorted({sku for item in listings for sku in (item.marketplace_sku, item.external_id) if sku})
    if not offers and not skus:
        return
    params: dict[str, Any] = {"account": account_id, "offers": offers, "skus": skus}
    with connection.cursor() as cursor:
        # Usually nothing waits: two index probes then spare sending the page's ids twice.
        cursor.execute(
            """
            SELECT EXISTS (SELECT 1 FROM reviews_review WHERE account_id = %(account)s AND listing_id IS NULL),
                   EXISTS (SELECT 1 FROM reviews_question WHERE account_id = %(account)s AND listing_id IS NULL)
            """,
            params,
        )
        waiting = cursor.fetchone()
        for table, any_waiting in zip(("reviews_review", "reviews_question"), waiting, strict=True):
            if not any_waiting:
                continue
            cursor.execute(
                f"""
                UPDATE {table} r SET listing_id = x.listing_id, updated_at = statement_timestamp()
                FROM (
                    SELECT w.id, {_LISTING_OF_WAITING} AS listing_id
                    FROM {table} w
                    WHERE w.account_id = %(account)s AND w.listing_id IS NULL
                      AND (w.offer_id = ANY(%(offers)s) OR w.sku = ANY(%(skus)s))
                ) x
                WHERE r.id = x.id AND x.listing_id IS NOT NULL
                RETURNING r.id
                """,  # noqa: S608 - constant identifiers; values are parameters
                params,
            )
            if table == "reviews_review":  # a card's flags and alerts count them from now on
                after_reviews_stored([row[0] for row in cursor.fetchall()])
