"""Suspicious-review flags: duplicate and near-duplicate texts, bursts on a card, prolific authors.

Each flag is stored on the review as {code: evidence} (Review.flags) and worded, translatably, only
when shown (flag_reasons). `refresh_flags` recomputes the flags of the given reviews and of the
reviews they implicate (the other copies of a text, the card's reviews of the same day, the
author's reviews of the window); the reviews ingest calls it after each page, the
`recompute_review_flags` command over everything.

The thresholds are settings (REVIEW_FLAG_*) with the defaults below.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from reviews.models import Review

DUPLICATE = "duplicate"
NEAR_DUPLICATE = "near_duplicate"
BURST = "burst"
AUTHOR = "author"
CODES = (DUPLICATE, NEAR_DUPLICATE, BURST, AUTHOR)

# Names the marketplaces show instead of a hidden buyer's: never one author.
ANONYMOUS_AUTHORS = frozenset({"покупатель", "пользователь", "аноним", "анонимный покупатель", "покупатель ozon"})
TIME_ZONE = "Europe/Moscow"  # a "day" of a burst is the sellers' day
CHUNK = 2000


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, f"REVIEW_FLAG_{name}", default)


def min_text_length() -> int:
    """Shorter normalised texts ("Всё отлично, спасибо") repeat honestly and are not compared."""
    return int(_setting("MIN_TEXT_LENGTH", 40))


# ---------------------------------------------------------------------------------------------
# Texts


def normalise(*parts: str) -> str:
    """Case, ё, punctuation and spacing removed: the words a copy keeps."""
    text = " ".join(part for part in parts if part).casefold().replace("ё", "е")
    return " ".join("".join(ch if ch.isalnum() else " " for ch in text).split())


def text_hash(*parts: str) -> str:
    text = normalise(*parts)
    if len(text) < min_text_length():
        return ""
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


# Near-duplicates are found by MinHash over character 5-grams, banded for locality-sensitive
# hashing: texts sharing a band value are candidates (a GIN index on the bands finds them among
# all reviews), which pg_trgm's similarity() then measures. 8 bands of 4 rows make a pair with a
# 5-gram Jaccard similarity of 0.7 a candidate 9 times in 10, one of 0.1 once in 10,000.
SHINGLE = 5
BANDS, ROWS = 8, 4
_rng = np.random.default_rng(20261203)  # fixed: stored bands must stay comparable
_MUL = _rng.integers(1, 2**63, size=BANDS * ROWS, dtype=np.uint64) | np.uint64(1)
_ADD = _rng.integers(0, 2**63, size=BANDS * ROWS, dtype=np.uint64)


def text_bands(*parts: str) -> list[int] | None:
    """The LSH band values of a text (None when too short to compare)."""
    text = normalise(*parts)
    if len(text) < min_text_length():
        return None
    shingles = {text[i : i + SHINGLE] for i in range(len(text) - SHINGLE + 1)}
    hashes = np.fromiter(
        (int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "little") for s in shingles),
        dtype=np.uint64, count=len(shingles),
    )
    # Multiply-shift hashing: uint64 arithmetic wraps, which is the modulus it relies on.
    signature = ((_MUL[:, None] * hashes[None, :] + _ADD[:, None]) >> np.uint64(32)).min(axis=1)
    return [
        int.from_bytes(
            hashlib.blake2b(bytes([band]) + signature[band * ROWS : (band + 1) * ROWS].tobytes(), digest_size=8)
            .digest(), "little", signed=True,
        )
        for band in range(BANDS)
    ]


def _update_text_hashes(ids: Sequence[int]) -> None:
    changed = []
    for review in Review.objects.filter(pk__in=ids).only("id", "text", "pros", "cons", "text_hash", "text_bands"):
        parts = (review.text, review.pros, review.cons)
        value, bands = text_hash(*parts), text_bands(*parts)
        if value != review.text_hash or bands != review.text_bands:
            changed.append({"id": review.pk, "hash": value, "bands": bands})
    if changed:
        # One statement for the chunk (bulk_update's CASE per row grows with the chunk squared).
        _rows(
            """
            UPDATE reviews_review r SET text_hash = v.hash, text_bands = v.bands
            FROM jsonb_to_recordset(%(rows)s::jsonb) AS v(id bigint, hash text, bands bigint[])
            WHERE r.id = v.id RETURNING r.id
            """,
            {"rows": json.dumps(changed)},
        )


# ---------------------------------------------------------------------------------------------
# Finding the evidence. Each finder returns (evidence for reviews whose flag is decided anew,
# evidence for other reviews it implicates: added when they do not have that flag yet).

Evidence = dict[int, dict[str, Any]]


def _rows(sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _duplicates(ids: Sequence[int]) -> tuple[Evidence, Evidence]:
    rows = _rows(
        """
        WITH h AS (SELECT DISTINCT text_hash FROM reviews_review WHERE id = ANY(%(ids)s) AND text_hash <> '')
        SELECT c.id, c.others
        FROM h CROSS JOIN LATERAL (
            -- Per hash, a probe of the partial index (LATERAL: whatever the statistics say).
            SELECT r.id, count(*) OVER () - 1 AS others
            FROM reviews_review r WHERE r.text_hash = h.text_hash AND r.text_hash <> ''
        ) c
        """,
        {"ids": list(ids)},
    )
    found = {review_id: {"count": others} for review_id, others in rows if others > 0}
    # The other copies' counts are exact too, so they are decided anew as well.
    return found, {}


def _near_duplicates(ids: Sequence[int]) -> tuple[Evidence, Evidence]:
    """Texts sharing an LSH band that pg_trgm finds similar but are not the same text."""
    threshold = float(_setting("SIMILARITY", 0.7))
    rows = _rows(
        """
        WITH n AS (
            SELECT id, text_bands, text_hash, lower(concat_ws(' ', text, pros, cons)) AS body
            FROM reviews_review
            WHERE id = ANY(%(ids)s) AND text_bands IS NOT NULL
        )
        SELECT n.id, c.id, c.published_at, c.similarity
        FROM n CROSS JOIN LATERAL (
            -- Per review, a probe of the GIN index on the bands (LATERAL: whatever the statistics say).
            SELECT o.id, o.published_at, similarity(n.body, lower(concat_ws(' ', o.text, o.pros, o.cons))) AS similarity
            FROM reviews_review o
            WHERE o.text_bands && n.text_bands AND o.id <> n.id AND o.text_hash <> n.text_hash
            -- Bounded: where many texts share bands (templated reviews), measuring every candidate
            -- made the reviews sync quadratic; a near-duplicate needs only one match to be flagged.
            LIMIT %(candidates)s
        ) c
        WHERE c.similarity >= %(threshold)s
        ORDER BY 4 DESC
        """,
        {"ids": list(ids), "threshold": threshold, "candidates": int(_setting("CANDIDATES", 20))},
    )
    found: Evidence = {}
    implicated: Evidence = {}
    published = dict(Review.objects.filter(pk__in={row[0] for row in rows}).values_list("id", "published_at"))
    for review_id, other_id, other_published, similarity in rows:  # most similar first
        percent = round(similarity * 100)
        found.setdefault(review_id, {"review": other_id, "published_at": other_published.isoformat(),
                                     "similarity": percent})
        implicated.setdefault(other_id, {"review": review_id, "published_at": published[review_id].isoformat(),
                                         "similarity": percent})
    return found, implicated


def _bursts(ids: Sequence[int]) -> tuple[Evidence, Evidence]:
    """A card's reviews of one day, when that day has many more than the card's usual rate
    (its reviews per day over the 90 days before)."""
    minimum, factor, usual_days = int(_setting("BURST_MIN", 5)), float(_setting("BURST_FACTOR", 5)), 90
    rows = _rows(
        """
        WITH d AS (
            SELECT DISTINCT listing_id, (published_at AT TIME ZONE %(tz)s)::date AS day
            FROM reviews_review WHERE id = ANY(%(ids)s) AND listing_id IS NOT NULL
        ), b AS (
            SELECT listing_id, day,
                   (day::timestamp AT TIME ZONE %(tz)s) AS starts,
                   ((day + 1)::timestamp AT TIME ZONE %(tz)s) AS ends,
                   ((day - %(usual_days)s)::timestamp AT TIME ZONE %(tz)s) AS usual_from
            FROM d
        ), c AS (
            SELECT b.*,
                   (SELECT count(*) FROM reviews_review r
                    WHERE r.listing_id = b.listing_id AND r.published_at >= b.starts AND r.published_at < b.ends) AS n,
                   (SELECT count(*) FROM reviews_review r
                    WHERE r.listing_id = b.listing_id AND r.published_at >= b.usual_from
                      AND r.published_at < b.starts) AS before
            FROM b
        )
        SELECT r.id, c.day, c.n, c.before
        FROM c JOIN reviews_review r
          ON r.listing_id = c.listing_id AND r.published_at >= c.starts AND r.published_at < c.ends
        """,
        {"ids": list(ids), "tz": TIME_ZONE, "usual_days": usual_days},
    )
    found: Evidence = {}
    for review_id, day, count, before in rows:
        usual = before / usual_days
        if count >= max(minimum, factor * usual):
            found[review_id] = {"count": count, "day": day.isoformat(), "usual": round(usual, 2)}
    # Every review of a touched day was read, so all are decided anew.
    return found, {}


def _authors(ids: Sequence[int]) -> tuple[Evidence, Evidence]:
    """An author with many reviews in the account in the 30 days up to a review, against that
    name's usual rate (its reviews over the year before): a common first name is common."""
    minimum, factor, days, usual_days = int(_setting("AUTHOR_MIN", 5)), float(_setting("AUTHOR_FACTOR", 4)), 30, 365
    rows = _rows(
        """
        WITH s AS (
            SELECT id, account_id, lower(author) AS name, published_at
            FROM reviews_review
            WHERE id = ANY(%(ids)s) AND author <> '' AND NOT (lower(author) = ANY(%(anonymous)s))
        ), c AS (
            SELECT s.*,
                   (SELECT count(*) FROM reviews_review r
                    WHERE r.account_id = s.account_id AND lower(r.author) = s.name
                      AND r.published_at > s.published_at - make_interval(days => %(days)s)
                      AND r.published_at <= s.published_at) AS n,
                   (SELECT count(*) FROM reviews_review r
                    WHERE r.account_id = s.account_id AND lower(r.author) = s.name
                      AND r.published_at > s.published_at - make_interval(days => %(days)s + %(usual_days)s)
                      AND r.published_at <= s.published_at - make_interval(days => %(days)s)) AS before
            FROM s
        )
        SELECT c.id, r.id, c.n, c.before
        FROM c JOIN reviews_review r
          ON r.account_id = c.account_id AND lower(r.author) = c.name
         AND r.published_at > c.published_at - make_interval(days => %(days)s) AND r.published_at <= c.published_at
        """,
        {"ids": list(ids), "anonymous": sorted(ANONYMOUS_AUTHORS), "days": days, "usual_days": usual_days},
    )
    found: Evidence = {}
    implicated: Evidence = {}
    for review_id, window_review_id, count, before in rows:
        usual = before * days / usual_days
        if count >= max(minimum, factor * usual):
            evidence = {"count": count, "days": days, "usual": round(usual, 2)}
            found[review_id] = evidence
            if window_review_id != review_id:
                implicated.setdefault(window_review_id, evidence)
    return found, implicated


