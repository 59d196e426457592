"""Suspicious-review flags: duplicate and near-duplicate texts, bursts on a card, prolific authors.

Each flag is stored on the review as {code: evidence} (Review.flags) and worded, translatably, only
when shown (flag_reasons). `refresh_flags` recomputes the flags of the given reviews and of the
reviews they implicate (the other copies of a text, the card's reviews of the same day, the
author's reviews of the window); the reviews stream calls it once after its run for the reviews
the run stored or changed (refresh_account_flags), the `recompute_review_flags` command over
everything.

The thresholds are settings (REVIEW_FLAG_*) with the defaults below.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
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
    return " ".join(_NOT_ALNUM.sub(" ", text).split())


_NOT_ALNUM = re.compile(r"[\W_]+")  # what str.isalnum() refuses, in one pass


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
    return list(_bands(text))


@functools.lru_cache(maxsize=4096)  # copies of one text (templated reviews) are banded once
def _bands(text: str) -> tuple[int, ...]:
    shingles = {text[i : i + SHINGLE] for i in range(len(text) - SHINGLE + 1)}
    hashes = np.fromiter((_shingle_hash(s) for s in shingles), dtype=np.uint64, count=len(shingles))
    # Multiply-shift hashing: uint64 arithmetic wraps, which is the modulus it relies on.
    signature = ((_MUL[:, None] * hashes[None, :] + _ADD[:, None]) >> np.uint64(32)).min(axis=1)
    return tuple(
        int.from_bytes(
            hashlib.blake2b(bytes([band]) + signature[band * ROWS : (band + 1) * ROWS].tobytes(), digest_size=8)
            .digest(), "little", signed=True,
        )
        for band in range(BANDS)
    )


@functools.lru_cache(maxsize=1 << 16)  # a language's 5-grams repeat: most are hashed once (~6 MB)
def _shingle_hash(shingle: str) -> int:
    return int.from_bytes(hashlib.blake2b(shingle.encode(), digest_size=8).digest(), "little")


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
# Finding the evidence, set-based over every review a set of changed reviews implicates. Each
# finder returns (the reviews whose flag of its code is decided anew, evidence of those flagged,
# evidence for other reviews it implicates: added when they do not have that flag yet). A finder
# reads each group it touches (a text's copies, a card's reviews, an author's reviews) once,
# whatever number of changed reviews share it: run per page over a first sync's templated texts
# and common names, they re-read the same groups on every page (quadratic).

Evidence = dict[int, dict[str, Any]]
Found = tuple[set[int], Evidence, Evidence]


def _rows(sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _duplicates(ids: Sequence[int]) -> Found:
    """Every copy of the changed reviews' texts, with the number of other copies."""
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
    return set(ids) | {review_id for review_id, _ in rows}, found, {}


def _near_duplicates(ids: Sequence[int]) -> Found:
    """Texts sharing an LSH band that pg_trgm finds similar but are not the same text: one probe
    per distinct text of the changed reviews (its copies share its bands and its match)."""
    threshold = float(_setting("SIMILARITY", 0.7))
    rows = _rows(
        """
        WITH n AS (
            SELECT DISTINCT ON (text_hash) id, text_hash, text_bands,
                   lower(concat_ws(' ', text, pros, cons)) AS body, published_at
            FROM reviews_review
            WHERE id = ANY(%(ids)s) AND text_bands IS NOT NULL
            ORDER BY text_hash, id
        )
        SELECT n.text_hash, n.id, n.published_at, c.id, c.published_at, c.similarity
        FROM n CROSS JOIN LATERAL (
            -- Per text, a probe of the GIN index on the bands (LATERAL: whatever the statistics say).
            SELECT o.id, o.published_at, similarity(n.body, lower(concat_ws(' ', o.text, o.pros, o.cons))) AS similarity
            FROM reviews_review o
            WHERE o.text_bands && n.text_bands AND o.text_hash <> n.text_hash
            -- Bounded: where many texts share bands (templated reviews), measuring every candidate
            -- is quadratic; a near-duplicate needs only one match to be flagged.
            LIMIT %(candidates)s
        ) c
        WHERE c.similarity >= %(threshold)s
        ORDER BY 6 DESC
        """,
        {"ids": list(ids), "threshold": threshold, "candidates": int(_setting("CANDIDATES", 20))},
    )
    best: dict[str, dict[str, Any]] = {}
    implicated: Evidence = {}
    for text, review_id, published, other_id, other_published, similarity in rows:  # most similar first
        percent = round(similarity * 100)
        best.setdefault(text, {"review": other_id, "published_at": other_published.isoformat(),
                               "similarity": percent})
        implicated.setdefault(other_id, {"review": review_id, "published_at": published.isoformat(),
                                         "similarity": percent})
    found: Evidence = {}
    if best:
        for review_id, text in Review.objects.filter(pk__in=list(ids), text_hash__in=list(best)).values_list(
            "id", "text_hash"
        ):
            found[review_id] = best[text]
    return set(ids), found, implicated


