"""What runs on reviews just stored or changed: alerts with each page; suspicious-review flags
once after the reviews run (reviews.flags.refresh_account_flags), or at once for the few reviews
another stream changes (their listing found)."""

from __future__ import annotations

from collections.abc import Sequence

from reviews import alerts, flags


def after_reviews_page(review_ids: Sequence[int]) -> None:
    """Called inside the page's transaction by the reviews ingest: the alerts land with the page."""
    if review_ids:
        alerts.check_reviews(review_ids)


def after_reviews_stored(review_ids: Sequence[int]) -> None:
    """Called inside the transaction of a change outside the reviews stream: flags and alerts."""
    if review_ids:
        flags.refresh_flags(review_ids)
        alerts.check_reviews(review_ids)
