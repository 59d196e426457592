"""Alerts on customers' feedback: a new low-rated review, a product's rating dropping.

Raised by the reviews ingest after each page (`check_reviews`, for the reviews of the page) and
by the `recompute_review_flags --alerts` command (`check_rating_drops` over every product with
recent reviews). Each alert has a deduplication key, so re-reading a page or running both never
raises one twice: one per review, one per product (or card without a product) per month.

Settings (defaults below): REVIEW_ALERT_LOW_RATING (a rating at or under it alerts),
REVIEW_ALERT_MAX_AGE_DAYS (older reviews, e.g. a first sync's history, do not),
REVIEW_ALERT_DROP (fall of the 30-day average against the 30 days before),
REVIEW_ALERT_MIN_AVERAGE (a 30-day average under it alerts), REVIEW_ALERT_MIN_REVIEWS (per window).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from notifications.kinds import Kind, Severity
from notifications.services import notify
from reviews.models import Alert, Review

WINDOW_DAYS = 30


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, f"REVIEW_ALERT_{name}", default)


def low_rating() -> int:
    return int(_setting("LOW_RATING", 2))


def check_reviews(review_ids: Iterable[int], *, now: datetime | None = None) -> int:
    """Alerts for these (just stored) reviews: low ratings, and their products' rating windows."""
    ids = sorted(set(review_ids))
    if not ids:
        return 0
    now = now or timezone.now()
    return _low_ratings(ids, now) + check_rating_drops(review_ids=ids, now=now)


def _low_ratings(ids: list[int], now: datetime) -> int:
    since = now - timedelta(days=int(_setting("MAX_AGE_DAYS", 7)))
    reviews = Review.objects.filter(
        pk__in=ids, rating__isnull=False, rating__lte=low_rating(), published_at__gte=since, is_answered=False
    ).select_related("listing").only("id", "rating", "listing_id", "listing__product_id")
    alerts = [
        Alert(
            kind=Alert.Kind.LOW_RATING,
            severity=Alert.Severity.CRITICAL if review.rating == 1 else Alert.Severity.WARNING,
            review=review,
            listing_id=review.listing_id,
            product_id=review.listing.product_id if review.listing else None,
            key=f"low_rating:review:{review.pk}",
            details={"rating": review.rating},
        )
        for review in reviews
    ]
    return _create(alerts)


def _create(alerts: list[Alert]) -> int:
    if not alerts:
        return 0
    existing = set(Alert.objects.filter(key__in=[a.key for a in alerts]).values_list("key", flat=True))
    new_keys = {a.key for a in alerts} - existing
    if not new_keys:
        return 0
    with transaction.atomic():
        # A concurrent page may raise the same key between the read and the insert: the unique key
        # wins, and notify() drops the second message of the same subject.
        Alert.objects.bulk_create([a for a in alerts if a.key in new_keys], ignore_conflicts=True)
        raised = Alert.objects.filter(key__in=new_keys).select_related("review", "product", "listing__product")
        for alert in raised:
            notify_low_rating(alert)
    return len(new_keys)


_RATING_WINDOWS = """
    WITH g AS (
        SELECT DISTINCT l.product_id, CASE WHEN l.product_id IS NULL THEN l.id END AS listing_id
        FROM reviews_review r JOIN catalog_listing l ON l.id = r.listing_id
        WHERE r.rating IS NOT NULL AND r.published_at >= %(current_from)s AND r.published_at < %(now)s
          {scope}
    )
    SELECT g.product_id, g.listing_id, s.current_avg, s.current_n, s.previous_avg, s.previous_n
    FROM g, LATERAL (
        SELECT avg(r.rating) FILTER (WHERE r.published_at >= %(current_from)s) AS current_avg,
               count(*) FILTER (WHERE r.published_at >= %(current_from)s) AS current_n,
               avg(r.rating) FILTER (WHERE r.published_at < %(current_from)s) AS previous_avg,
               count(*) FILTER (WHERE r.published_at < %(current_from)s) AS previous_n
        FROM reviews_review r
        WHERE r.listing_id = ANY(ARRAY(
                SELECT l.id FROM catalog_listing l WHERE l.product_id = g.product_id
                UNION ALL SELECT g.listing_id WHERE g.listing_id IS NOT NULL))
          AND r.rating IS NOT NULL AND r.published_at >= %(previous_from)s AND r.published_at < %(now)s
    ) s
"""