def _bursts(ids: Sequence[int]) -> Found:
    """A card's reviews of one day, when that day has many more than the card's usual rate (its
    reviews per day over the 90 days before): every day of the changed reviews' cards, each
    card's reviews read once."""
    minimum, factor, usual_days = int(_setting("BURST_MIN", 5)), float(_setting("BURST_FACTOR", 5)), 90
    rows = _rows(
        """
        WITH l AS (
            SELECT DISTINCT listing_id FROM reviews_review WHERE id = ANY(%(ids)s) AND listing_id IS NOT NULL
        ), r AS (
            SELECT x.id, l.listing_id, (x.published_at AT TIME ZONE %(tz)s)::date AS day
            FROM l CROSS JOIN LATERAL (
                SELECT id, published_at FROM reviews_review x WHERE x.listing_id = l.listing_id
            ) x
        ), d AS (
            SELECT listing_id, day, count(*) AS n FROM r GROUP BY 1, 2
        ), w AS (
            SELECT listing_id, day, n,
                   coalesce(sum(n) OVER (PARTITION BY listing_id ORDER BY day
                                         RANGE BETWEEN %(usual)s::interval PRECEDING AND '1 day' PRECEDING), 0)::bigint
                       AS before
            FROM d
        )
        SELECT r.id, w.day, w.n, w.before FROM r JOIN w USING (listing_id, day)
        """,
        {"ids": list(ids), "tz": TIME_ZONE, "usual": f"{usual_days} days"},
    )
    found: Evidence = {}
    for review_id, day, count, before in rows:
        usual = before / usual_days
        if count >= max(minimum, factor * usual):
            found[review_id] = {"count": count, "day": day.isoformat(), "usual": round(usual, 2)}
    return set(ids) | {row[0] for row in rows}, found, {}


def _authors(ids: Sequence[int]) -> Found:
    """An author with many reviews in the account in the 30 days up to a review, against that
    name's usual rate (its reviews over the year before): a common first name is common. Every
    review of the changed reviews' authors is decided, from window counts over each author's
    reviews read once; a review in the 30 days before a flagged one is flagged with its evidence."""
    minimum, factor, days, usual_days = int(_setting("AUTHOR_MIN", 5)), float(_setting("AUTHOR_FACTOR", 4)), 30, 365
    rows = _rows(
        """
        WITH a AS (
            SELECT DISTINCT account_id, lower(author) AS name FROM reviews_review
            WHERE id = ANY(%(ids)s) AND author <> '' AND NOT (lower(author) = ANY(%(anonymous)s))
        ), r AS (
            SELECT x.id, a.account_id, a.name, x.published_at
            FROM a CROSS JOIN LATERAL (
                SELECT id, published_at FROM reviews_review x
                WHERE x.account_id = a.account_id AND lower(x.author) = a.name
            ) x
        )
        -- The window (published_at - 30 days, published_at], and the year before it.
        SELECT id, account_id, name, published_at,
               count(*) OVER (PARTITION BY account_id, name ORDER BY published_at
                              RANGE BETWEEN %(window)s::interval PRECEDING AND CURRENT ROW) AS n,
               count(*) OVER (PARTITION BY account_id, name ORDER BY published_at
                              RANGE BETWEEN %(year)s::interval PRECEDING AND %(days)s::interval PRECEDING) AS before
        FROM r
        ORDER BY account_id, name, published_at
        """,
        {"ids": list(ids), "anonymous": sorted(ANONYMOUS_AUTHORS), "days": f"{days} days",
         "window": f"{days} days -1 microsecond", "year": f"{days + usual_days} days -1 microsecond"},
    )
    found: Evidence = {}
    by_author: dict[tuple[int, str], list[tuple[int, datetime, dict[str, Any] | None]]] = defaultdict(list)
    for review_id, account_id, name, published_at, count, before in rows:
        usual = before * days / usual_days
        evidence = ({"count": count, "days": days, "usual": round(usual, 2)}
                    if count >= max(minimum, factor * usual) else None)
        by_author[(account_id, name)].append((review_id, published_at, evidence))
    span = timedelta(days=days)
    for reviews in by_author.values():  # by time: each review takes the evidence of the first
        upcoming: list[tuple[datetime, dict[str, Any]]] = []  # flagged reviews at or after it, nearest last
        for review_id, published_at, evidence in reversed(reviews):
            if evidence is not None:
                upcoming.append((published_at, evidence))
            while upcoming and upcoming[-1][0] < published_at:
                upcoming.pop()
            # The nearest flagged review at or after it whose window (30 days up to it) holds it.
            if upcoming and upcoming[-1][0] - published_at < span:
                found[review_id] = evidence or upcoming[-1][1]
    return set(ids) | {row[0] for row in rows}, found, {}