FINDERS = {DUPLICATE: _duplicates, NEAR_DUPLICATE: _near_duplicates, BURST: _bursts, AUTHOR: _authors}


# ---------------------------------------------------------------------------------------------
# Storing


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def refresh_flags(review_ids: Iterable[int] | None = None) -> int:
    """Recompute the flags of these reviews (None: all) and those they implicate; returns the
    number of reviews whose flags changed."""
    if review_ids is None:
        ids = list(Review.objects.order_by("id").values_list("id", flat=True))
    else:
        ids = sorted(set(review_ids))
    changed = 0
    for chunk in _chunks(ids):
        changed += _refresh_chunk(chunk)
    return changed


def _refresh_chunk(ids: Sequence[int]) -> int:
    _update_text_hashes(ids)
    decided: dict[int, dict[str, Any]] = defaultdict(dict)  # review -> {code: evidence}
    redecided: dict[str, set[int]] = {}  # code -> reviews whose flag of that code is set or cleared
    added: dict[int, dict[str, Any]] = defaultdict(dict)
    for code, finder in FINDERS.items():
        found, implicated = finder(ids)
        redecided[code] = set(ids) | set(found)
        for review_id, evidence in found.items():
            decided[review_id][code] = evidence
        for review_id, evidence in implicated.items():
            if review_id not in redecided[code]:
                added[review_id][code] = evidence
    touched = set(ids) | set(decided) | set(added)
    reviews = Review.objects.filter(pk__in=touched).only("id", "flags")
    changed = []
    for review in reviews:
        flags = dict(review.flags)
        for code in CODES:
            if review.pk in redecided[code]:
                flags.pop(code, None)
                if code in decided.get(review.pk, {}):
                    flags[code] = decided[review.pk][code]
            elif code in added.get(review.pk, {}) and code not in flags:
                flags[code] = added[review.pk][code]
        if flags != review.flags:
            review.flags = flags
            changed.append(review)
    if changed:
        _rows(
            """
            UPDATE reviews_review r SET flags = v.flags
            FROM jsonb_to_recordset(%(rows)s::jsonb) AS v(id bigint, flags jsonb)
            WHERE r.id = v.id RETURNING r.id
            """,
            {"rows": json.dumps([{"id": review.pk, "flags": review.flags} for review in changed])},
        )
    return len(changed)