def check_rating_drops(*, review_ids: list[int] | None = None, now: datetime | None = None) -> int:
    """A product's 30-day average rating fell by REVIEW_ALERT_DROP against the 30 days before, or
    is under REVIEW_ALERT_MIN_AVERAGE; for the products of these reviews (None: every product
    with reviews in the last 30 days). Cards not linked to a product count on their own."""
    now = now or timezone.now()
    drop = Decimal(str(_setting("DROP", "0.3")))
    floor = Decimal(str(_setting("MIN_AVERAGE", "3.5")))
    minimum = int(_setting("MIN_REVIEWS", 5))
    current_from = now - timedelta(days=WINDOW_DAYS)
    params: dict[str, Any] = {
        "now": now, "current_from": current_from, "previous_from": current_from - timedelta(days=WINDOW_DAYS),
        "ids": review_ids or [],
    }
    scope = "AND r.id = ANY(%(ids)s)" if review_ids is not None else ""
    with connection.cursor() as cursor:
        cursor.execute(_RATING_WINDOWS.format(scope=scope), params)
        rows = cursor.fetchall()
    period = timezone.localtime(now).strftime("%Y-%m")
    alerts = []
    for product_id, listing_id, current_avg, current_n, previous_avg, previous_n in rows:
        if current_n < minimum:
            continue
        current = Decimal(current_avg).quantize(Decimal("0.01"))
        previous = Decimal(previous_avg).quantize(Decimal("0.01")) if previous_n >= minimum else None
        fell = previous is not None and previous - current >= drop
        if not fell and current >= floor:
            continue
        subject = f"product:{product_id}" if product_id else f"listing:{listing_id}"
        alerts.append(Alert(
            kind=Alert.Kind.RATING_DROP,
            severity=Alert.Severity.CRITICAL if current < floor else Alert.Severity.WARNING,
            product_id=product_id,
            listing_id=listing_id,
            key=f"rating_drop:{subject}:{period}",
            details={
                "current": str(current), "current_reviews": current_n,
                "previous": str(previous) if previous is not None else None, "previous_reviews": previous_n,
                "days": WINDOW_DAYS, "floor": str(floor),
            },
        ))
    return _create(alerts)


def resolve(alert: Alert, user: Any) -> Alert:
    if alert.resolved_at is None:
        alert.resolved_at = timezone.now()
        alert.resolved_by = user if getattr(user, "pk", None) else None
        alert.save(update_fields=["resolved_at", "resolved_by"])
    return alert


def notify_low_rating(alert: Alert) -> None:
    """A low-rated review or a product's falling rating (a reviews inbox alert): one message per
    alert key, linking to the review, or to the product's (card's) newest reviews, in the inbox.
    The alert comes with its review, product and listing__product loaded."""
    if alert.review_id:
        query = {"item": f"review:{alert.review_id}"}
    elif alert.product_id:
        query = {"kind": "review", "product": str(alert.product_id), "sort": "newest"}
    else:
        query = {"kind": "review", "listing": str(alert.listing_id), "sort": "newest"}
    listing = alert.listing
    product = alert.product or (listing.product if listing else None)
    name = product.name if product else (listing.title or listing.offer_id) if listing else ""
    with translation.override(settings.LANGUAGE_CODE):  # stored text, read by everyone
        message = alert.message
        text = alert.review.text.strip() if alert.review_id and alert.review else ""
        if text:
            message = f"{message} «{text[:200]}»"
        if alert.review_id:
            title = _("Low rating: %(name)s") % {"name": name} if name else _("Low rating")
        else:
            title = _("Rating dropping: %(name)s") % {"name": name} if name else _("Rating dropping")
    notify(
        Kind.LOW_RATING,
        alert.key,
        f"{name}: {message}" if name else message,
        link=f"{reverse('reviews:list')}?{urlencode(query)}",
        severity=Severity.CRITICAL if alert.severity == "critical" else Severity.WARNING,
        title=title,
        window=timedelta(days=31),
    )