FINDERS = {DUPLICATE: _duplicates, NEAR_DUPLICATE: _near_duplicates, BURST: _bursts, AUTHOR: _authors}


# ---------------------------------------------------------------------------------------------
# Storing


def refresh_flags(review_ids: Iterable[int] | None = None) -> int:
    """Recompute the flags of these reviews (None: all) and of the reviews they implicate, each
    group once; returns the number of reviews whose flags changed."""
    if review_ids is None:
        ids = list(Review.objects.order_by("id").values_list("id", flat=True))
    else:
        ids = sorted(set(review_ids))
    if not ids:
        return 0
    for start in range(0, len(ids), CHUNK):
        _update_text_hashes(ids[start : start + CHUNK])
    decided: dict[int, dict[str, Any]] = defaultdict(dict)  # review -> {code: evidence}
    redecided: dict[str, set[int]] = {}  # code -> reviews whose flag of that code is set or cleared
    added: dict[int, dict[str, Any]] = defaultdict(dict)
    for code, finder in FINDERS.items():
        redecided[code], found, implicated = finder(ids)
        for review_id, evidence in found.items():
            decided[review_id][code] = evidence
        for review_id, evidence in implicated.items():
            if review_id not in redecided[code]:
                added[review_id][code] = evidence
    touched = set().union(*redecided.values(), added)
    changed: list[dict[str, Any]] = []
    stored = Review.objects.filter(pk__in=sorted(touched)).values_list("id", "flags")
    for review_id, old in stored.iterator(chunk_size=CHUNK):
        flags = dict(old)
        for code in CODES:
            if review_id in redecided[code]:
                flags.pop(code, None)
                if code in decided.get(review_id, {}):
                    flags[code] = decided[review_id][code]
            elif code in added.get(review_id, {}) and code not in flags:
                flags[code] = added[review_id][code]
        if flags != old:
            changed.append({"id": review_id, "flags": flags})
    for start in range(0, len(changed), CHUNK):
        _rows(
            """
            UPDATE reviews_review r SET flags = v.flags
            FROM jsonb_to_recordset(%(rows)s::jsonb) AS v(id bigint, flags jsonb)
            WHERE r.id = v.id RETURNING r.id
            """,
            {"rows": json.dumps(changed[start : start + CHUNK])},
        )
    return len(changed)


def refresh_account_flags(account_id: int, changed_after: datetime | None) -> tuple[int, int, datetime | None]:
    """After a reviews run: the flags of the account's reviews stored or changed after
    `changed_after` (None: all of them) and of the reviews they implicate. Returns how many
    reviews had changed, on how many the flags changed, and the latest change taken (the next
    run's `changed_after`; the database's clock, so no clock of this machine is compared)."""
    reviews = Review.objects.filter(account_id=account_id)
    if changed_after is not None:
        reviews = reviews.filter(updated_at__gt=changed_after)
    rows = list(reviews.order_by().values_list("id", "updated_at"))
    through = max((updated_at for _, updated_at in rows), default=changed_after)
    return len(rows), refresh_flags([review_id for review_id, _ in rows]), through


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