# ---------------------------------------------------------------------------------------------
# Wording (at display time, in the reader's language)


def _date(value: str) -> str:
    """An ISO date, or an ISO time shown as the reader's date."""
    parsed = timezone.localtime(datetime.fromisoformat(value)).date() if "T" in value else date.fromisoformat(value)
    return date_format(parsed, "SHORT_DATE_FORMAT")


# A usual rate that rounds to "0,0" is worded as "hardly any before", not as a figure.
RARE = 0.05


def flag_reasons(flags: dict[str, Any]) -> list[str]:
    """One sentence per flag, saying why the review looks suspicious."""
    reasons = []
    if evidence := flags.get(DUPLICATE):
        count = evidence["count"]
        reasons.append(ngettext(
            "The same text is in %(count)s other review.",
            "The same text is in %(count)s other reviews.",
            count,
        ) % {"count": count})
    if evidence := flags.get(NEAR_DUPLICATE):
        reasons.append(_("The text is %(similarity)s%% like the review of %(date)s.") % {
            "similarity": evidence["similarity"], "date": _date(evidence["published_at"]),
        })
    if (evidence := flags.get(BURST)) and evidence["usual"] < RARE:
        count = evidence["count"]
        reasons.append(ngettext(
            "%(count)s review of this product on %(day)s, while it hardly got any before.",
            "%(count)s reviews of this product on %(day)s, while it hardly got any before.",
            count,
        ) % {"count": count, "day": _date(evidence["day"])})
    elif evidence:
        count = evidence["count"]
        reasons.append(ngettext(
            "%(count)s review of this product on %(day)s, against %(usual)s a day usually.",
            "%(count)s reviews of this product on %(day)s, against %(usual)s a day usually.",
            count,
        ) % {"count": count, "day": _date(evidence["day"]), "usual": number_format(evidence["usual"], 1)})
    if (evidence := flags.get(AUTHOR)) and evidence["usual"] < RARE:
        count = evidence["count"]
        reasons.append(ngettext(
            "The author wrote %(count)s review in %(days)s days and hardly any before.",
            "The author wrote %(count)s reviews in %(days)s days and hardly any before.",
            count,
        ) % {"count": count, "days": evidence["days"]})
    elif evidence:
        count = evidence["count"]
        reasons.append(ngettext(
            "The author wrote %(count)s review in %(days)s days, against %(usual)s usually.",
            "The author wrote %(count)s reviews in %(days)s days, against %(usual)s usually.",
            count,
        ) % {"count": count, "days": evidence["days"], "usual": number_format(evidence["usual"], 1)})
    return reasons

